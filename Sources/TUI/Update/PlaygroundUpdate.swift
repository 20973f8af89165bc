import Foundation
import Experiment

func playgroundKey(_ state: inout AppState, _ key: Key) -> [Effect] {
    switch key {
    case .enter, .char("i"):
        startPrompt(&state)
    case .char("m"):
        state.playground.editing = .system
        state.playground.systemEditor = TextField(state.playground.system)
    case .ctrl("t"):
        toggleTrigger(&state)
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
    case let .char(c):
        // After Esc, a key with no meaning here goes back to the prompt with itself.
        startPrompt(&state)
        state.playground.prompt.insert(c)
    default:
        break
    }
    return []
}

/// The prompt takes the keyboard, with its draft and no history entry recalled.
func startPrompt(_ state: inout AppState) {
    state.playground.editing = .prompt
    state.playground.historyIndex = nil
}

/// Ctrl-T, on the screen or while typing (a letter would be typed): the trigger phrase on or off.
func toggleTrigger(_ state: inout AppState) {
    state.playground.trigger.toggle()
    setStatus(&state, state.playground.trigger
        ? "trigger on: prompts end with \"\(state.setup.settings.trigger)\"" : "trigger off", .info, ticks: 30)
}

func stopPanes(_ state: inout AppState) -> [Effect] {
    // Tokens of the stopped request may still be on their way: a new id drops them, rather than let them mark the
    // panes streaming again (and take the next Esc, or the keys after it, as another stop).
    state.playground.requestID += 1
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
        guard !text.isEmpty else { return [] }
        if p.history.last != text { p.history.append(text) }
        p.historyIndex = nil
        p.prompt.set("")
        // The prompt keeps the keyboard for the next one.
        p.editing = .prompt
        let trigger = state.setup.settings.trigger
        p.lastPrompt = p.trigger && !trigger.isEmpty ? text + " " + trigger : text
        state.playground = p
        return send(&state)
    case .escape:
        // While replies stream, Esc stops them (the prompt keeps the keyboard); otherwise it leaves the prompt
        // for the screen's keys.
        if p.isGenerating { return [.cancelReplies] + stopPanes(&state) }
        p.editing = nil
    case .pageDown:
        p.scroll += 10
    case .pageUp:
        p.scroll = max(0, p.scroll - 10)
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
    case .ctrl("t"):
        state.playground = p
        toggleTrigger(&state)
        return []
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
        setStatus(&state, "send a prompt first: type it, then Enter", .warning, ticks: 40)
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
