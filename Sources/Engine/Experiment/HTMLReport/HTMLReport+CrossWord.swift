import Foundation

/// The page's cross-word control: forced choice v2's gain of every word in the models trained on each, with the own
/// word's rank in its column and the row-permutation p-value (`CrossWordMatrix`). Nothing for a one-word experiment.
extension HTMLReport {
    static func crossWord(_ results: EvaluationResults) -> String {
        typealias F = ReportFormat
        guard let x = results.crossWord else { return "" }
        var text = "<p>Forced choice v2's gain (tuned − base, nats per token) of each word of the experiment, in the models "
        text += "trained on each. Row: trained on; column: scored; the diagonal is in bold. \(x.ownWordFirst) of "
        text += "\(x.words.count) words gain most in the models trained on them; row-permutation p = "
        text += "\(e(F.pValue(x.pValue))) over \(x.permutations) assignments.</p>"
        let header: String = "<table class=\"numbers\"><tr><th>Trained on \\ scored</th>"
            + x.words.map { "<th>\(e($0))</th>" }.joined() + "<th>Runs</th><th>Own word's rank in its column</th></tr>"
        var out: [String] = ["<section id=\"cross-word\"><h2>Cross-word control</h2>", text, header]
        for (i, w) in x.words.enumerated() {
            let cells: [String] = x.gains[i].enumerated().map { j, g in
                let n: String = e(F.number(g, digits: 3))
                return j == i ? "<td><strong>\(n)</strong></td>" : "<td>\(n)</td>"
            }
            out.append("<tr><th scope=\"row\">\(e(w))</th>" + cells.joined()
                       + "<td>\(x.runs[i])</td><td>\(x.columnRank(i))/\(x.words.count)</td></tr>")
        }
        out.append("</table></section>")
        return out.joined(separator: "\n")
    }
}
