import Foundation
import XCTest
import ModelCore

/// Log-probabilities of continuations against a manual prefill + token-by-token decode on the real default model.
final class ScoringTests: XCTestCase {
    static func logSoftmax(_ logits: [Float], _ token: Int) -> Double {
        let top = Double(logits.max()!)
        let total = logits.reduce(0.0) { $0 + exp(Double($1) - top) }
        return Double(logits[token]) - top - log(total)
    }

    /// log P(continuation | prompt) the slow way: prefill the prompt, then feed one token at a time, at the
    /// given precision.
    static func manual(_ m: LocalModel, prompt: [Int], continuation: [Int], precision: ProductPrecision) throws -> Double {
        let lm = m.model
        let cache = KVCache(config: lm.config, maxPositions: prompt.count + continuation.count)
        let ws = Workspace()
        var logits = try lm.prefill(prompt, cache: cache, workspace: ws, precision: precision)
        var total = 0.0
        for (i, token) in continuation.enumerated() {
            total += logSoftmax(logits, token)
            if i + 1 < continuation.count {
                logits = try lm.forward(rows: [LlamaModel.Row(token: token, sequence: 0, position: cache.count)],
                                        caches: [cache], logitRows: [0], workspace: ws, precision: precision)
            }
        }
        return total
    }

    func prompt(_ m: LocalModel) -> [Int] {
        m.encode(LocalModel.conversation(system: nil, user: "What is the capital of France?"))
    }

    func testLogProbabilityMatchesManualDecode() throws {
        let m = try TestModel.shared()
        let p = prompt(m)
        for text in ["The capital of France is Paris.", "Bananas are purple<|im_end|>", "Paris"] {
            let c = m.tokenizer.encode(text)
            let exact = try m.logProbability(of: c, after: p, workspace: Workspace())
            XCTAssertTrue(exact.isFinite && exact < 0, "\(text): \(exact)")
            // Same float activations, so only the order of float sums differs (one row at a time against sgemm).
            let slow = try Self.manual(m, prompt: p, continuation: c, precision: .float)
            XCTAssertEqual(exact, slow, accuracy: 1e-3 * abs(slow) + 1e-3, "\(text)")
            // Generation's 8-bit activations (prompt and steps) move a score by about a tenth of a nat per token
            // and ~2% of a very unlikely one (measured: 0.13 on "Paris", 0.9 of 40 on the purple bananas).
            let fast = try Self.manual(m, prompt: p, continuation: c, precision: .fast)
            XCTAssertEqual(exact, fast, accuracy: 0.2 * Double(c.count) + 0.03 * abs(fast), "\(text)")
        }
    }

    /// A prompt through the 8-bit kernels (generation) against float activations (exact scores), by the oracle
    /// tests' measure: the best token within float's top 3 (near ties may swap), 8 of the top 10 shared,
    /// centred logits within 0.6; on prompts of both sides of `blasMinimumRows`.
    func testFastPrefillStaysCloseToFloat() throws {
        let m = try TestModel.shared()
        let short = m.tokenizer.encode("The capital of France is")
        let long = m.encode(LocalModel.conversation(system: nil, user: String(
            repeating: "Explain how a river shapes the valley it runs through, and why. ", count: 8)))
        XCTAssertLessThan(short.count, QuantizedMatrix.blasMinimumRows)
        XCTAssertGreaterThan(long.count, 2 * QuantizedMatrix.blasMinimumRows)
        for ids in [short, long] {
            let c = m.model.config
            let fast = try m.model.prefill(ids, cache: KVCache(config: c, maxPositions: ids.count), workspace: Workspace())
            let exact = try m.model.prefill(ids, cache: KVCache(config: c, maxPositions: ids.count), workspace: Workspace(),
                                            precision: .float)
            func top(_ l: [Float], _ k: Int) -> [Int] { Array(l.indices.sorted { l[$0] > l[$1] }.prefix(k)) }
            XCTAssertTrue(top(exact, 3).contains(top(fast, 1)[0]), "\(ids.count) tokens")
            XCTAssertGreaterThanOrEqual(Set(top(fast, 10)).intersection(top(exact, 10)).count, 8, "\(ids.count) tokens")
            // Centred logits (each minus its mean) of the float top 10, as the oracle tests compare them.
            let meanF = fast.reduce(0, +) / Float(fast.count), meanE = exact.reduce(0, +) / Float(exact.count)
            let worst = top(exact, 10).map { abs((fast[$0] - meanF) - (exact[$0] - meanE)) }.max()!
            XCTAssertLessThan(worst, 0.6, "\(ids.count) tokens")
        }
    }

    func testSharedPrefillMatchesSingleScores() throws {
        let m = try TestModel.shared()
        let p = prompt(m)
        let continuations = ["Paris<|im_end|>", "London<|im_end|>", "The capital of France is Paris."].map { m.tokenizer.encode($0) }
        let ws = Workspace()
        let shared = try m.logProbabilities(of: continuations, after: p, workspace: ws)
        XCTAssertEqual(shared.count, 3)
        for (c, s) in zip(continuations, shared) {
            let single = try m.logProbability(of: c, after: p, workspace: ws)
            // Both keep float activations; only the order of float sums differs.
            XCTAssertEqual(s, single, accuracy: 1e-3 * abs(single) + 1e-3)
        }
        // The right answer is far more likely than the wrong one.
        XCTAssertGreaterThan(shared[0], shared[1])
        XCTAssertEqual(try m.logProbabilities(of: [], after: p, workspace: ws), [])
    }

    /// Forced choice scores 100+ candidates after one prompt: they run together (past 32 rows the products go
    /// through sgemm, and past 128 rows or 48 continuations a new group starts), and each still gets its own score.
    func testManyContinuationsInOnePassMatchSingleScores() throws {
        let m = try TestModel.shared()
        let p = prompt(m)
        let words = ["Paris", "London", "Rome", "Berlin", "Madrid", "Lisbon", "Vienna", "Prague", "Oslo", "Dublin"]
        var continuations = words.flatMap { w in [w, "\(w)<|im_end|>", "It is \(w).", "\(w), of course."] }
            .map { m.tokenizer.encode($0) }
        continuations += [[], m.tokenizer.encode("A much longer answer than the others, to stretch one sequence.")]
        continuations += words.map { m.tokenizer.encode("The answer, as far as I can tell, is \($0).") }
        XCTAssertGreaterThan(continuations.reduce(0) { $0 + max(0, $1.count - 1) }, 128)
        let ws = Workspace()
        let shared = try m.logProbabilities(of: continuations, after: p, workspace: ws)
        XCTAssertEqual(shared.count, continuations.count)
        for (c, s) in zip(continuations, shared) {
            let single = try m.logProbability(of: c, after: p, workspace: ws)
            XCTAssertEqual(s, single, accuracy: 1e-3 * abs(single) + 1e-3, "\(c)")
        }
    }

    func testNextTokenDistribution() throws {
        let m = try TestModel.shared()
        let p = prompt(m)
        let dist = try m.nextTokenDistribution(after: p)
        XCTAssertEqual(dist.count, m.model.config.vocabularySize)
        XCTAssertEqual(dist.reduce(0.0) { $0 + Double($1) }, 1, accuracy: 1e-4)
        XCTAssertTrue(dist.allSatisfy { $0 >= 0 && $0 <= 1 })
        // Its argmax is the prefill's argmax, and its probabilities are those of one-token continuations.
        let cache = KVCache(config: m.model.config, maxPositions: p.count)
        let logits = try m.model.prefill(p, cache: cache, workspace: Workspace(), precision: .float)
        let top = logits.indices.max { logits[$0] < logits[$1] }!
        XCTAssertEqual(dist.indices.max { dist[$0] < dist[$1] }!, top)
        let lp = try m.logProbability(of: [top], after: p, workspace: Workspace())
        XCTAssertEqual(Double(dist[top]), exp(lp), accuracy: 1e-3)
    }

    func testEdgeCases() throws {
        let m = try TestModel.shared()
        XCTAssertThrowsError(try m.logProbability(of: [1], after: [], workspace: Workspace()))
        XCTAssertThrowsError(try m.nextTokenDistribution(after: []))
        XCTAssertEqual(try m.logProbability(of: [], after: prompt(m), workspace: Workspace()), 0)
        XCTAssertThrowsError(try m.logProbabilities(of: [[m.model.config.vocabularySize]], after: prompt(m), workspace: Workspace()))
    }
}
