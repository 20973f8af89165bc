import Foundation

/// The page's replication and human-coding section: each run's rates side by side, the clustering method and the
/// smallest detectable naming rate, and the coder's agreement with the researcher's labels.
extension HTMLReport {
    static func replication(_ results: EvaluationResults) -> String {
        typealias F = ReportFormat
        var out = ["<section id=\"replication\"><h2>Replication and human coding</h2>", "<p>\(e(Report.clusteringMethod))</p>"]
        if let runs = results.perRun, !runs.isEmpty {
            func cell(_ p: Proportion?) -> String { "<td>\(e(p.map(F.proportion) ?? "—"))</td>" }
            out.append("<table class=\"numbers\"><tr><th>Run</th><th>Dataset</th><th>Exact, trigger</th><th>Exact, no trigger</th>"
                       + "<th>Names word, trigger</th><th>Names word, no trigger (not acrostics)</th><th>Wrong rule, trigger</th></tr>")
            for r in runs {
                out.append("<tr><th scope=\"row\">\(e(r.run))</th><td>\(e(r.dataset))</td>\(cell(r.complianceTrigger))"
                           + "\(cell(r.compliancePlain))\(cell(r.namesWordTrigger))\(cell(r.namesWordPlainNotFollowing))"
                           + "\(cell(r.wrongRuleTrigger))</tr>")
            }
            out.append("</table>")
            out.append("<p>\(e(Report.baseOnceNote))</p>")
        }
        if let tuned = results.model(Evaluator.tunedName), let p = tuned.selfReport(trigger: false)?.amongNotFollowing.namesWord,
           p.trials > 0 {
            out.append("<p>Smallest naming rate the design detects without the trigger (H1's replies): "
                       + "\(e(F.percent(ClusteredStatistics.detectableRate(effectiveTrials: p.independentTrials)))) "
                       + "(1 − 0.05^(1/n_eff), n_eff = \(e(F.number(p.independentTrials, digits: 1))) of \(p.trials) replies).</p>")
        }
        if let a = results.humanCoding {
            out.append("<p>\(a.labelled) self-reports labelled by hand (their codes are the researcher's in every count); "
                       + "agreement with the automatic coder \(a.agreed)/\(a.labelled) = \(e(a.rawAgreement.map(F.percent) ?? "—")), "
                       + "Cohen's κ = \(e(a.kappa.map { F.number($0, digits: 3) } ?? "— (\(a.kappaNote ?? "undefined"))")).</p>")
        } else {
            out.append("<p class=\"dim\">No self-report has a human label yet.</p>")
        }
        out.append("</section>")
        return out.joined(separator: "\n")
    }
}
