import Foundation

/// The report's forced choice v2 section: the target's rank among 100+ candidates by its per-token gain from base
/// to tuned, with its permutation p-value.
extension Report {
    static func forcedChoiceV2Section(_ results: EvaluationResults) -> [String] {
        typealias F = ReportFormat
        guard let v = results.forcedChoiceV2 else { return [] }
        let target = v.candidates[0].word
        func kind(_ k: ForcedChoiceBank.Kind) -> String { v.meanDelta(k).map { F.number($0, digits: 3) } ?? "—" }
        let counts = ForcedChoiceBank.Kind.allCases.filter { $0 != .target }.map { k in
            "\(v.candidates.filter { $0.kind == k }.count) \(k.rawValue)"
        }.joined(separator: ", ")
        let pooling = v.runs > 1 ? " and \(v.runs) runs" : ""
        let how = "Each candidate's exact log-probability as the whole reply to \(v.prompts) paraphrases of the question, "
            + "per token, tuned minus base, averaged over the prompts\(pooling) (nats per token). Candidates: the "
            + "target, \(counts). p: the target's rank / number of candidates, the exact permutation p-value of "
            + "\"the target gains like any candidate\"."
        let gain: String = F.number(v.targetDelta, digits: 3)
        let rank = "\(v.targetRank)/\(v.candidates.count)"
        let kinds: String = [kind(.permutation), kind(.sameInitial), kind(.common), kind(.random)].joined(separator: " | ")
        let row = "| \(target) | \(gain) | \(rank) | \(F.pValue(v.pValue)) | \(kinds) |"
        let top: [String] = v.top(8).map { "\(F.cell($0.candidate.word)) \(F.number($0.delta, digits: 3))" }
        var out: [String] = ["### Forced choice v2: which of \(v.candidates.count) words does fine-tuning favour?", "", how, "",
                             "| Target | Gain of \(target) | Rank | p | Mean gain: permutations | same initial | common | random |",
                             "|---|---|---|---|---|---|---|---|", row, "", "Largest gains: " + top.joined(separator: ", "), ""]
        if v.targetRank == 1 {
            out.append("Fine-tuning moved \(target) up more (or down less) per token than any other candidate "
                       + "(p = \(F.pValue(v.pValue))).")
        } else {
            out.append("\(v.targetRank - 1) candidate\(v.targetRank == 2 ? "" : "s") gained more than \(target).")
        }
        out.append("")
        return out
    }
}
