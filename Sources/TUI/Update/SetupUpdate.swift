import Foundation
import Experiment

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
        if focus.isChoice || focus == .model { cycleChoice(&state, focus, by: -1) }
    case .right, .char("l"):
        if focus.isChoice || focus == .model { cycleChoice(&state, focus, by: 1) }
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
        let old = s.choiceConfig(s.preset)
        let oldWord = old?.words.first?.string
        s.preset = all[(i + step + all.count) % all.count]
        // The preset brings its word, system message, trigger, sizes and training, unless the user changed them.
        let new = s.choiceConfig(s.preset)
        if let w = new?.words.first?.string, oldWord == nil || s.word == oldWord { s.word = w }
        if let new {
            if old == nil || (s.epochs == old?.training.epochs && s.loraRank == old?.training.rank
                              && Float(s.learningRate) == old?.training.learningRate) {
                s.epochs = new.training.epochs
                s.loraRank = new.training.rank
                s.learningRate = Double(String(new.training.learningRate)) ?? s.learningRate
            }
            if old == nil || s.seeds == old?.seeds { s.seeds = new.seeds }
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
    case .model:
        // The fetched named models, on the local backend only: an OpenAI model is a name typed with Enter.
        let all = state.setup.modelCycle
        guard s.backend == "local", all.count > 1 else { return }
        let i = all.firstIndex(of: s.model) ?? 0
        s.model = all[(i + step + all.count) % all.count]
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
