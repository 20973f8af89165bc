import Foundation
import Support

func renderPlayground(_ state: AppState, _ buf: inout ScreenBuffer, _ area: Rect) {
    let p = state.playground
    let x = area.x + 1
    let width = area.width - 2
    var y = area.y

    // Prompt line.
    let label = "Prompt › "
    buf.put(label, x: x, y: y, role: .accent, attributes: [.bold])
    let fieldX = x + label.count
    let fieldWidth = width - label.count
    if p.editing == .prompt {
        renderEditor(p.prompt, &buf, x: fieldX, y: y, width: fieldWidth)
        // An empty prompt says what it is for, and what was sent last (the cursor shows it has the keyboard).
        if p.prompt.text.isEmpty, fieldWidth > 4 {
            let sent = p.lastPrompt.map(singleLine)
            let hint = sent.map { "type the next prompt · sent: " + $0 } ?? "type a prompt; Enter sends it to both models"
            buf.put(truncate(hint, to: fieldWidth - 2), x: fieldX + 2, y: y, role: .dim, maxWidth: fieldWidth - 2)
        }
    } else if let last = p.lastPrompt {
        buf.put(truncate(singleLine(last), to: fieldWidth - 22),
                x: fieldX, y: y, role: .normal)
        buf.put("(type a new prompt)", x: area.maxX - 21, y: y, role: .dim)
    } else {
        buf.put("type a prompt; Enter sends it to both models", x: fieldX, y: y, role: .dim,
                maxWidth: fieldWidth)
    }
    y += 1

    // System message, trigger, sampling.
    let sysLabel = "System › "
    buf.put(sysLabel, x: x, y: y, role: .dim)
    if p.editing == .system {
        renderEditor(p.systemEditor, &buf, x: x + sysLabel.count, y: y, width: width - sysLabel.count)
    } else {
        let sys = p.system.isEmpty ? "(the model's default)" : p.system
        buf.put(truncate(sanitizeForTerminal(sys), to: width - sysLabel.count - 4) + "  (m)", x: x + sysLabel.count, y: y,
                role: .normal)
    }
    y += 1
    var cx = x
    cx += buf.put("Trigger ", x: cx, y: y, role: .dim)
    cx += buf.put(p.trigger ? "on" : "off", x: cx, y: y, role: p.trigger ? .accent : .dim, attributes: p.trigger ? [.bold] : [])
    if p.trigger {
        cx += buf.put(" \"\(state.setup.settings.trigger)\"", x: cx, y: y, role: .normal, maxWidth: max(0, width / 2 - (cx - x)))
    }
    cx += buf.put(" (Ctrl-T)", x: cx, y: y, role: .dim)
    let sampling = p.sampling
    var settings = "  seed \(sampling.seed) · temp \(formatNumber(Double(sampling.temperature)))"
    if sampling.topK > 0 { settings += " · top-k \(sampling.topK)" }
    if sampling.topP < 1 { settings += " · top-p \(formatNumber(Double(sampling.topP)))" }
    settings += " · target \(state.setup.settings.word)"
    buf.put(settings, x: cx, y: y, role: .dim, maxWidth: area.maxX - 1 - cx)
    y += 1

    // Two panes side by side.
    let paneHeight = area.maxY - y
    guard paneHeight >= 4 else { return }
    let leftWidth = area.width / 2
    let left = Rect(x: area.x, y: y, width: leftWidth, height: paneHeight)
    let right = Rect(x: area.x + leftWidth, y: y, width: area.width - leftWidth, height: paneHeight)
    let rightTitle: String
    var note: String?
    if let adapter = p.adapter {
        rightTitle = "Fine-tuned · " + URL(fileURLWithPath: adapter).lastPathComponent
    } else {
        rightTitle = "Fine-tuned · no adapter"
        note = "No adapter chosen, so this pane runs the base model too. Choose one: Jobs (2), select a finished run, p; or start with --adapter DIR."
    }
    renderPane(state, pane: 0, title: "Base · " + p.modelName, note: nil, &buf, left)
    renderPane(state, pane: 1, title: rightTitle, note: note, &buf, right)
}

func renderPane(_ state: AppState, pane index: Int, title: String, note: String?, _ buf: inout ScreenBuffer, _ rect: Rect) {
    let p = state.playground
    let pane = p.panes[index]
    let focused = p.focusedPane == index
    buf.box(rect, title: title, role: focused ? .accent : .border, titleRole: .title)
    let inner = rect.inset(1)
    let x = inner.x + 1
    let width = inner.width - 2
    var rows: [[StyledChar]] = []
    if let note {
        rows += wrapParagraph(note, width: width).map { $0.map { StyledChar($0, .dim) } }
        rows.append([])
    }
    switch pane.status {
    case .idle where pane.text.isEmpty:
        rows += wrapParagraph("Replies appear here, the first letter of each line marked against \(state.setup.settings.word).",
                              width: width).map { $0.map { StyledChar($0, .dim) } }
    case let .waiting(message) where pane.text.isEmpty:
        rows.append(Array("\(spinner(state)) \(message)").map { StyledChar($0, .dim) })
    default:
        rows += wrapStyled(styledReplyLines(pane.text, word: state.targetWord), width: width, indent: 2)
    }
    if case let .failed(message) = pane.status {
        rows += wrapParagraph("error: \(message)", width: width).map { $0.map { StyledChar($0, .error) } }
    }

    // The last inner row holds the read-out; the rest scroll.
    let textRows = inner.height - 1
    let maxScroll = max(0, rows.count - textRows)
    let scroll = min(p.scroll, maxScroll)
    for (i, row) in rows.dropFirst(scroll).prefix(textRows).enumerated() {
        buf.put(row, x: x, y: inner.y + i, maxWidth: width)
    }
    if rows.count - scroll > textRows {
        buf.put("↓ more (j)", x: inner.maxX - 11, y: inner.y + textRows - 1, role: .dim)
    }
    let readoutY = inner.maxY - 1
    if !pane.text.isEmpty {
        buf.put(acrosticReadout(pane.text, word: state.targetWord), x: x, y: readoutY, maxWidth: width)
    }
    // Generation status in the bottom border.
    var status: String?
    switch pane.status {
    case .streaming: status = "\(spinner(state)) generating"
    case let .done(tokens, tps, reason):
        status = reason == "stopped" ? "stopped" : String(format: "%d tok · %.1f tok/s", tokens, tps) + (reason == "length" ? " · max tokens" : "")
    case .failed: status = "failed"
    default: break
    }
    if let status, rect.width > 8 {
        let text = " " + truncate(status, to: rect.width - 6) + " "
        buf.put(text, x: rect.maxX - 2 - displayWidth(text), y: rect.maxY - 1, role: .dim)
    }
}
