import Foundation
import Experiment
import Support

func renderResults(_ state: AppState, _ buf: inout ScreenBuffer, _ area: Rect) {
    let r = state.results
    guard let entry = r.current else {
        buf.box(area, title: "Results", role: .border)
        let x = area.x + 2
        let width = area.width - 4
        var lines: [(String, StyleRole)] = []
        if !r.loaded {
            lines = [("reading results…", .dim)]
        } else {
            if let error = r.error { lines += wrapParagraph(error, width: width).map { ($0, .error) } + [("", .normal)] }
            lines.append(("No results yet.", .title))
            lines += wrapParagraph("Results appear here when an evaluation writes results.json into a run folder (\(state.runsDescription)/NAME/results.json): success rates per condition with 95% intervals, the verdicts on H1 and H2, and every self-report answer.", width: width).map { ($0, .normal) }
            lines.append(("", .normal))
            lines += wrapParagraph("To produce them: set up the experiment on Setup (1) and start it with s; its evaluation step writes the file. Then press R here to reload.", width: width).map { ($0, .dim) }
        }
        for (i, l) in lines.prefix(area.height - 2).enumerated() { buf.put(l.0, x: x, y: area.y + 1 + i, role: l.1, maxWidth: width) }
        return
    }
    let summary = entry.summary
    let word = try? TargetWord(summary.word)
    let x = area.x + 2
    let width = area.width - 4
    var y = area.y

    // Hypotheses.
    let runLabel = r.entries.count > 1 ? " (\(r.runIndex + 1)/\(r.entries.count), [ ])" : ""
    // Each hypothesis leads with its verdict and wraps, so the whole verdict reads at 80 columns; its statement
    // follows where there is room for it (120 columns).
    let textWidth = max(10, width - 3)
    let hypLines: [(id: String?, text: String)] = summary.hypotheses.flatMap { h -> [(id: String?, text: String)] in
        let text = h.verdict + (area.width >= 120 ? h.statement.map { " · " + $0 } ?? "" : "")
        return wrapParagraph(text, width: textWidth).enumerated().map { (i, line) in (i == 0 ? h.id : nil, line) }
    }
    let hypRoom = area.height >= 30 ? 10 : max(2, area.height / 4)
    let hypHeight = min(hypLines.count, hypRoom) + 2
    let hypRect = Rect(x: area.x, y: y, width: area.width, height: max(3, hypHeight))
    buf.box(hypRect, title: "Results · \(entry.run)\(runLabel) · word \(summary.word)", role: .border)
    if summary.hypotheses.isEmpty {
        buf.put("no hypotheses in this file", x: x, y: y + 1, role: .dim)
    }
    for (i, line) in hypLines.prefix(hypRect.height - 2).enumerated() {
        if let id = line.id { buf.put(id, x: x, y: y + 1 + i, role: .accent, attributes: [.bold], maxWidth: 3) }
        buf.put(line.text, x: x + 3, y: y + 1 + i, role: .normal, maxWidth: textWidth)
    }
    if hypLines.count > hypRect.height - 2 {
        buf.put(" …\(hypLines.count - (hypRect.height - 2)) more lines (report.md has them all) ", x: x + width - 38,
                y: hypRect.maxY - 1, role: .dim, maxWidth: 38)
    }
    y = hypRect.maxY

    // Conditions: k/n, rate, 95% interval, and a bar with the interval marked.
    let condRows = min(summary.conditions.count, max(1, (area.maxY - y) / 3))
    let condRect = Rect(x: area.x, y: y, width: area.width, height: condRows + 3)
    buf.box(condRect, title: "Conditions" + (entry.htmlReport.map { " · figures: " + abbreviatePath($0) } ?? ""), role: .border)
    let nameWidth = min(36, max(12, summary.conditions.map { displayWidth($0.name) }.max() ?? 12))
    let barWidth = max(10, width - nameWidth - 32)
    buf.put(pad("condition", nameWidth) + "  " + pad("k/n", 7, right: true) + "  " + pad("rate", 5, right: true) + "  "
            + pad("95% CI", 13) + " " + "0%" + String(repeating: " ", count: max(0, barWidth - 6)) + "100%",
            x: x, y: y + 1, role: .title, maxWidth: width)
    for (i, c) in summary.conditions.prefix(condRows).enumerated() {
        let cy = y + 2 + i
        var cx = x
        cx += buf.put(pad(c.name, nameWidth), x: cx, y: cy, role: .normal) + 2
        cx += buf.put(pad("\(c.successes)/\(c.trials)", 7, right: true), x: cx, y: cy, role: .normal) + 2
        cx += buf.put(pad(String(format: "%.0f%%", c.rate * 100), 5, right: true), x: cx, y: cy, role: .accent) + 2
        cx += buf.put(pad(String(format: "[%.0f–%.0f%%]", c.low * 100, c.high * 100), 13), x: cx, y: cy, role: .dim) + 1
        let bw = min(barWidth, x + width - cx)
        if bw > 2 { buf.put(intervalBar(rate: c.rate, low: c.low, high: c.high, width: bw), x: cx, y: cy, role: .chart) }
    }
    y = condRect.maxY

    // Sample browser.
    let sampleRect = Rect(x: area.x, y: y, width: area.width, height: area.maxY - y)
    guard sampleRect.height >= 4 else { return }
    let visible = r.visibleSamples
    var title = "Samples \(visible.count)/\(summary.samples.count) · condition: \(r.conditionFilter ?? "all") (c) · score: \(r.scoreFilter.rawValue) (s)"
    if r.filtering || !r.filter.text.isEmpty { title += " · /\(r.filter.text)" + (r.filtering ? "▏" : "") }
    buf.box(sampleRect, title: title, role: .border)
    let inner = sampleRect.inset(1)
    guard !visible.isEmpty else {
        buf.put(summary.samples.isEmpty ? "no samples in this file" : "no sample passes the filters (Esc clears them)",
                x: x, y: inner.y, role: .dim)
        return
    }
    let listRows = max(1, min(visible.count, inner.height / 4))
    let selected = min(r.selectedSample, visible.count - 1)
    let first = max(0, min(selected - listRows + 1, visible.count - listRows))
    let condWidth = min(24, max(9, visible.map { displayWidth($0.sample.condition) }.max() ?? 9))
    for (row, item) in visible.dropFirst(first).prefix(listRows).enumerated() {
        let sy = inner.y + row
        let isSelected = first + row == selected
        if isSelected { buf.fill(Rect(x: inner.x, y: sy, width: inner.width, height: 1), role: .selection) }
        let base: StyleRole = isSelected ? .selection : .normal
        var cx = x
        cx += buf.put(pad(item.sample.condition, condWidth), x: cx, y: sy, role: base) + 1
        // A researcher's label wins over the coder's category, marked "H:" so the two are never confused.
        if let human = item.sample.humanCategory {
            cx += buf.put(pad("H:" + human, 14), x: cx, y: sy, role: isSelected ? .selection : .accent) + 1
        } else {
            cx += buf.put(pad(item.sample.category, 14), x: cx, y: sy, role: isSelected ? .selection : .dim) + 1
        }
        if let word {
            let score = Acrostic.score(item.sample.reply, word: word)
            cx += buf.put(pad(score.initials, 8) + " \(score.matches)/\(word.count)", x: cx, y: sy, role: base) + 2
        }
        let preview = item.sample.reply.replacingOccurrences(of: "\n", with: " ⏎ ")
        buf.put(truncate(sanitizeForTerminal(preview), to: x + width - cx), x: cx, y: sy, role: isSelected ? .selection : .dim)
    }
    // The selected sample in full, letters highlighted; its prompt in the separator line.
    let sample = visible[selected].sample
    var dy = inner.y + listRows
    guard dy < inner.maxY else { return }
    buf.put(String(repeating: "─", count: inner.width), x: inner.x, y: dy, role: .border)
    let question = " Q: " + singleLine(sample.prompt) + " "
    buf.put(truncate(question, to: inner.width - 4), x: inner.x + 2, y: dy, role: .title)
    dy += 1
    let rows = wrapStyled(styledReplyLines(sample.reply, word: word), width: width, indent: 2)
    let room = max(0, inner.maxY - dy - 1)
    for row in rows.prefix(room) {
        buf.put(row, x: x, y: dy, maxWidth: width)
        dy += 1
    }
    if rows.count > room, room > 0 {
        buf.put(" …\(rows.count - room) more", x: x + width - 9, y: dy - 1, role: .dim)
    }
    buf.put(acrosticReadout(sample.reply, word: word), x: x, y: inner.maxY - 1, maxWidth: width)
}

/// A bar filled to `rate` with the interval [low, high] drawn as "─" around the tip.
public func intervalBar(rate: Double, low: Double, high: Double, width: Int) -> String {
    guard width > 0 else { return "" }
    func col(_ v: Double) -> Int { max(0, min(width - 1, Int((max(0, min(1, v)) * Double(width - 1)).rounded()))) }
    var chars = Array(repeating: Character("·"), count: width)
    let r = col(rate)
    for i in 0..<r { chars[i] = "█" }
    for i in col(low)...max(col(low), col(high)) where i >= r { chars[i] = "─" }
    chars[r] = "┃"
    if col(low) < r { chars[col(low)] = "├" }
    if col(high) > r { chars[col(high)] = "┤" }
    return String(chars)
}
