import Foundation
import Experiment

// Keys every screen shares: quitting, help, switching screens, and the text field being typed in (Setup's
// fields, the playground's prompt and system message); each screen's own keys are in its file.

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
    case .playground:
        // The prompt has the keyboard on arrival, so that whatever is typed is the prompt: "how", "tell" and
        // "list" start with keys the screen uses (Esc leaves the prompt for them).
        startPrompt(&state)
        return []
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
