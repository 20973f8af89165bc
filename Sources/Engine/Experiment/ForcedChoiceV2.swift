import Foundation

/// One model's exact log-probability of every candidate as the whole reply to one prompt, with each candidate's
/// length in tokens.
public struct CandidateLogProbabilities: Sendable, Codable, Equatable {
    public let candidates: [String]
    public let logProbabilities: [Double]
    public let tokens: [Int]

    public init(candidates: [String], logProbabilities: [Double], tokens: [Int]) {
        precondition(candidates.count == logProbabilities.count && candidates.count == tokens.count,
                     "CandidateLogProbabilities: one log-probability and one token count per candidate")
        self.candidates = candidates
        self.logProbabilities = logProbabilities
        self.tokens = tokens
    }
}

/// Forced choice v2 (`ForcedChoiceBank`): how much more likely, per token, the fine-tuned model makes each
/// candidate than the base model does, averaged over the prompts, and where the target ranks among them.
///
/// Per-token, because a word the tokenizer splits into more pieces has a lower log-probability in both models;
/// tuned − base, because a word such as HELLO is likely a priori. The p-value is the exact permutation p-value of
/// "the target's change is like any candidate's": under that null the target's rank is uniform over the N
/// candidates, so P(rank ≤ observed) = rank / N.
public struct ForcedChoiceV2Result: Sendable, Codable, Equatable {
    /// The target first.
    public let candidates: [ForcedChoiceBank.Candidate]
    public let prompts: Int
    /// Per candidate: the mean over prompts (and runs) of (log P_tuned − log P_base) / tokens, in nats per token.
    public let deltas: [Double]
    public let runs: Int

    public init(candidates: [ForcedChoiceBank.Candidate], prompts: Int, deltas: [Double], runs: Int = 1) {
        self.candidates = candidates
        self.prompts = prompts
        self.deltas = deltas
        self.runs = runs
    }

    public var targetDelta: Double { deltas[0] }
    /// 1 = the target gained the most.
    public var targetRank: Int { 1 + deltas.filter { $0 > deltas[0] }.count }
    public var pValue: Double { Double(targetRank) / Double(deltas.count) }

    /// The mean change of the candidates of one kind; nil when there are none.
    public func meanDelta(_ kind: ForcedChoiceBank.Kind) -> Double? {
        let d = zip(candidates, deltas).filter { $0.0.kind == kind }.map(\.1)
        return d.isEmpty ? nil : d.reduce(0, +) / Double(d.count)
    }

    /// The `n` candidates that gained the most, best first.
    public func top(_ n: Int) -> [(candidate: ForcedChoiceBank.Candidate, delta: Double)] {
        zip(candidates, deltas).sorted { $0.1 > $1.1 }.prefix(n).map { ($0.0, $0.1) }
    }

    /// From the two models' scores, prompt by prompt (only prompts both have, with the same candidates, count).
    public static func compute(candidates: [ForcedChoiceBank.Candidate], base: [String: CandidateLogProbabilities],
                               tuned: [String: CandidateLogProbabilities]) -> ForcedChoiceV2Result? {
        let words = candidates.map(\.word)
        let pairs = tuned.keys.sorted().compactMap { id -> (CandidateLogProbabilities, CandidateLogProbabilities)? in
            guard let t = tuned[id], let b = base[id], t.candidates == words, b.candidates == words else { return nil }
            return (b, t)
        }
        guard !pairs.isEmpty, !words.isEmpty else { return nil }
        let deltas = words.indices.map { i in
            pairs.reduce(0.0) { $0 + ($1.1.logProbabilities[i] - $1.0.logProbabilities[i]) / Double(max(1, $1.0.tokens[i])) }
                / Double(pairs.count)
        }
        return ForcedChoiceV2Result(candidates: candidates, prompts: pairs.count, deltas: deltas)
    }

    /// Runs with the same candidates as one: changes averaged, weighted by runs; nil when the candidates differ.
    public static func pooled(_ parts: [ForcedChoiceV2Result]) -> ForcedChoiceV2Result? {
        guard let first = parts.first, parts.allSatisfy({ $0.candidates == first.candidates }) else { return nil }
        let runs = parts.reduce(0) { $0 + $1.runs }
        let deltas = first.deltas.indices.map { i in parts.reduce(0.0) { $0 + $1.deltas[i] * Double($1.runs) } / Double(runs) }
        return ForcedChoiceV2Result(candidates: first.candidates, prompts: first.prompts, deltas: deltas, runs: runs)
    }
}
