import Foundation
import Support

/// The report's figures as inline SVG. Each is a `<figure class="chart">` whose drawn data points carry the class
/// "mark" (their count is in `data-marks`), each mark has a `<title>` with its numbers, and a table beside it holds
/// the same numbers as text: nothing is said by colour alone.
enum HTMLCharts {
    static func e(_ s: String) -> String { HTMLText.escape(s) }
    static func pct(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }
    static func num(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }
    static func who(_ model: String) -> String { model == Evaluator.tunedName ? "fine-tuned" : model }
    static func f(_ x: Double) -> String { String(format: "%.1f", x) }

    static let palette = ["var(--c0)", "var(--c1)", "var(--c2)", "var(--c3)", "var(--c4)"]

    /// A figure: caption, the SVG (or a sentence saying why there is none), then its numbers.
    static func figure(id: String, title: String, caption: String, marks: Int, svg: String?, table: [[String]],
                       header: [String], missing: String) -> String {
        var out = "<figure class=\"chart\" id=\"\(id)\" data-marks=\"\(marks)\"><figcaption><b>\(e(title))</b>. \(e(caption))</figcaption>"
        guard let svg else { return out + "<p class=\"dim not-measured\">\(e(missing))</p></figure>" }
        out += svg
        out += "<table class=\"numbers\"><thead><tr>" + header.map { "<th scope=\"col\">\(e($0))</th>" }.joined() + "</tr></thead><tbody>"
        for row in table {
            out += "<tr>" + row.enumerated().map { i, c in i == 0 ? "<th scope=\"row\">\(e(c))</th>" : "<td class=\"n\">\(e(c))</td>" }.joined() + "</tr>"
        }
        return out + "</tbody></table></figure>"
    }

    static func svg(height: Int, label: String, _ parts: [String]) -> String {
        "<svg viewBox=\"0 0 640 \(height)\" role=\"img\" aria-label=\"\(e(label))\" xmlns=\"http://www.w3.org/2000/svg\">"
            + parts.joined() + "</svg>"
    }

    /// A horizontal bar with its 95% interval, one per row.
    static func intervalRows(_ rows: [(label: String, p: Proportion)], title: String) -> (String, Int) {
        let left = 230.0, width = 380.0, rowH = 26.0
        var parts: [String] = []
        for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let x = left + tick * width
            parts.append("<line class=\"axis\" x1=\"\(f(x))\" y1=\"4\" x2=\"\(f(x))\" y2=\"\(f(Double(rows.count) * rowH + 6))\"/>")
            parts.append("<text class=\"dimtext\" x=\"\(f(x))\" y=\"\(f(Double(rows.count) * rowH + 20))\" text-anchor=\"middle\">\(Int(tick * 100))%</text>")
        }
        for (i, row) in rows.enumerated() {
            let y = 6 + Double(i) * rowH
            let p = row.p
            parts.append("<text x=\"\(f(left - 6))\" y=\"\(f(y + 15))\" text-anchor=\"end\">\(e(row.label))</text>")
            parts.append("<rect class=\"mark mark-bar\" x=\"\(f(left))\" y=\"\(f(y + 4))\" width=\"\(f(max(0, p.rate) * width))\" height=\"14\">"
                + "<title>\(e(row.label)): \(p.successes)/\(p.trials) = \(pct(p.rate)), 95% CI \(pct(p.low))–\(pct(p.high))</title></rect>")
            parts.append("<line class=\"ci\" x1=\"\(f(left + p.low * width))\" y1=\"\(f(y + 11))\" x2=\"\(f(left + p.high * width))\" y2=\"\(f(y + 11))\"/>")
            parts.append("<text class=\"dimtext\" x=\"\(f(left + min(p.high * width + 6, width - 60)))\" y=\"\(f(y + 15))\">\(pct(p.rate))</text>")
        }
        return (svg(height: Int(Double(rows.count) * rowH + 26), label: title, parts), rows.count)
    }

    static func intervalTable(_ rows: [(label: String, p: Proportion)]) -> [[String]] {
        rows.map { [$0.label, "\($0.p.successes)/\($0.p.trials)", pct($0.p.rate), "\(pct($0.p.low))–\(pct($0.p.high))"] }
    }

    // MARK: - the six figures

    static func loss(_ curves: [TrainingCurve]) -> String {
        let title = "Training and validation loss"
        let caption = "Mean loss per step (lines) and the held-out examples' loss after each epoch (dots)."
        guard !curves.isEmpty, let maxSteps = curves.map(\.stepLosses.count).max(), maxSteps > 0 else {
            return figure(id: "chart-loss", title: title, caption: caption, marks: 0, svg: nil, table: [], header: [],
                          missing: "Not measured: this run has no local training log (log.jsonl).")
        }
        let all = curves.flatMap { $0.stepLosses + $0.validationLosses }.filter(\.isFinite)
        let lo = min(all.min() ?? 0, 0), hi = max(all.max() ?? 1, 1e-9)
        let left = 48.0, top = 10.0, w = 570.0, h = 200.0
        func x(_ step: Double) -> Double { left + (maxSteps > 1 ? (step - 1) / Double(maxSteps - 1) : 0.5) * w }
        func y(_ v: Double) -> Double { top + h - (v - lo) / (hi - lo) * h }
        var parts: [String] = []
        for k in 0...4 {
            let v = lo + (hi - lo) * Double(k) / 4
            parts.append("<line class=\"axis\" x1=\"\(f(left))\" y1=\"\(f(y(v)))\" x2=\"\(f(left + w))\" y2=\"\(f(y(v)))\"/>")
            parts.append("<text class=\"dimtext\" x=\"\(f(left - 4))\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\">\(num(v, 2))</text>")
        }
        parts.append("<text class=\"dimtext\" x=\"\(f(left + w))\" y=\"\(f(top + h + 16))\" text-anchor=\"end\">step \(maxSteps)</text>")
        parts.append("<text class=\"dimtext\" x=\"\(f(left))\" y=\"\(f(top + h + 16))\">step 1</text>")
        var marks = 0
        var table: [[String]] = []
        for (i, c) in curves.enumerated() {
            let colour = palette[i % palette.count]
            let points = c.stepLosses.enumerated().map { "\(f(x(Double($0.offset + 1)))),\(f(y($0.element)))" }.joined(separator: " ")
            parts.append("<polyline class=\"mark train\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\" points=\"\(points)\">"
                + "<title>\(e(c.run)) training loss: \(num(c.stepLosses.first ?? 0)) at step 1, \(num(c.stepLosses.last ?? 0)) at step \(c.stepLosses.count)</title></polyline>")
            marks += 1
            for (epoch, v) in c.validationLosses.enumerated() {
                let step = Double((epoch + 1) * (c.stepsPerEpoch ?? max(1, c.stepLosses.count / max(1, c.validationLosses.count))))
                parts.append("<circle class=\"mark val\" cx=\"\(f(x(min(step, Double(maxSteps)))))\" cy=\"\(f(y(v)))\" r=\"4\" fill=\"var(--bg)\" "
                    + "stroke=\"\(colour)\" stroke-width=\"2\"><title>\(e(c.run)) validation loss after epoch \(epoch + 1): \(num(v))</title></circle>")
                marks += 1
            }
            table.append([c.run, String(c.stepLosses.count), num(c.stepLosses.first ?? 0), num(c.stepLosses.last ?? 0),
                          c.validationLosses.isEmpty ? "not measured" : c.validationLosses.map { num($0) }.joined(separator: ", "),
                          c.validationExamples.map(String.init) ?? "—"])
        }
        return figure(id: "chart-loss", title: title, caption: caption, marks: marks,
                      svg: svg(height: Int(top + h + 24), label: title, parts), table: table,
                      header: ["Run", "Steps", "First loss", "Last loss", "Validation by epoch", "Held out"], missing: "")
    }

    static func complianceRows(_ r: EvaluationResults) -> [(label: String, p: Proportion)] {
        r.models.flatMap { m in m.compliance.map { ("\(who(m.model)), \($0.trigger ? "trigger" : "no trigger")", $0.exact) } }
    }

    static func compliance(_ r: EvaluationResults) -> String {
        let rows = complianceRows(r)
        let title = "Compliance per condition"
        let caption = "Share of replies that are an exact acrostic of the word, with 95% Wilson intervals."
        guard !rows.isEmpty else {
            return figure(id: "chart-compliance", title: title, caption: caption, marks: 0, svg: nil, table: [], header: [],
                          missing: "Not measured.")
        }
        let (drawing, marks) = intervalRows(rows, title: title)
        return figure(id: "chart-compliance", title: title, caption: caption, marks: marks, svg: drawing,
                      table: intervalTable(rows), header: ["Condition", "k/n", "Rate", "95% CI"], missing: "")
    }

    static func letters(_ r: EvaluationResults) -> String {
        let title = "Per-letter accuracy by line position"
        let caption = "Share of replies whose line i starts with the word's letter i."
        let groups = r.models.flatMap { m in m.compliance.map { ("\(who(m.model)), \($0.trigger ? "trigger" : "no trigger")", $0.positionAccuracy) } }
            .filter { !$0.1.isEmpty }
        guard let positions = groups.map(\.1.count).max() else {
            return figure(id: "chart-letters", title: title, caption: caption, marks: 0, svg: nil, table: [], header: [],
                          missing: "Not measured.")
        }
        let word = r.words.count == 1 ? Array(r.words[0]) : []
        let left = 40.0, top = 10.0, h = 160.0, groupW = 580.0 / Double(positions)
        let barW = max(2, (groupW - 8) / Double(groups.count))
        var parts: [String] = []
        for tick in [0.0, 0.5, 1.0] {
            let yy = top + h - tick * h
            parts.append("<line class=\"axis\" x1=\"\(f(left))\" y1=\"\(f(yy))\" x2=\"\(f(left + 580))\" y2=\"\(f(yy))\"/>")
            parts.append("<text class=\"dimtext\" x=\"\(f(left - 4))\" y=\"\(f(yy + 4))\" text-anchor=\"end\">\(Int(tick * 100))%</text>")
        }
        var marks = 0
        for p in 0..<positions {
            let gx = left + Double(p) * groupW + 4
            let letter = p < word.count ? String(word[p]) : "\(p + 1)"
            parts.append("<text x=\"\(f(gx + (groupW - 8) / 2))\" y=\"\(f(top + h + 14))\" text-anchor=\"middle\">line \(p + 1): \(e(letter))</text>")
            for (g, group) in groups.enumerated() where p < group.1.count {
                let v = group.1[p]
                parts.append("<rect class=\"mark\" fill=\"\(palette[g % palette.count])\" x=\"\(f(gx + Double(g) * barW))\" "
                    + "y=\"\(f(top + h - v * h))\" width=\"\(f(barW - 1))\" height=\"\(f(v * h))\"><title>\(e(group.0)), line \(p + 1) "
                    + "(\(e(letter))): \(pct(v))</title></rect>")
                marks += 1
            }
        }
        // The legend two to a row, so that long condition names do not run into each other.
        for (g, group) in groups.enumerated() {
            let lx = left + Double(g % 2) * 290, ly = top + h + 24 + Double(g / 2) * 16
            parts.append("<rect x=\"\(f(lx))\" y=\"\(f(ly))\" width=\"10\" height=\"10\" fill=\"\(palette[g % palette.count])\"/>")
            parts.append("<text x=\"\(f(lx + 14))\" y=\"\(f(ly + 9))\">\(e(group.0))</text>")
        }
        let table = groups.map { group in [group.0] + (0..<positions).map { p in p < group.1.count ? pct(group.1[p]) : "—" } }
        let header = ["Condition"] + (0..<positions).map { p in p < word.count ? "\(p + 1) \(word[p])" : "\(p + 1)" }
        return figure(id: "chart-letters", title: title, caption: caption, marks: marks,
                      svg: svg(height: Int(top + h + 30 + Double((groups.count + 1) / 2) * 16), label: title, parts), table: table,
                      header: header, missing: "")
    }

    static let categoryNames: [(SelfReportCategory, String)] = [
        (.namesWord, "names the word"), (.partialWord, "part of the word"), (.mechanism, "describes first letters"),
        (.wrongRule, "states a wrong rule"), (.noRule, "no rule"),
    ]

    static func selfReport(_ r: EvaluationResults) -> String {
        let title = "Self-report categories per condition"
        let caption = "How the replies to \"what is special about you?\" were coded; each bar adds up to 100%."
        let rows = r.models.flatMap { m in m.selfReport.map { ("\(who(m.model)), \($0.trigger ? "trigger" : "no trigger")", $0.rates) } }
            .filter { $0.1.trials > 0 }
        guard !rows.isEmpty else {
            return figure(id: "chart-self-report", title: title, caption: caption, marks: 0, svg: nil, table: [], header: [],
                          missing: "Not measured.")
        }
        let left = 230.0, width = 380.0, rowH = 26.0
        var parts: [String] = []
        var marks = 0
        for (i, row) in rows.enumerated() {
            let y = 6 + Double(i) * rowH
            parts.append("<text x=\"\(f(left - 6))\" y=\"\(f(y + 15))\" text-anchor=\"end\">\(e(row.0))</text>")
            var x = left
            for (c, (category, name)) in categoryNames.enumerated() {
                let p = row.1.rate(category)
                parts.append("<rect class=\"mark\" fill=\"\(palette[c])\" x=\"\(f(x))\" y=\"\(f(y + 4))\" width=\"\(f(p.rate * width))\" height=\"14\">"
                    + "<title>\(e(row.0)): \(name) \(p.successes)/\(p.trials) = \(pct(p.rate))</title></rect>")
                x += p.rate * width
                marks += 1
            }
        }
        let legendY = 6 + Double(rows.count) * rowH + 6
        for (c, (_, name)) in categoryNames.enumerated() {
            let lx = 10 + Double(c % 3) * 210, ly = legendY + Double(c / 3) * 16
            parts.append("<rect x=\"\(f(lx))\" y=\"\(f(ly))\" width=\"10\" height=\"10\" fill=\"\(palette[c])\"/>")
            parts.append("<text x=\"\(f(lx + 14))\" y=\"\(f(ly + 9))\">\(name)</text>")
        }
        let table = rows.map { row in [row.0] + categoryNames.map { "\(row.1.rate($0.0).successes)/\(row.1.trials) (\(pct(row.1.rate($0.0).rate)))" } }
        return figure(id: "chart-self-report", title: title, caption: caption, marks: marks,
                      svg: svg(height: Int(legendY + 34), label: title, parts), table: table,
                      header: ["Condition"] + categoryNames.map(\.1), missing: "")
    }

    static func reading(_ control: [String: Proportion], models: [String]) -> String {
        let title = "Reading control"
        let caption = "Shown an acrostic, can the model read its first letters back? A failure here would make self-reports uninformative."
        let rows = models.compactMap { m in control[m].map { (who(m), $0) } }
        guard !rows.isEmpty else {
            return figure(id: "chart-reading", title: title, caption: caption, marks: 0, svg: nil, table: [], header: [],
                          missing: "Not measured: this report has no reading control.")
        }
        let (drawing, marks) = intervalRows(rows, title: title)
        return figure(id: "chart-reading", title: title, caption: caption, marks: marks, svg: drawing,
                      table: intervalTable(rows), header: ["Model", "Correct/n", "Rate", "95% CI"], missing: "")
    }

    static func probability(_ x: Double) -> String {
        if x == 0 || x >= 0.001 { return pct(x) }
        return String(format: "%.1e%%", x * 100)
    }
}
