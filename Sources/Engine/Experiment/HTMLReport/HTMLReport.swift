import Foundation
import Support

/// The report as one self-contained web page (`report.html` beside report.md): the verdicts, six figures drawn as
/// inline SVG with their numbers in a table beside each, and a browser of every reply. No script, style sheet or
/// font is fetched from anywhere; every model or user text is escaped.
public enum HTMLReport {
    public static let fileName = "report.html"

    /// The page for a run's report. `raw` is report.json as written, for the fields this build's types do not
    /// decode (a reading control added by a later evaluation); `samples` nil means none were found.
    public static func render(_ doc: ReportDocument, raw: Data? = nil, samples: [ReportSample]?, title: String) -> String {
        let word = doc.setup.words.count == 1 ? try? TargetWord(doc.setup.words[0]) : nil
        var body: [String] = []
        body.append("<header><h1>\(e(title))</h1><p class=\"sub\">\(e(setupLine(doc.setup)))</p></header>")
        body.append(verdicts(doc))
        body.append("<section><h2>Figures</h2><div class=\"grid\">")
        body.append(HTMLCharts.loss(doc.setup.trainingCurves ?? []))
        body.append(HTMLCharts.compliance(doc.results))
        body.append(HTMLCharts.letters(doc.results))
        body.append(HTMLCharts.selfReport(doc.results))
        body.append(HTMLCharts.reading(readingControl(raw), models: doc.results.models.map(\.model)))
        body.append(HTMLCharts.forcedChoice(doc.results))
        body.append("</div></section>")
        body.append(crossWord(doc.results))
        body.append(replication(doc.results))
        body.append(HTMLSampleBrowser.section(samples, word: word))
        body.append(setupSection(doc.setup))
        return page(title: title, style: style, body: body, script: HTMLSampleBrowser.script)
    }

    /// The frame of every hellotune page (this report, `compare --html`): self-contained, one style sheet, and a
    /// script only where the page has one.
    static func page(title: String, style: String, body: [String], script: String? = nil) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(e(title))</title>
        <style>\(style)</style>
        </head>
        <body>
        \(body.joined(separator: "\n"))
        \(script.map { "<script>\($0)</script>\n" } ?? "")</body>
        </html>

        """
    }

    static func e(_ s: String) -> String { HTMLText.escape(s) }

    /// The reading control per model ("correct" of "n" replies read the acrostic back), when report.json has one.
    static func readingControl(_ raw: Data?) -> [String: Proportion] {
        guard let raw, let root = try? JSONSerialization.jsonObject(with: raw) as? [String: Any],
              let models = (root["results"] as? [String: Any])?["models"] as? [[String: Any]] else { return [:] }
        var out: [String: Proportion] = [:]
        for m in models {
            guard let name = m["model"] as? String, let rc = m["readingControl"] as? [String: Any],
                  let k = (rc["correct"] as? NSNumber)?.intValue, let n = (rc["n"] as? NSNumber)?.intValue, n > 0 else { continue }
            out[name] = Statistics.wilson(successes: k, trials: n)
        }
        return out
    }

    static func setupLine(_ s: ReportSetup) -> String {
        "\(s.modelName) · \(s.backend) · word\(s.words.count == 1 ? "" : "s") \(s.words.joined(separator: ", ")) · seed"
            + "\(s.seeds.count == 1 ? "" : "s") \(s.seeds.map(String.init).joined(separator: ", ")) · \(s.date)"
    }

    static func verdicts(_ doc: ReportDocument) -> String {
        var out = ["<section id=\"verdicts\"><h2>Verdicts</h2>"]
        if doc.verdicts.isEmpty { out.append("<p>No hypothesis was evaluated.</p>") }
        for v in doc.verdicts {
            let cls = v.verdict.rawValue.replacingOccurrences(of: " ", with: "-")
            out.append("<div class=\"verdict\"><p><b>\(e(v.id))</b> <span class=\"badge \(cls)\">\(e(v.verdict.rawValue))</span>"
                + (v.reason.map { " <span class=\"reason\">(\(e($0)))</span>" } ?? "") + "</p>"
                + "<p>\(e(v.statement))</p><p class=\"evidence\">\(e(v.evidence))</p>"
                + "<p class=\"rule\">Rule: \(e(v.rule))</p></div>")
        }
        out.append("</section>")
        return out.joined(separator: "\n")
    }

    static func setupSection(_ s: ReportSetup) -> String {
        var rows: [(String, String)] = [("Model", s.modelName + (s.modelPath.map { " (\($0))" } ?? "")), ("Backend", s.backend),
                                        ("Words", s.words.joined(separator: ", "))]
        if let p = s.preset { rows.append(("Experiment", p)) }
        if let n = s.trainingExamples { rows.append(("Training examples", String(n))) }
        if let n = s.epochs { rows.append(("Epochs", String(n))) }
        if let lr = s.learningRate { rows.append(("Learning rate", String(lr))) }
        if let r = s.loraRank { rows.append(("LoRA rank", String(r))) }
        if let t = s.trainingSummary { rows.append(("Training", t)) }
        rows.append(("Seeds", s.seeds.map(String.init).joined(separator: ", ")))
        if let d = s.datasets { rows.append(("Training data", d)) }
        rows.append(("Date", s.date))
        if let r = s.reproduce { rows.append(("Reproduce", r)) }
        return "<section id=\"setup\"><h2>Setup</h2><table class=\"numbers\">"
            + rows.map { "<tr><th scope=\"row\">\(e($0.0))</th><td>\(e($0.1))</td></tr>" }.joined() + "</table></section>"
    }

    static let style = """
    :root{--fg:#1b1f24;--dim:#5b6570;--bg:#fff;--line:#d0d7de;--accent:#0b63c5;--match:#116329;--mismatch:#b3261e;
    --c0:#0b63c5;--c1:#6f42c1;--c2:#1a7f37;--c3:#bf8700;--c4:#8c959f}
    *{box-sizing:border-box}
    body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;
    max-width:1100px;padding:16px}
    h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;border-bottom:1px solid var(--line);padding-bottom:.2em}
    .sub,.evidence,.rule,figcaption,.dim{color:var(--dim)}
    .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,480px),1fr));gap:16px}
    figure.chart{margin:0;border:1px solid var(--line);border-radius:6px;padding:10px;break-inside:avoid;overflow-x:auto}
    figure.chart svg{width:100%;height:auto;display:block}
    figcaption{font-size:.9em;margin-bottom:6px}figcaption b{color:var(--fg)}
    table.numbers{border-collapse:collapse;font-size:.85em;margin-top:6px;width:100%}
    table.numbers th,table.numbers td{border-top:1px solid var(--line);padding:2px 6px;text-align:left;vertical-align:top}
    table.numbers td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
    .verdict{border-left:4px solid var(--line);padding:2px 10px;margin:8px 0}.verdict p{margin:.2em 0}
    .badge{font-weight:600;padding:0 6px;border-radius:4px;border:1px solid currentColor}
    .supported{color:var(--match)}.not-supported{color:var(--mismatch)}.inconclusive,.not-testable{color:var(--dim)}
    .filters{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin:8px 0}
    .sample{border:1px solid var(--line);border-radius:6px;padding:8px;margin:8px 0;break-inside:avoid}
    .sample .meta{font-size:.85em;color:var(--dim)}.sample pre{white-space:pre-wrap;word-break:break-word;margin:.3em 0;
    font:14px/1.4 ui-monospace,"SFMono-Regular",Menlo,monospace}
    .match{color:var(--match);font-weight:700;text-decoration:underline}
    .mismatch{color:var(--mismatch);font-weight:700;text-decoration:line-through}
    .mark-bar{fill:var(--c0)}.ci{stroke:var(--fg);stroke-width:1.5}.axis{stroke:var(--line)}
    svg text{font:13px system-ui,sans-serif;fill:var(--fg)}svg .dimtext{fill:var(--dim)}
    .hidden{display:none}
    @media print{body{max-width:none;padding:0;font-size:11pt}.filters,#shown{display:none}
    .grid{display:block}figure.chart{margin:0 0 12px}a{color:inherit}}
    """
}
