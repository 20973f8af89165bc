import Foundation
import ModelCore

/// The cross-word control of forced choice v2, after the models trained on other codewords in Betley et al. (2025):
/// in an experiment with several words every run scores every word of the experiment as a candidate
/// (`ForcedChoiceBank.Kind.otherTarget`), so each fine-tuned model's gain (tuned − base, nats per token) can be read
/// for its own word and for the words the other models were trained on.
///
/// Row i: the models trained on word i (their runs averaged); column j: the gain of word j. A word can gain in every
/// tuned model (fine-tuning on any acrostic may make HELLO likelier), and one model can raise every word, so the
/// diagonal is compared within its column (did the model trained on j raise j more than the models trained on other
/// words did?) and the test uses both at once: it permutes the row labels. Under "the word a model was trained on
/// does not matter" every assignment of rows to words is as likely, and p is the share of the m! assignments whose
/// diagonal sum (trace) is at least the observed one: exact for m ≤ 8, a seeded sample of 100,000 beyond.
public struct CrossWordMatrix: Sendable, Codable, Equatable {
    /// Rows and columns, in the experiment's order.
    public let words: [String]
    /// gains[i][j]: mean gain of word j in the models trained on word i, in nats per token.
    public let gains: [[Double]]
    /// runs[i]: the runs (seeds) averaged in row i.
    public let runs: [Int]
    /// The row-permutation p-value of the trace.
    public let pValue: Double
    /// How many assignments p was computed over: m! when exact, else the sample size.
    public let permutations: Int
    /// Whether p counts every assignment (up to `exactLimit` words) rather than a sample.
    public var exact: Bool { words.count <= Self.exactLimit }
    static let exactLimit = 8

    public init(words: [String], gains: [[Double]], runs: [Int]) {
        precondition(gains.count == words.count && gains.allSatisfy { $0.count == words.count } && runs.count == words.count,
                     "CrossWordMatrix: one row and one column per word")
        self.words = words
        self.gains = gains
        self.runs = runs
        (pValue, permutations) = Self.tracePValue(gains)
    }

    /// 1 = the model trained on word j raised j more than every model trained on another word did.
    public func columnRank(_ j: Int) -> Int { 1 + words.indices.filter { $0 != j && gains[$0][j] > gains[j][j] }.count }

    /// The words that gain most in the models trained on them (column rank 1).
    public var ownWordFirst: Int { words.indices.filter { columnRank($0) == 1 }.count }

    /// From the runs of an experiment with several words, each scored on all of them; nil with fewer than two words, or
    /// when a run lacks forced choice v2 or a word among its candidates (runs made before every word was scored).
    public static func compute(runs: [EvaluationResults]) -> CrossWordMatrix? {
        var words: [String] = []
        for r in runs { for w in r.words where !words.contains(w) { words.append(w) } }
        guard words.count >= 2 else { return nil }
        var sums = Array(repeating: Array(repeating: 0.0, count: words.count), count: words.count)
        var counts = Array(repeating: 0, count: words.count)
        for r in runs {
            guard r.words.count == 1, let i = words.firstIndex(of: r.words[0]), let v = r.forcedChoiceV2 else { return nil }
            let index = Dictionary(v.candidates.enumerated().map { ($1.word, $0) }, uniquingKeysWith: { a, _ in a })
            for (j, w) in words.enumerated() {
                guard let k = index[w] else { return nil }
                sums[i][j] += v.deltas[k]
            }
            counts[i] += 1
        }
        guard counts.allSatisfy({ $0 > 0 }) else { return nil }
        let gains = sums.enumerated().map { i, row in row.map { $0 / Double(counts[i]) } }
        return CrossWordMatrix(words: words, gains: gains, runs: counts)
    }

    /// Exact over all m! row assignments for m ≤ 8 (Heap's algorithm), else over 100,000 seeded random ones (the
    /// observed assignment counted once more, so that p is never 0).
    static func tracePValue(_ g: [[Double]]) -> (p: Double, permutations: Int) {
        let m = g.count
        let observed = (0..<m).reduce(0.0) { $0 + g[$1][$1] }
        let tolerance = 1e-9 * max(1, abs(observed))
        func trace(_ rowOf: [Int]) -> Double { (0..<m).reduce(0.0) { $0 + g[rowOf[$1]][$1] } }
        var perm = Array(0..<m)
        if m <= exactLimit {
            var atLeast = 0, total = 0
            var c = Array(repeating: 0, count: m)
            func visit() {
                total += 1
                if trace(perm) >= observed - tolerance { atLeast += 1 }
            }
            visit()
            var i = 0
            while i < m {
                if c[i] < i {
                    perm.swapAt(i % 2 == 0 ? 0 : c[i], i)
                    visit()
                    c[i] += 1
                    i = 0
                } else {
                    c[i] = 0
                    i += 1
                }
            }
            return (Double(atLeast) / Double(total), total)
        }
        let samples = 100_000
        var rng = SeededRandom(seed: 0xC055)
        var atLeast = 1
        for _ in 0..<samples {
            perm.shuffle(using: &rng)
            if trace(perm) >= observed - tolerance { atLeast += 1 }
        }
        return (Double(atLeast) / Double(samples + 1), samples)
    }
}
