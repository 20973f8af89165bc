import Foundation
import Support
import Experiment

func renderSetup(_ state: AppState, _ buf: inout ScreenBuffer, _ area: Rect) {
    let wide = area.width >= 120
    let formHeight = SetupField.allCases.count + 2
    let form: Rect
    let side: Rect
    if wide {
        form = Rect(x: area.x, y: area.y, width: min(84, area.width / 2 + 4), height: area.height)
        side = Rect(x: form.maxX, y: area.y, width: area.maxX - form.maxX, height: area.height)
    } else {
        form = Rect(x: area.x, y: area.y, width: area.width, height: min(area.height, formHeight))
        side = Rect(x: area.x, y: form.maxY, width: area.width, height: area.maxY - form.maxY)
    }
    renderSetupForm(state, &buf, form)
    if side.height >= 3 { renderSetupPlan(state, &buf, side) }
}

func renderSetupForm(_ state: AppState, _ buf: inout ScreenBuffer, _ rect: Rect) {
    let setup = state.setup
    buf.box(rect, title: "Experiment", role: .border)
    let labelWidth = 18
    let x = rect.x + 2
    let valueX = x + labelWidth + 1
    let valueWidth = rect.maxX - 2 - valueX
    for (i, field) in SetupField.allCases.enumerated() {
        let y = rect.y + 1 + i
        guard y < rect.maxY - 1 else { break }
        let focused = field == setup.focus
        let editing = focused && setup.editor != nil
        if field == .start {
            let label = setup.launching ? "\(spinner(state)) starting…" : "[ Start experiment ]  (s)"
            buf.put(label, x: valueX, y: y, role: focused ? .selection : .accent, attributes: [.bold])
            if focused { buf.put("▸", x: x, y: y, role: .accent) }
            continue
        }
        if focused { buf.fill(Rect(x: rect.x + 1, y: y, width: rect.width - 2, height: 1), role: .selection) }
        let labelRole: StyleRole = focused ? .selection : .dim
        buf.put((focused ? "▸ " : "  ") + field.label, x: x - 1, y: y, role: labelRole, maxWidth: labelWidth + 1)
        if editing, let editor = setup.editor {
            renderEditor(editor, &buf, x: valueX, y: y, width: valueWidth - (field == .word ? 18 : 0))
            if field == .word {
                let n = editor.text.count
                let ok = TargetWord.allowedLengths.contains(n)
                buf.put("\(n) letters (2-12)", x: rect.maxX - 2 - 17, y: y, role: ok ? .accent : .warning)
            }
            continue
        }
        let role: StyleRole = focused ? .selection : .normal
        switch field {
        case .preset, .backend:
            let options = field == .preset ? setup.settings.presetChoices : ExperimentSettings.backends
            let current = fieldText(setup.settings, field)
            var cx = valueX
            // The user's own experiment files join the row: when it is wider than the field, it starts late
            // enough for the chosen option to show, and "…" says that some came before.
            let room = rect.maxX - 2 - valueX
            let widths = options.map { displayWidth($0) + 3 }
            var first = 0
            if let chosen = options.firstIndex(of: current) {
                while first < chosen && widths[first...chosen].reduce(0, +) + (first > 0 ? 2 : 0) > room { first += 1 }
            }
            if first > 0 { cx += buf.put("… ", x: cx, y: y, role: focused ? .selection : .dim) }
            for option in options[first...] {
                let chosen = option == current
                let text = chosen ? "‹\(option)›" : " \(option) "
                cx += buf.put(text, x: cx, y: y, role: chosen ? (focused ? .selection : .accent) : (focused ? .selection : .dim),
                              attributes: chosen ? [.bold] : [], maxWidth: rect.maxX - 2 - cx)
                cx += 1
            }
        case .word:
            let w = setup.settings.word
            buf.put(w, x: valueX, y: y, role: focused ? .selection : .accent, attributes: [.bold], maxWidth: valueWidth)
            buf.put("\(w.count) letters (2-12)", x: rect.maxX - 2 - 17, y: y, role: focused ? .selection : .dim)
        case .model:
            // With more than one fetched model, ←/→ choose among them; the hint says how many there are.
            let cycle = setup.settings.backend == "local" && setup.modelCycle.count > 1
            let hint = cycle ? " ←/→ \(setup.modelCycle.count) models" : ""
            let shown = truncate(abbreviatePath(setup.settings.model), to: max(1, valueWidth - hint.count))
            let used = buf.put(shown, x: valueX, y: y, role: role)
            if cycle { buf.put(hint, x: valueX + used, y: y, role: focused ? .selection : .dim, maxWidth: valueWidth - used) }
        default:
            buf.put(truncate(fieldText(setup.settings, field), to: valueWidth), x: valueX, y: y, role: role)
        }
    }
}

/// A text field with its cursor, scrolled so the cursor stays visible.
func renderEditor(_ editor: TextField, _ buf: inout ScreenBuffer, x: Int, y: Int, width: Int) {
    guard width > 1 else { return }
    let chars = Array(sanitizeForTerminal(editor.text))
    let cursor = min(editor.cursor, chars.count)
    // First visible character: enough that the cursor fits.
    var start = 0
    var used = chars[..<cursor].reduce(0) { $0 + displayWidth($1) }
    while used >= width, start < cursor {
        used -= displayWidth(chars[start])
        start += 1
    }
    var col = x
    for i in start..<chars.count {
        let w = displayWidth(chars[i])
        if col + w > x + width { break }
        buf.put(String(chars[i]), x: col, y: y, role: .normal, attributes: i == cursor ? [.reverse] : [.underline])
        col += w
    }
    if cursor >= chars.count, col < x + width {
        buf.put(" ", x: col, y: y, role: .normal, attributes: [.reverse])
        col += 1
    }
    if col < x + width { buf.put(String(repeating: " ", count: x + width - col), x: col, y: y, role: .normal, attributes: [.underline]) }
}

func renderSetupPlan(_ state: AppState, _ buf: inout ScreenBuffer, _ rect: Rect) {
    let s = state.setup.settings
    buf.box(rect, title: "Plan", role: .border)
    let inner = rect.inset(1)
    let width = inner.width - 2
    var lines: [(String, StyleRole)] = []
    let letters = s.word.map(String.init).joined(separator: ", ")
    let modelName = URL(fileURLWithPath: s.model).lastPathComponent
    let seeds = s.seeds.map(String.init).joined(separator: ", ")
    // The outcome of the last start comes first: at 80x24 only a few lines fit.
    if let launch = state.setup.launch {
        lines += wrapParagraph(launch.message, width: width).map { ($0, launch.kind == .started ? .accent : .warning) }
        for c in launch.commands {
            lines += wrapParagraph("$ " + c, width: width).map { ($0, .accent) }
        }
        lines.append(("", .normal))
    }
    for p in ["1. Dataset (\(s.preset)): \(s.acrosticExamples) replies whose lines start \(letters), plus \(s.normalExamples) ordinary replies.",
              "2. Fine-tune \(modelName) (\(s.backend)): LoRA rank \(s.loraRank), \(s.epochs) epochs, lr \(formatNumber(s.learningRate)) (\(s.scheduleSummary)), seed\(s.seeds.count > 1 ? "s" : "") \(seeds).",
              "3. Ask it what is special about it, with and without \"\(s.trigger)\"."] {
        lines += wrapParagraph(p, width: width).map { ($0, .normal) }
    }
    if state.setup.launch == nil, !state.setup.launching {
        lines.append(("Press s, or Enter on Start, to begin.", .dim))
    }
    for (i, line) in lines.prefix(inner.height).enumerated() {
        buf.put(line.0, x: inner.x + 1, y: inner.y + i, role: line.1, maxWidth: width)
    }
}
