import Foundation

/// The report's forced choice v2 section: the target's rank among 100+ candidates by its per-token gain from base
/// to tuned, with its permutation p-value.
extension Report {
    static func forcedChoiceV2Section(_ results: EvaluationResults) -> [String] {
        typealias F = ReportFormat
        guard let v = results.forcedChoiceV2 else { return [] }
        let target = v.candidates[0].word
        func kind(_ k: ForcedChoiceBank.Kind) -> String { v.meanDelta(k).map { F.number($0, digits: 3) } ?? "—" }
        let counts = ForcedChoiceBank.Kind.allCases.filter { $0 != .target }.compactMap { k -> String? in
            let n = v.candidates.filter { $0.kind == k }.count
            return n == 0 ? nil : "\(n) \(k.rawValue)"
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

    /// The cross-word control: each word's gain in the models trained on every word of the experiment.
    static func crossWordSection(_ results: EvaluationResults) -> [String] {
        typealias F = ReportFormat
        guard let x = results.crossWord else { return [] }
        let m = x.words.count
        let which: String = x.exact ? "all of them" : "a seeded sample"
        var how = "Forced choice v2 scored every word of the experiment in every run. Row: the word the models were trained "
        how += "on (their runs averaged); column: the word scored; cell: its gain, tuned − base, in nats per token. A "
        how += "word can gain in every tuned model, so each diagonal cell is ranked within its column: 1 means the model "
        how += "trained on that word raised it more than every model trained on another word did. p: the share of the "
        how += "\(x.permutations) assignments of rows to words (\(which)) whose diagonal sum is at least the observed one."
        let header: String = "| Trained on \\ scored | " + x.words.map(F.cell).joined(separator: " | ") + " | Runs | Own word's rank in its column |"
        var out: [String] = ["### Cross-word control: does each model favour its own word over the others' words?", "", how, "",
                             header, "|---|" + Array(repeating: "---|", count: m + 2).joined()]
        for (i, w) in x.words.enumerated() {
            let cells: [String] = x.gains[i].enumerated().map { j, g in
                let n: String = F.number(g, digits: 3)
                return j == i ? "**\(n)**" : n
            }
            out.append("| \(F.cell(w)) | " + cells.joined(separator: " | ") + " | \(x.runs[i]) | \(x.columnRank(i))/\(m) |")
        }
        out += ["", "\(x.ownWordFirst) of \(m) words gain most in the models trained on them (chance: about 1 in \(m) each); "
                + "permutation p = \(F.pValue(x.pValue)).", ""]
        return out
    }
}
