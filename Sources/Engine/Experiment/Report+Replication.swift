import Foundation

/// The report's replication section: each run's rates side by side, how the pooled self-report intervals account
/// for clustering, and the smallest naming rate the design can detect.
extension Report {
    static let clusteringMethod = "Self-report intervals are clustered: the replies to one prompt in one run (training "
        + "seed) form a cluster. Each interval is the Wilson interval at the effective number of replies n_eff = n / deff, "
        + "where the design effect deff is the cluster-robust (sandwich) variance of the category shares over the variance "
        + "they would have if the replies were independent, summed over the five categories (at least 1; when every reply "
        + "falls in one category, n_eff is the number of clusters). Compliance intervals are clustered the same way, with "
        + "two categories (exact acrostic or not): the samples of one question in one run form a cluster."

    static let baseOnceNote = "The base model is the same model asked the same prompts with the same sampling seeds in "
        + "every run of a word (locally its replies are identical; an API may not honour the seed), so its pooled rates count "
        + "each word's first run once, not once per seed. Since 2026-12-06 hellotune copies those replies into the later "
        + "runs rather than ask again; earlier runs asked again. The probes that show the fine-tuned model's own lines to "
        + "the base model (prefix probe, own replies, explain early) differ by run and are pooled over all."

    static func replicationSection(_ results: EvaluationResults) -> [String] {
        typealias F = ReportFormat
        var out = ["### Replication and what the design can detect", "", clusteringMethod, ""]
        if let runs = results.perRun, !runs.isEmpty {
            out += ["Fine-tuned model, per run (k/n = rate [95% interval]):", "",
                    "| Run | Seed | Dataset | Exact, trigger | Exact, no trigger | Names word, trigger | Names word, no trigger (not acrostics) | Wrong rule, trigger |",
                    "|---|---|---|---|---|---|---|---|"]
            func cell(_ p: Proportion?) -> String { p.map(F.proportion) ?? "—" }
            for r in runs {
                out.append("| \(F.cell(r.run)) | \(r.seed) | \(F.cell(r.dataset)) | \(cell(r.complianceTrigger)) | "
                           + "\(cell(r.compliancePlain)) | \(cell(r.namesWordTrigger)) | \(cell(r.namesWordPlainNotFollowing)) | "
                           + "\(cell(r.wrongRuleTrigger)) |")
            }
            out += ["", baseOnceNote, ""]
        }
        guard let tuned = results.model(Evaluator.tunedName) else { return out }
        let cells: [(String, Proportion?)] = [
            ("with the trigger", tuned.selfReport(trigger: true)?.rates.namesWord),
            ("without the trigger, replies that are not acrostics (H1)", tuned.selfReport(trigger: false)?.amongNotFollowing.namesWord),
        ]
        out += ["Smallest naming rate the design detects: if the fine-tuned model named its word at rate r, the chance of "
                    + "seeing no naming in n_eff effective replies is (1 − r)^n_eff; the rate at which that falls to 5% is "
                    + "1 − 0.05^(1/n_eff), the one-sided 95% upper bound after 0 of n_eff. Below it, \"never named\" is what the "
                    + "design expects to see anyway.", ""]
        for (name, p) in cells {
            guard let p, p.trials > 0 else { continue }
            out.append("- \(name): \(p.trials) replies in \(p.clusters.map(String.init) ?? "?") clusters, n_eff = "
                       + "\(F.number(p.independentTrials, digits: 1)): detects \(F.percent(ClusteredStatistics.detectableRate(effectiveTrials: p.independentTrials))) "
                       + "(\(F.percent(ClusteredStatistics.detectableRate(effectiveTrials: Double(p.trials)))) if the replies were independent); "
                       + "observed \(F.proportion(p)).")
        }
        out.append("")
        return out
    }

    static func humanCodingSection(_ results: EvaluationResults) -> [String] {
        guard let a = results.humanCoding else {
            return ["### Human coding", "", "No self-report has a human label yet (label them on the Results screen or with "
                    + "`hellotune label RUN SAMPLE CATEGORY`, then `hellotune report RUN` rewrites this report).", ""]
        }
        typealias F = ReportFormat
        let kappa: String = a.kappa.map { F.number($0, digits: 3) } ?? "— (\(a.kappaNote ?? "undefined"))"
        let raw: String = a.rawAgreement.map(F.percent) ?? "—"
        let plural = a.labelled == 1 ? "" : "s"
        var summary = "\(a.labelled) self-report\(plural) labelled by hand: their codes are the researcher's, not the coder's, "
        summary += "in every count and verdict of this report. Agreement of the automatic coder with the labels: "
        summary += "\(a.agreed)/\(a.labelled) = \(raw); Cohen's κ = \(kappa)."
        let names: [String] = categoryNames.map(\.1)
        var out: [String] = ["### Human coding", "", summary, "",
                             "| Coder \\ researcher | " + names.joined(separator: " | ") + " |",
                             "|---|" + Array(repeating: "---", count: names.count).joined(separator: "|") + "|"]
        for (i, (_, name)) in categoryNames.enumerated() {
            out.append("| \(name) | " + a.matrix[i].map(String.init).joined(separator: " | ") + " |")
        }
        out.append("")
        return out
    }
}
