import Foundation
import Support

/// `hellotune compare --html FILE`: the comparison as one self-contained page, drawn with the HTML report's own
/// figure, interval chart and style (`HTMLCharts`, `HTMLReport.style`): the side-by-side table, the differences
/// that matter, all runs' compliance in one chart, and a section per run with its own chart and numbers. No
/// script, style sheet or font is fetched; every text from a report is escaped.
public enum ComparisonHTML {
    static func e(_ s: String) -> String { HTMLText.escape(s) }
    static func letter(_ i: Int) -> String { ComparisonText.letter(i) }

    public static func render(_ c: RunComparison, title: String = "Runs compared") -> String {
        var body: [String] = []
        body.append("<header><h1>\(e(title))</h1><p class=\"sub\">\(c.runs.count) runs, each read from its report.json</p></header>")
        body.append(legend(c))
        body.append(sideBySide(c))
        body.append(differences(c))
        body.append("<section id=\"all-compliance\"><h2>Compliance of every run</h2>\(allCompliance(c))</section>")
        body.append("<section id=\"runs\"><h2>Each run</h2><div class=\"grid\">")
        for (i, run) in c.runs.enumerated() { body.append(runFigure(run, index: i)) }
        body.append("</div></section>")
        let style = HTMLReport.style + """

            table.compare td{white-space:normal}.overlap-no{color:var(--mismatch);font-weight:600}
            #all-compliance figure.chart{max-width:720px}
            """
        return HTMLReport.page(title: title, style: style, body: body)
    }

    static func legend(_ c: RunComparison) -> String {
        "<section id=\"legend\"><h2>Runs</h2><table class=\"numbers\">"
            + c.runs.enumerated().map { i, r in
                "<tr><th scope=\"row\">run \(letter(i))</th><td>\(e(r.name))</td><td class=\"dim\">\(e(r.path))</td></tr>"
            }.joined() + "</table></section>"
    }

    /// The text table's rows, as a table with a column per run.
    static func sideBySide(_ c: RunComparison) -> String {
        var out = "<section id=\"side-by-side\"><h2>Side by side</h2><table class=\"numbers compare\"><thead><tr><th scope=\"col\"></th>"
            + c.runs.indices.map { "<th scope=\"col\">run \(letter($0))</th>" }.joined() + "</tr></thead><tbody>"
        for row in ComparisonText.rows(c) {
            if row.heading {
                out += "<tr><th scope=\"colgroup\" colspan=\"\(c.runs.count + 1)\">\(e(row.label))</th></tr>"
            } else {
                out += "<tr><th scope=\"row\">\(e(row.label))</th>" + row.cells.map { "<td>\(e($0))</td>" }.joined() + "</tr>"
            }
        }
        out += "</tbody></table>"
        let rules = ComparisonText.rules(c, width: Int.max / 4).filter { !$0.isEmpty }
        if !rules.isEmpty { out += "<ul class=\"rules dim\">" + rules.map { "<li>\(e($0))</li>" }.joined() + "</ul>" }
        return out + "</section>"
    }

    static func differences(_ c: RunComparison) -> String {
        // The same sentences as the text, one per item, with "do NOT overlap" marked as well as worded.
        let items = ComparisonText.differences(c, width: Int.max / 4).dropFirst().map { line -> String in
            let text = line.hasPrefix("- ") ? String(line.dropFirst(2)) : line
            let cls = text.contains("do NOT overlap") ? " class=\"overlap-no\"" : ""
            return "<li\(cls)>\(e(text))</li>"
        }
        return "<section id=\"differences\"><h2>Differences that matter</h2><ul>" + items.joined() + "</ul></section>"
    }

    static func rows(_ run: ComparedRun) -> [(label: String, p: Proportion)] {
        run.compliance.map { ("\(HTMLCharts.who($0.model)), \($0.trigger ? "trigger" : "no trigger")", $0.exact.proportion) }
            + run.readingControl.map { ("\(HTMLCharts.who($0.model)), reading control", $0.correct.proportion) }
    }

    static func allCompliance(_ c: RunComparison) -> String {
        let title = "Compliance per run and condition"
        let caption = "Share of replies that are an exact acrostic of the word, with 95% Wilson intervals, run by run."
        let rows = c.runs.enumerated().flatMap { i, r in
            r.compliance.map { ("\(letter(i)): \(HTMLCharts.who($0.model)), \($0.trigger ? "trigger" : "no trigger")", $0.exact.proportion) }
        }
        guard !rows.isEmpty else {
            return HTMLCharts.figure(id: "compare-compliance", title: title, caption: caption, marks: 0, svg: nil, table: [],
                                     header: [], missing: "Not measured in any run.")
        }
        let (drawing, marks) = HTMLCharts.intervalRows(rows, title: title)
        return HTMLCharts.figure(id: "compare-compliance", title: title, caption: caption, marks: marks, svg: drawing,
                                 table: HTMLCharts.intervalTable(rows), header: ["Run: condition", "k/n", "Rate", "95% CI"], missing: "")
    }

    /// One run's compliance and reading control as bars with intervals, then its verdicts, forced choice and loss.
    static func runFigure(_ run: ComparedRun, index: Int) -> String {
        let title = "Run \(letter(index)): \(run.name)"
        let caption = "\(run.words.joined(separator: ", ")) · \(run.model) · \(run.backend) · seed"
            + "\(run.seeds.count == 1 ? "" : "s") \(run.seeds.map(String.init).joined(separator: ", "))"
            + (run.preset.map { " · \($0)" } ?? "") + " · \(run.date)"
        let bars = Self.rows(run)
        let id = "compare-run-\(letter(index))"
        var figure: String
        if bars.isEmpty {
            figure = HTMLCharts.figure(id: id, title: title, caption: caption, marks: 0, svg: nil, table: [], header: [],
                                       missing: "Neither compliance nor the reading control was measured.")
        } else {
            let (drawing, marks) = HTMLCharts.intervalRows(bars, title: title)
            figure = HTMLCharts.figure(id: id, title: title, caption: caption, marks: marks, svg: drawing,
                                       table: HTMLCharts.intervalTable(bars), header: ["Condition", "k/n", "Rate", "95% CI"], missing: "")
        }
        var facts: [(String, String)] = run.verdicts.map { v in
            (v.id, v.verdict + (v.reason.map { " (\($0))" } ?? ""))
        }
        facts.append(("Forced choice", ComparisonText.forcedChoice(run.forcedChoice)))
        facts.append(("Validation loss", ComparisonText.validation(run.validationLoss)))
        let list = "<table class=\"numbers facts\">" + facts.map { "<tr><th scope=\"row\">\(e($0.0))</th><td>\(e($0.1))</td></tr>" }.joined()
            + "</table>"
        figure.insert(contentsOf: list, at: figure.range(of: "</figure>", options: .backwards)!.lowerBound)
        return figure
    }
}
