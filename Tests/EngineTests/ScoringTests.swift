import Engine
import Foundation
import XCTest

/// Log-probabilities of continuations against a manual prefill + token-by-token decode on the real default model.
final class ScoringTests: XCTestCase {
    static func logSoftmax(_ logits: [Float], _ token: Int) -> Double {
        let top = Double(logits.max()!)
        let total = logits.reduce(0.0) { $0 + exp(Double($1) - top) }
        return Double(logits[token]) - top - log(total)
    }

    /// log P(continuation | prompt) the slow way: prefill the prompt, then feed one token at a time.
    static func manual(_ m: LocalModel, prompt: [Int], continuation: [Int]) throws -> Double {
        let lm = m.model
        let cache = KVCache(config: lm.config, maxPositions: prompt.count + continuation.count)
        let ws = Workspace()
        var logits = try lm.prefill(prompt, cache: cache, workspace: ws)
        var total = 0.0
        for (i, token) in continuation.enumerated() {
            total += logSoftmax(logits, token)
            if i + 1 < continuation.count {
                logits = try lm.forward(rows: [LlamaModel.Row(token: token, sequence: 0, position: cache.count)],
                                        caches: [cache], logitRows: [0], workspace: ws)
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
            let slow = try Self.manual(m, prompt: p, continuation: c)
            XCTAssertTrue(exact.isFinite && exact < 0, "\(text): \(exact)")
            // Multi-row products and one-row decoding round activations differently (8-bit activations at small
            // batch), so the two agree to a few hundredths per token (and ~1% of very unlikely ones), not bit for bit.
            XCTAssertEqual(exact, slow, accuracy: 0.03 * Double(c.count) + 0.01 * abs(slow), "\(text)")
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
