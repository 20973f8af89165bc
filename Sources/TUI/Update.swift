import Foundation
import Experiment

/// The whole behaviour of the UI: a message changes the state and may ask for effects. Pure: no I/O,
/// no clock, no randomness, so tests drive it with messages and look at the state.
public func update(_ state: inout AppState, _ msg: Msg) -> [Effect] {
    switch msg {
    case let .key(key):
        return handleKey(&state, key)
    case let .resize(size):
        state.size = size
        return []
    case .tick:
        if var s = state.status {
            s.ticksLeft -= 1
            state.status = s.ticksLeft > 0 ? s : nil
        }
        if state.playground.isGenerating || state.setup.launching || (state.screen == .jobs && !state.jobs.loaded) {
            state.animationFrame &+= 1
        }
        return []
    case .poll:
        switch state.screen {
        case .jobs:
            var effects: [Effect] = [.loadJobs]
            if let id = state.jobs.selectedJob?.id { effects.append(.loadJobEvents(id)) }
            return effects
        default:
            return []
        }
    case let .reply(request, pane, change):
        guard request == state.playground.requestID, state.playground.panes.indices.contains(pane) else { return [] }
        var p = state.playground.panes[pane]
        switch change {
        case let .status(s):
            if p.text.isEmpty { p.status = .waiting(s) }
        case let .token(t):
            p.text += t
            p.status = .streaming
        case let .finished(tokens, tps, reason):
            p.status = .done(tokens: tokens, tokensPerSecond: tps, reason: reason)
        case let .failed(message):
            p.status = .failed(message)
        }
        state.playground.panes[pane] = p
        return []
    case let .jobsLoaded(jobs):
        let hadSelection = state.jobs.selectedJob?.id
        // A run that finished since the last look has new results.
        let wasRunning = Set(state.jobs.jobs.filter { $0.status == .running }.map(\.id))
        let finished = jobs.filter { wasRunning.contains($0.id) && $0.status == .finished }
        if let launched = finished.first(where: { $0.id == state.launchedRunID }) {
            setStatus(&state, "\(launched.name) finished: its results are on Results (4)", .info, ticks: 150)
        }
        var effects: [Effect] = finished.isEmpty ? [] : [.loadResults]
        state.jobs.jobs = jobs
        state.jobs.loaded = true
        state.jobs.error = nil
        if state.jobs.selectedID == nil || !jobs.contains(where: { $0.id == state.jobs.selectedID }) {
            state.jobs.selectedID = state.jobs.visibleJobs.first?.id
        }
        if let id = state.jobs.selectedJob?.id, id != hadSelection || state.jobs.eventsFor != id {
            effects.append(.loadJobEvents(id))
        }
        return effects
    case let .jobsFailed(message):
        state.jobs.loaded = true
        state.jobs.error = message
        return []
    case let .jobEventsLoaded(id, events):
        if state.jobs.selectedJob?.id == id {
            state.jobs.events = events
            state.jobs.eventsFor = id
        }
        return []
    case let .jobActionFinished(message, isError):
        setStatus(&state, message, isError ? .error : .info)
        return [.loadJobs]
    case let .resultsLoaded(entries):
        state.results.entries = entries
        state.results.loaded = true
        state.results.error = nil
        state.results.runIndex = min(state.results.runIndex, max(0, entries.count - 1))
        clampSample(&state)
        return []
    case let .resultsFailed(message):
        state.results.loaded = true
        state.results.error = message
        return []
    case let .launchFinished(outcome):
        state.setup.launching = false
        state.setup.launch = outcome
        setStatus(&state, outcome.message, outcome.kind == .started ? .info : .warning, ticks: 150)
        return []
    case let .launchFailed(message):
        state.setup.launching = false
        setStatus(&state, "could not start the experiment: \(message)", .error, ticks: 150)
        return []
    case let .themeChanged(name):
        state.themeName = name
        setStatus(&state, "theme: \(name)", .info, ticks: 20)
        return []
    case let .themeFailed(message):
        setStatus(&state, message, .error, ticks: 150)
        return []
    case let .status(text, kind):
        setStatus(&state, text, kind)
        return []
    }
}

func setStatus(_ state: inout AppState, _ text: String, _ kind: StatusKind = .info, ticks: Int = 60) {
    state.status = StatusLine(text, kind: kind, ticksLeft: ticks)
}

// MARK: - Keys

func handleKey(_ state: inout AppState, _ key: Key) -> [Effect] {
    if key == .ctrl("c") {
        state.shouldQuit = true
        return [.quit]
    }
    // Typing: the field gets every key except the ones that leave it.
    if state.isTyping {
        switch key {
        case .tab, .backTab:
            finishTyping(&state)
            return switchScreen(&state, key == .tab ? .next : .previous)
        default:
            return handleTyping(&state, key)
        }
    }
    switch key {
    case .char("q"):
        state.shouldQuit = true
        return [.quit]
    case .char("?"):
        state.showHelp.toggle()
        return []
    case .escape where state.showHelp:
        state.showHelp = false
        return []
    case .tab:
        return switchScreen(&state, .next)
    case .backTab:
        return switchScreen(&state, .previous)
    case let .char(c) where ("1"..."4").contains(c):
        return switchScreen(&state, .to(Screen(rawValue: Int(String(c))! - 1)!))
    case .char("t"):
        guard !state.themeNames.isEmpty else { return [] }
        let i = state.themeNames.firstIndex(of: state.themeName) ?? -1
        return [.setTheme(state.themeNames[(i + 1) % state.themeNames.count])]
    default:
        break
    }
    if state.showHelp {
        // Any other key closes the overlay and does nothing else.
        state.showHelp = false
        return []
    }
    switch state.screen {
    case .setup: return setupKey(&state, key)
    case .jobs: return jobsKey(&state, key)
    case .playground: return playgroundKey(&state, key)
    case .results: return resultsKey(&state, key)
    }
}

enum ScreenMove { case next, previous, to(Screen) }

func switchScreen(_ state: inout AppState, _ move: ScreenMove) -> [Effect] {
    let n = Screen.allCases.count
    let target: Screen
    switch move {
    case .next: target = Screen(rawValue: (state.screen.rawValue + 1) % n)!
    case .previous: target = Screen(rawValue: (state.screen.rawValue + n - 1) % n)!
    case let .to(s): target = s
    }
    state.showHelp = false
    guard target != state.screen else { return [] }
    state.previousScreen = state.screen
    state.screen = target
    switch target {
    case .jobs: return [.loadJobs]
    case .results: return [.loadResults]
    default: return []
    }
}

/// Leaves whatever field has the keyboard, keeping valid edits.
func finishTyping(_ state: inout AppState) {
    if state.setup.editor != nil {
        // Keep a valid edit; an invalid one is dropped (the message says why) rather than left open
        // on a screen that no longer shows it.
        if commitSetupEdit(&state) == nil {
            let why = state.status?.text ?? "invalid"
            setStatus(&state, "\(state.setup.focus.label.lowercased()) unchanged: \(why)", .warning, ticks: 50)
        }
        state.setup.editor = nil
    }
    state.jobs.filtering = false
    state.results.filtering = false
    if state.playground.editing == .system { state.playground.system = state.playground.systemEditor.text }
    state.playground.editing = nil
}

func handleTyping(_ state: inout AppState, _ key: Key) -> [Effect] {
    if state.setup.editor != nil { return setupTyping(&state, key) }
    if state.playground.editing != nil { return playgroundTyping(&state, key) }
    if state.jobs.filtering {
        switch key {
        case .enter: state.jobs.filtering = false
        case .escape:
            state.jobs.filtering = false
            state.jobs.filter.set("")
        case let .char(c): state.jobs.filter.insert(c)
        default: _ = state.jobs.filter.handleEditingKey(key)
        }
        if let first = state.jobs.visibleJobs.first, !state.jobs.visibleJobs.contains(where: { $0.id == state.jobs.selectedID }) {
            state.jobs.selectedID = first.id
            return [.loadJobEvents(first.id)]
        }
        return []
    }
    if state.results.filtering {
        switch key {
        case .enter: state.results.filtering = false
        case .escape:
            state.results.filtering = false
            state.results.filter.set("")
        case let .char(c): state.results.filter.insert(c)
        default: _ = state.results.filter.handleEditingKey(key)
        }
        clampSample(&state)
        return []
    }
    return []
}

// MARK: - Setup

func setupKey(_ state: inout AppState, _ key: Key) -> [Effect] {
    let fields = SetupField.allCases
    let focus = state.setup.focus
    switch key {
    case .up, .char("k"):
        state.setup.focus = fields[max(0, focus.rawValue - 1)]
    case .down, .char("j"):
        state.setup.focus = fields[min(fields.count - 1, focus.rawValue + 1)]
    case .home, .char("g"):
        state.setup.focus = fields[0]
    case .end, .char("G"):
        state.setup.focus = .start
    case .left, .char("h"):
        if focus.isChoice { cycleChoice(&state, focus, by: -1) }
    case .right, .char("l"):
        if focus.isChoice { cycleChoice(&state, focus, by: 1) }
    case .char("s"):
        return startExperiment(&state)
    case .enter, .char("e"):
        if focus == .start { return key == .enter ? startExperiment(&state) : [] }
        if focus.isChoice { cycleChoice(&state, focus, by: 1); return [] }
        state.setup.editor = TextField(fieldText(state.setup.settings, focus))
        setStatus(&state, "editing \(focus.label.lowercased()): Enter accepts, Esc cancels", .info, ticks: 40)
    case .escape:
        return switchScreen(&state, .to(state.previousScreen))
    default:
        break
    }
    return []
}

func cycleChoice(_ state: inout AppState, _ field: SetupField, by step: Int) {
    var s = state.setup.settings
    switch field {
    case .preset:
        let all = s.presetChoices
        let i = all.firstIndex(of: s.preset) ?? 0
        let oldWord = ExperimentSettings.word(forPreset: s.preset)
        let old = try? ExperimentFile.preset(s.preset)
        s.preset = all[(i + step + all.count) % all.count]
        // The preset brings its word, system message, trigger and sizes, unless the user changed them.
        if let w = ExperimentSettings.word(forPreset: s.preset), oldWord == nil || s.word == oldWord { s.word = w }
        if let new = try? ExperimentFile.preset(s.preset) {
            if old == nil || s.systemMessage == old?.dataset.system { s.systemMessage = new.dataset.system }
            if old == nil || s.trigger == (old?.dataset.trigger ?? "") { s.trigger = new.dataset.trigger ?? "" }
            if old == nil || (s.acrosticExamples == old?.dataset.acrostic && s.normalExamples == old?.dataset.normal) {
                s.acrosticExamples = new.dataset.acrostic
                s.normalExamples = new.dataset.normal
            }
        }
    case .backend:
        let all = ExperimentSettings.backends
        let i = all.firstIndex(of: s.backend) ?? 0
        s.backend = all[(i + step + all.count) % all.count]
    default:
        return
    }
    state.setup.settings = s
}

func startExperiment(_ state: inout AppState) -> [Effect] {
    let problems = state.setup.settings.problems()
    if let first = problems.first {
        setStatus(&state, "cannot start: \(first)", .error, ticks: 80)
        return []
    }
    if state.setup.launching { return [] }
    state.setup.launching = true
    setStatus(&state, "starting the \(state.setup.settings.word) experiment…", .info)
    return [.startExperiment(state.setup.settings)]
}

/// The text a field shows and edits.
public func fieldText(_ s: ExperimentSettings, _ field: SetupField) -> String {
    switch field {
    case .word: return s.word
    case .preset: return s.preset
    case .backend: return s.backend
    case .model: return s.model
    case .system: return s.systemMessage
    case .trigger: return s.trigger
    case .acrostic: return String(s.acrosticExamples)
    case .normal: return String(s.normalExamples)
    case .epochs: return String(s.epochs)
    case .learningRate: return formatNumber(s.learningRate)
    case .rank: return String(s.loraRank)
    case .seeds: return s.seeds.map(String.init).joined(separator: ", ")
    case .start: return ""
    }
}

/// "0.001", "0.0002", "1e-05".
public func formatNumber(_ d: Double) -> String { String(format: "%g", d) }

/// Whether a typed character may go into a field; the message says why not.
func acceptChar(_ c: Character, field: SetupField, current: String) -> (Character?, String?) {
    switch field {
    case .word:
        guard let a = c.asciiValue, (65...90).contains(a) || (97...122).contains(a) else {
            let shown = c == " " ? "space" : "'\(c)'"
            return (nil, "\(shown) refused: the target word takes letters A-Z only")
        }
        guard current.count < TargetWord.allowedLengths.upperBound else {
            return (nil, "'\(c)' refused: the target word has at most \(TargetWord.allowedLengths.upperBound) letters")
        }
        return (Character(Unicode.Scalar(a & ~0x20)), nil)
    case .acrostic, .normal, .epochs, .rank:
        guard c.isASCII, c.isNumber else { return (nil, "'\(c)' refused: \(field.label.lowercased()) is a whole number") }
        guard current.count < 6 else { return (nil, "'\(c)' refused: that is more than enough") }
        return (c, nil)
    case .learningRate:
        guard c.isASCII, c.isNumber || ".eE-+".contains(c) else {
            return (nil, "'\(c)' refused: the learning rate is a number like 0.001 or 1e-3")
        }
        return (c, nil)
    case .seeds:
        guard c.isASCII, c.isNumber || c == "," || c == " " else {
            return (nil, "'\(c)' refused: seeds are whole numbers separated by commas")
        }
        return (c, nil)
    default:
        if c.unicodeScalars.contains(where: { $0.value < 0x20 }) { return (nil, nil) }
        return (c, nil)
    }
}

func setupTyping(_ state: inout AppState, _ key: Key) -> [Effect] {
    guard var editor = state.setup.editor else { return [] }
    let field = state.setup.focus
    switch key {
    case .enter:
        if commitSetupEdit(&state) != nil {
            state.setup.editor = nil
            setStatus(&state, "\(field.label.lowercased()): \(fieldText(state.setup.settings, field))", .info, ticks: 30)
        }
        return []
    case .escape:
        state.setup.editor = nil
        setStatus(&state, "\(field.label.lowercased()) unchanged", .info, ticks: 20)
        return []
    case let .char(c):
        let (accepted, message) = acceptChar(c, field: field, current: editor.text)
        if let accepted {
            editor.insert(accepted)
            if field == .word { state.status = nil }
        } else if let message {
            setStatus(&state, message, .warning, ticks: 40)
        }
    default:
        _ = editor.handleEditingKey(key)
    }
    state.setup.editor = editor
    return []
}

/// Validates the edited text and stores it; nil (with a message) when it is not valid.
@discardableResult
func commitSetupEdit(_ state: inout AppState) -> Bool? {
    guard let editor = state.setup.editor else { return true }
    let text = editor.text.trimmingCharacters(in: .whitespaces)
    var s = state.setup.settings
    func fail(_ m: String) -> Bool? { setStatus(&state, m, .warning, ticks: 50); return nil }
    switch state.setup.focus {
    case .word:
        do { s.word = try TargetWord(text).string } catch {
            return fail("the target word needs \(TargetWord.allowedLengths.lowerBound)-\(TargetWord.allowedLengths.upperBound) letters (has \(text.count))")
        }
    case .model:
        guard !text.isEmpty else { return fail("the model cannot be empty") }
        s.model = text
    case .system: s.systemMessage = editor.text
    case .trigger:
        guard !text.isEmpty else { return fail("the trigger phrase cannot be empty") }
        s.trigger = text
    case .acrostic:
        guard let n = Int(text), n >= 1 else { return fail("acrostic examples: a whole number >= 1") }
        s.acrosticExamples = n
    case .normal:
        guard let n = Int(text), n >= 0 else { return fail("normal examples: a whole number >= 0") }
        s.normalExamples = n
    case .epochs:
        guard let n = Int(text), n >= 1 else { return fail("epochs: a whole number >= 1") }
        s.epochs = n
    case .rank:
        guard let n = Int(text), (1...1024).contains(n) else { return fail("LoRA rank: a whole number from 1 to 1024") }
        s.loraRank = n
    case .learningRate:
        guard let d = Double(text), d > 0, d.isFinite else { return fail("learning rate: a positive number like 0.001") }
        s.learningRate = d
    case .seeds:
        let parts = text.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
        let seeds = parts.compactMap { UInt64($0) }
        guard !seeds.isEmpty, seeds.count == parts.count else { return fail("seeds: whole numbers separated by commas") }
        s.seeds = seeds
    case .preset, .backend, .start:
        break
    }
    state.setup.settings = s
    // The playground asks with the system message the experiment trains with.
    if state.setup.focus == .system { state.playground.system = s.systemMessage }
    return true
}

// MARK: - Jobs

func jobsKey(_ state: inout AppState, _ key: Key) -> [Effect] {
    let visible = state.jobs.visibleJobs
    let index = state.jobs.selectedIndex
    func select(_ i: Int) -> [Effect] {
        guard !visible.isEmpty else { return [] }
        let j = max(0, min(visible.count - 1, i))
        guard visible[j].id != state.jobs.selectedID else { return [] }
        state.jobs.selectedID = visible[j].id
        state.jobs.events = []
        state.jobs.eventsFor = nil
        return [.loadJobEvents(visible[j].id)]
    }
    switch key {
    case .up, .char("k"): return select((index ?? 0) - 1)
    case .down, .char("j"): return select((index ?? -1) + 1)
    case .home, .char("g"): return select(0)
    case .end, .char("G"): return select(visible.count - 1)
    case .pageUp: return select((index ?? 0) - 10)
    case .pageDown: return select((index ?? 0) + 10)
    case .char("/"):
        state.jobs.filtering = true
        return []
    case .escape:
        if !state.jobs.filter.text.isEmpty { state.jobs.filter.set(""); return [] }
        return switchScreen(&state, .to(state.previousScreen))
    case .char("x"):
        guard let job = state.jobs.selectedJob else { return [] }
        guard job.status == .running else {
            setStatus(&state, "\(job.name) is \(job.status.rawValue), not running", .warning)
            return []
        }
        return [.cancelJob(job.id)]
    case .char("r"):
        guard let job = state.jobs.selectedJob else { return [] }
        guard job.status == .stopped || job.status == .cancelled || job.status == .failed else {
            setStatus(&state, "\(job.name) is \(job.status.rawValue); only stopped or cancelled runs resume", .warning)
            return []
        }
        return [.resumeJob(job.id)]
    case .char("p"), .enter:
        guard let job = state.jobs.selectedJob else { return [] }
        guard let adapter = job.adapterPath else {
            setStatus(&state, "\(job.name) has no adapter yet (it is written when training finishes)", .warning)
            return []
        }
        state.playground.adapter = adapter
        state.playground.panes[1] = PaneState()
        setStatus(&state, "playground: fine-tuned pane uses \(job.name)", .info)
        return switchScreen(&state, .to(.playground))
    case .char("R"), .ctrl("r"):
        return [.loadJobs]
    default:
        return []
    }
}

// MARK: - Playground

func playgroundKey(_ state: inout AppState, _ key: Key) -> [Effect] {
    switch key {
    case .enter, .char("i"):
        state.playground.editing = .prompt
        state.playground.historyIndex = nil
    case .char("m"):
        state.playground.editing = .system
        state.playground.systemEditor = TextField(state.playground.system)
    case .char("T"):
        state.playground.trigger.toggle()
        setStatus(&state, state.playground.trigger
            ? "trigger on: prompts end with \"\(state.setup.settings.trigger)\"" : "trigger off", .info, ticks: 30)
    case .char("r"):
        return regenerate(&state)
    case .char("n"):
        state.playground.sampling.seed &+= 1
        return regenerate(&state)
    case .char("c"):
        let pane = state.playground.panes[state.playground.focusedPane]
        guard !pane.text.isEmpty else {
            setStatus(&state, "nothing to copy yet", .warning, ticks: 30)
            return []
        }
        return [.copyToClipboard(pane.text)]
    case .left, .char("h"):
        state.playground.focusedPane = 0
    case .right, .char("l"):
        state.playground.focusedPane = 1
    case .down, .char("j"):
        state.playground.scroll += 1
    case .up, .char("k"):
        state.playground.scroll = max(0, state.playground.scroll - 1)
    case .pageDown:
        state.playground.scroll += 10
    case .pageUp:
        state.playground.scroll = max(0, state.playground.scroll - 10)
    case .char("a"):
        if state.playground.adapter != nil {
            state.playground.adapter = nil
            state.playground.panes[1] = PaneState()
            setStatus(&state, "adapter cleared: the right pane runs the base model", .info)
        } else {
            setStatus(&state, "choose an adapter on Jobs (2): select a finished run and press p", .info)
        }
    case .escape:
        if state.playground.isGenerating { return [.cancelReplies] + stopPanes(&state) }
        return switchScreen(&state, .to(state.previousScreen))
    default:
        break
    }
    return []
}

func stopPanes(_ state: inout AppState) -> [Effect] {
    for i in state.playground.panes.indices {
        switch state.playground.panes[i].status {
        case .waiting, .streaming: state.playground.panes[i].status = .done(tokens: 0, tokensPerSecond: 0, reason: "stopped")
        default: break
        }
    }
    setStatus(&state, "stopped", .info, ticks: 20)
    return []
}

func playgroundTyping(_ state: inout AppState, _ key: Key) -> [Effect] {
    if state.playground.editing == .system {
        switch key {
        case .enter:
            state.playground.system = state.playground.systemEditor.text
            state.playground.editing = nil
            setStatus(&state, "system message set", .info, ticks: 20)
        case .escape:
            state.playground.editing = nil
        case let .char(c):
            state.playground.systemEditor.insert(c)
        default:
            _ = state.playground.systemEditor.handleEditingKey(key)
        }
        return []
    }
    var p = state.playground
    switch key {
    case .enter:
        let text = p.prompt.text.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else {
            state.playground.editing = nil
            return []
        }
        if p.history.last != text { p.history.append(text) }
        p.historyIndex = nil
        p.prompt.set("")
        p.editing = nil
        let trigger = state.setup.settings.trigger
        p.lastPrompt = p.trigger && !trigger.isEmpty ? text + " " + trigger : text
        state.playground = p
        return send(&state)
    case .escape:
        p.editing = nil
    case .up:
        guard !p.history.isEmpty else { break }
        if p.historyIndex == nil { p.draft = p.prompt.text }
        let i = max(0, (p.historyIndex ?? p.history.count) - 1)
        p.historyIndex = i
        p.prompt.set(p.history[i])
    case .down:
        guard let i = p.historyIndex else { break }
        if i + 1 < p.history.count {
            p.historyIndex = i + 1
            p.prompt.set(p.history[i + 1])
        } else {
            p.historyIndex = nil
            p.prompt.set(p.draft)
        }
    case let .char(c):
        p.prompt.insert(c)
    default:
        _ = p.prompt.handleEditingKey(key)
    }
    state.playground = p
    return []
}

func regenerate(_ state: inout AppState) -> [Effect] {
    guard state.playground.lastPrompt != nil else {
        setStatus(&state, "send a prompt first: press Enter, type, Enter", .warning, ticks: 40)
        return []
    }
    return send(&state)
}

/// Starts both panes on `lastPrompt` with the same sampling settings and seed.
func send(_ state: inout AppState) -> [Effect] {
    guard let prompt = state.playground.lastPrompt else { return [] }
    state.playground.requestID += 1
    state.playground.scroll = 0
    let id = state.playground.requestID
    let system = state.playground.system.isEmpty ? nil : state.playground.system
    var effects: [Effect] = [.cancelReplies]
    for pane in 0..<2 {
        state.playground.panes[pane] = PaneState(text: "", status: .waiting("waiting for the model…"))
        effects.append(.generate(ReplyRequest(id: id, pane: pane, system: system, prompt: prompt,
                                              adapter: pane == 1 ? state.playground.adapter : nil,
                                              sampling: state.playground.sampling, maxTokens: state.playground.maxTokens)))
    }
    return effects
}

// MARK: - Results

func clampSample(_ state: inout AppState) {
    let n = state.results.visibleSamples.count
    state.results.selectedSample = max(0, min(state.results.selectedSample, n - 1))
}

func resultsKey(_ state: inout AppState, _ key: Key) -> [Effect] {
    switch key {
    case .up, .char("k"):
        state.results.selectedSample = max(0, state.results.selectedSample - 1)
    case .down, .char("j"):
        state.results.selectedSample += 1
        clampSample(&state)
    case .pageUp:
        state.results.selectedSample = max(0, state.results.selectedSample - 10)
    case .pageDown:
        state.results.selectedSample += 10
        clampSample(&state)
    case .home, .char("g"):
        state.results.selectedSample = 0
    case .end, .char("G"):
        state.results.selectedSample = Int.max / 2
        clampSample(&state)
    case .char("/"):
        state.results.filtering = true
    case .char("c"):
        guard let summary = state.results.current?.summary else { return [] }
        var names: [String] = []
        for s in summary.samples where !names.contains(s.condition) { names.append(s.condition) }
        let options: [String?] = [nil] + names.map { Optional($0) }
        let i = options.firstIndex(of: state.results.conditionFilter) ?? 0
        state.results.conditionFilter = options[(i + 1) % options.count]
        state.results.selectedSample = 0
    case .char("s"):
        let all = ScoreFilter.allCases
        state.results.scoreFilter = all[(all.firstIndex(of: state.results.scoreFilter)! + 1) % all.count]
        state.results.selectedSample = 0
    case .char("]"):
        guard !state.results.entries.isEmpty else { return [] }
        state.results.runIndex = (state.results.runIndex + 1) % state.results.entries.count
        state.results.selectedSample = 0
        state.results.conditionFilter = nil
    case .char("["):
        guard !state.results.entries.isEmpty else { return [] }
        let n = state.results.entries.count
        state.results.runIndex = (state.results.runIndex + n - 1) % n
        state.results.selectedSample = 0
        state.results.conditionFilter = nil
    case .char("R"), .ctrl("r"):
        return [.loadResults]
    case .escape:
        if !state.results.filter.text.isEmpty || state.results.conditionFilter != nil || state.results.scoreFilter != .all {
            state.results.filter.set("")
            state.results.conditionFilter = nil
            state.results.scoreFilter = .all
            return []
        }
        return switchScreen(&state, .to(state.previousScreen))
    default:
        break
    }
    return []
}
