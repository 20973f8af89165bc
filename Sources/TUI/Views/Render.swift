import Foundation
import Experiment
import Support

/// The smallest terminal the layout is drawn in; below it a message asks for more room.
public let minimumSize = Size(width: 60, height: 16)

/// Draws the state. Pure: the same state and size always give the same screen.
public func render(_ state: AppState, size: Size) -> ScreenBuffer {
    var buf = ScreenBuffer(size: size)
    guard size.width >= minimumSize.width, size.height >= minimumSize.height else {
        renderTooSmall(&buf)
        return buf
    }
    renderTabs(state, &buf)
    let content = Rect(x: 0, y: 1, width: size.width, height: size.height - 3)
    switch state.screen {
    case .setup: renderSetup(state, &buf, content)
    case .jobs: renderJobs(state, &buf, content)
    case .playground: renderPlayground(state, &buf, content)
    case .results: renderResults(state, &buf, content)
    }
    renderStatus(state, &buf)
    renderFooter(state, &buf)
    if state.showHelp { renderHelp(state, &buf) }
    return buf
}

func renderTooSmall(_ buf: inout ScreenBuffer) {
    let size = buf.size
    let lines = ["Terminal too small: \(size.width)x\(size.height)",
                 "hellotune needs at least \(minimumSize.width)x\(minimumSize.height).",
                 "Enlarge the window, or press q to quit."]
    let top = max(0, (size.height - lines.count) / 2)
    for (i, line) in lines.enumerated() {
        let t = truncate(line, to: size.width)
        buf.put(t, x: max(0, (size.width - displayWidth(t)) / 2), y: top + i, role: i == 0 ? .warning : .normal,
                attributes: i == 0 ? [.bold] : [])
    }
}

func renderTabs(_ state: AppState, _ buf: inout ScreenBuffer) {
    var x = 0
    x += buf.put(" hellotune ", x: x, y: 0, role: .title, attributes: [.bold])
    for screen in Screen.allCases {
        let label = " \(screen.rawValue + 1) \(screen.title) "
        let current = screen == state.screen
        x += buf.put(label, x: x, y: 0, role: current ? .selection : .dim, attributes: current ? [.bold] : [])
        x += 1
    }
    let right = "\(state.setup.settings.word) · \(state.themeName) · ? help "
    let w = displayWidth(right)
    if x + w + 1 <= buf.size.width { buf.put(right, x: buf.size.width - w, y: 0, role: .dim) }
}

func renderStatus(_ state: AppState, _ buf: inout ScreenBuffer) {
    let y = buf.size.height - 2
    let width = buf.size.width
    if let s = state.status {
        let role: StyleRole = s.kind == .error ? .error : s.kind == .warning ? .warning : .accent
        buf.put(" " + truncate(s.text, to: width - 2), x: 0, y: y, role: role)
    } else if state.screen == .playground, state.playground.editing == .prompt {
        buf.put(" " + truncate("prompt: Esc for the screen's keys (r n c m ←→), Tab for the next screen",
                               to: width - 2), x: 0, y: y, role: .dim)
    } else if state.isTyping {
        buf.put(" typing: Enter accepts · Esc cancels · Tab leaves the field", x: 0, y: y, role: .dim)
    } else if let id = state.launchedRunID {
        let job = state.jobs.jobs.first { $0.id == id }
        guard job == nil || job?.status == .running else { return }
        let name = job?.name ?? LaunchedRunsJobSource.folderName(id)
        buf.put(" " + truncate("\(name) runs detached: q leaves it running", to: width - 2), x: 0, y: y, role: .dim)
    }
}

/// Key hints for the footer: (key, what it does).
func footerHints(_ state: AppState) -> [(String, String)] {
    if state.showHelp { return [("Esc/?", "close help"), ("q", "quit")] }
    if state.setup.editor != nil {
        return state.setup.focus == .word
            ? [("A-Z", "type"), ("Backspace", "delete"), ("Enter", "accept"), ("Esc", "cancel")]
            : [("Enter", "accept"), ("Esc", "cancel"), ("←→", "move"), ("Ctrl-U", "clear")]
    }
    if state.playground.editing == .prompt {
        return [("Enter", "send"), ("↑↓", "history"), ("Esc", state.playground.isGenerating ? "stop" : "keys r n c m"),
                ("Ctrl-T", "trigger"), ("Tab", "screen"), ("Ctrl-C", "quit")]
    }
    if state.playground.editing == .system { return [("Enter", "set"), ("Esc", "cancel"), ("Ctrl-U", "clear")] }
    if state.jobs.filtering || state.results.filtering { return [("Enter", "keep filter"), ("Esc", "clear filter")] }
    var hints: [(String, String)]
    switch state.screen {
    case .setup: hints = [("↑↓", "move"), ("Enter", "edit"), ("←→", "choose"), ("s", "start")]
    case .jobs: hints = [("↑↓", "select"), ("p", "playground"), ("x", "cancel"), ("r", "resume"), ("/", "filter")]
    case .playground: hints = [("r", "regen"), ("n", "seed+1"), ("Ctrl-T", "trigger"), ("c", "copy"), ("m", "system")]
    case .results: hints = [("↑↓", "sample"), ("c", "condition"), ("s", "score"), ("/", "filter"), ("[ ]", "run")]
    }
    return hints + [("?", "help"), ("q", "quit"), ("Tab", "screen"), ("t", "theme")]
}

func renderFooter(_ state: AppState, _ buf: inout ScreenBuffer) {
    let y = buf.size.height - 1
    var x = 1
    for (key, what) in footerHints(state) {
        let need = displayWidth(key) + 1 + displayWidth(what)
        if x + need > buf.size.width - 1 { break }
        x += buf.put(key, x: x, y: y, role: .accent)
        x += buf.put(" " + what, x: x, y: y, role: .dim)
        x += 2
    }
}

/// Every key, by section; the help overlay shows them in two columns (one when narrow).
public let helpSections: [(String, [(String, String)])] = [
    ("Everywhere", [("Tab S-Tab", "next / previous screen"), ("1 2 3 4", "Setup Jobs Play Results"),
                    ("? t", "help · next theme"), ("Esc", "back / close / cancel"), ("q Ctrl-C", "quit (not while typing)")]),
    ("Setup", [("↑↓ j k", "move between fields"), ("Enter e", "edit field / Start"), ("←→ h l", "change a choice"),
               ("s", "start the experiment")]),
    ("Jobs", [("↑↓ j k", "select a job"), ("p Enter", "adapter to playground"), ("x r", "cancel · resume"),
              ("/ R", "filter · refresh")]),
    ("Playground", [("type Enter", "write · send the prompt"), ("↑↓ PgUp/Dn", "history · scroll"),
                    ("Esc", "stop replies, or leave"), ("Ctrl-T", "trigger, even typing"),
                    ("then m r n", "system · regen · seed+1"), ("then ←→ j k", "choose pane · scroll"),
                    ("then c a", "copy · drop adapter")]),
    ("Results", [("↑↓ j k", "select a sample"), ("c s", "filter condition · score"), ("/ [ ]", "filter text · run"),
                 ("R", "reload"), ("n p m w o x", "label category · clear")]),
    ("Typing", [("Enter Esc", "accept · cancel"), ("←→ Home End", "move · Ctrl-U clears")]),
]

func renderHelp(_ state: AppState, _ buf: inout ScreenBuffer) {
    let size = buf.size
    let keyWidth = 11
    func lines(_ sections: ArraySlice<(String, [(String, String)])>) -> [[StyledChar]] {
        var out: [[StyledChar]] = []
        for (title, keys) in sections {
            if !out.isEmpty { out.append([]) }
            out.append(title.map { StyledChar($0, .title, [.bold]) })
            for (k, d) in keys {
                out.append(pad(k, keyWidth).map { StyledChar($0, .accent) } + (" " + d).map { StyledChar($0) })
            }
        }
        return out
    }
    let twoColumns = size.width >= 76
    let left = twoColumns ? lines(helpSections[0..<3]) : lines(helpSections[...])
    let right = twoColumns ? lines(helpSections[3...]) : []
    let colWidth = twoColumns ? min(40, (size.width - 7) / 2) : min(40, size.width - 4)
    let bodyHeight = max(left.count, right.count)
    let width = twoColumns ? colWidth * 2 + 5 : colWidth + 4
    let height = min(size.height - 2, bodyHeight + 3)
    let rect = Rect(x: (size.width - width) / 2, y: max(1, (size.height - height) / 2), width: width, height: height)
    // A blank margin keeps the screen underneath from touching the overlay's border.
    buf.fill(Rect(x: 0, y: rect.y, width: size.width, height: rect.height))
    buf.box(rect, title: "Keys · Esc or ? closes", role: .accent)
    let rows = height - 3
    for (i, line) in left.prefix(rows).enumerated() {
        buf.put(line, x: rect.x + 2, y: rect.y + 1 + i, maxWidth: colWidth)
    }
    for (i, line) in right.prefix(rows).enumerated() {
        buf.put(line, x: rect.x + 3 + colWidth, y: rect.y + 1 + i, maxWidth: colWidth)
    }
    if bodyHeight > rows {
        buf.put("… (enlarge the window for the rest)", x: rect.x + 2, y: rect.maxY - 2, role: .dim, maxWidth: width - 4)
    }
}

// MARK: - Shared pieces

let spinnerFrames: [Character] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]

func spinner(_ state: AppState) -> Character { spinnerFrames[state.animationFrame % spinnerFrames.count] }

/// Word-wraps a paragraph (which may hold newlines) to `width` columns.
public func wrapParagraph(_ text: String, width: Int) -> [String] {
    text.components(separatedBy: "\n").flatMap { line -> [String] in
        let chars = Array(sanitizeForTerminal(line))
        return wrapRanges(chars, width: width).map { String(chars[$0]) }
    }
}

/// "██████░░░░" filled to `fraction`.
public func progressBar(_ fraction: Double, width: Int) -> String {
    guard width > 0 else { return "" }
    let f = max(0, min(1, fraction.isFinite ? fraction : 0))
    let eighths = Int((f * Double(width * 8)).rounded())
    let full = eighths / 8
    let partial = eighths % 8
    let blocks: [Character] = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
    var s = String(repeating: "█", count: full)
    if full < width {
        s.append(partial > 0 ? blocks[partial] : "░")
        s += String(repeating: "░", count: width - full - 1)
    }
    return s
}

/// A column chart of `values` (resampled to `width` columns), `height` rows, top row first.
public func barChart(_ values: [Double], width: Int, height: Int) -> [String] {
    guard width > 0, height > 0 else { return [] }
    guard !values.isEmpty else { return Array(repeating: String(repeating: " ", count: width), count: height) }
    let columns: [Double]
    if values.count <= width {
        columns = values
    } else {
        // Mean of each bucket.
        columns = (0..<width).map { i in
            let a = i * values.count / width
            let b = max(a + 1, (i + 1) * values.count / width)
            return values[a..<b].reduce(0, +) / Double(b - a)
        }
    }
    let lo = columns.min()!
    let hi = columns.max()!
    let span = hi - lo
    let levels: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
    let total = height * 8
    let heights = columns.map { v -> Int in
        span > 0 ? max(1, Int(((v - lo) / span * Double(total - 1)).rounded()) + 1) : total / 2
    }
    return (0..<height).map { row in
        let base = (height - 1 - row) * 8
        return String(heights.map { h -> Character in
            let inRow = h - base
            if inRow >= 8 { return "█" }
            if inRow <= 0 { return row == height - 1 ? "▁" : " " }
            return levels[inRow - 1]
        })
    }
}

/// "42s", "3m05s", "1h02m".
public func formatDuration(_ seconds: Double?) -> String {
    guard let seconds, seconds.isFinite, seconds >= 0 else { return "—" }
    let s = Int(seconds.rounded())
    if s < 60 { return "\(s)s" }
    if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
    return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
}

