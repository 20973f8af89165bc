import Foundation
import XCTest
import ModelCore

final class SamplerTests: XCTestCase {
    /// The sampler before the integer sort key: candidates as (id, logit) tuples, stable-sorted by logit. The key
    /// must give the same candidates in the same order, so every draw is the same token.
    private func referenceSample(_ logits: [Float], _ p: SamplingParameters, _ random: inout SeededRandom) -> Int {
        var best = 0
        for i in logits.indices where logits[i] > logits[best] { best = i }
        if p.temperature <= 0 || p.topK == 1 { return best }
        let invT = 1 / p.temperature
        let floor = logits[best] - Sampler.logitWindow * p.temperature
        var candidates: [(id: Int, logit: Float)] = []
        for i in logits.indices where logits[i] >= floor { candidates.append((i, logits[i] * invT)) }
        candidates.sort { $0.logit > $1.logit }
        if p.topK > 0, candidates.count > p.topK { candidates.removeLast(candidates.count - p.topK) }
        let top = candidates[0].logit
        var probs = candidates.map { expf($0.logit - top) }
        var total = probs.reduce(0, +)
        var keep = probs.count
        if p.minP > 0 { while keep > 1, probs[keep - 1] < p.minP { keep -= 1 } }
        if p.topP < 1 {
            var mass: Float = 0
            for i in 0..<keep {
                mass += probs[i] / total
                if mass >= p.topP { keep = i + 1; break }
            }
        }
        probs.removeLast(probs.count - keep)
        total = probs.reduce(0, +)
        var u = Float(random.nextUnit()) * total
        for i in 0..<keep {
            u -= probs[i]
            if u <= 0 { return candidates[i].id }
        }
        return candidates[keep - 1].id
    }

    func testDrawsEqualTheStableSortOfTuples() {
        var rng = SeededRandom(seed: 7)
        let settings = [
            SamplingParameters(temperature: 0.7), SamplingParameters(temperature: 1.3, topK: 40),
            SamplingParameters(temperature: 0.7, topP: 0.9), SamplingParameters(temperature: 1, minP: 0.05),
        ]
        for (k, base) in settings.enumerated() {
            var p = base
            p.seed = UInt64(k)
            var sampler = Sampler(p)
            var reference = SeededRandom(seed: p.seed)
            for step in 0..<60 {
                // Coarse values, so that many logits tie (and both zeros appear), over a vocabulary-sized row.
                var logits = (0..<4096).map { _ in Float(Int(rng.next() % 64) - 40) / 4 }
                logits[Int(rng.next() % 4096)] = -0.0
                logits[Int(rng.next() % 4096)] = 0
                let expected = referenceSample(logits, p, &reference)
                let got = logits.withUnsafeBufferPointer { b in
                    var copy = Array(b)
                    return copy.withUnsafeMutableBufferPointer { sampler.sample($0, history: []) }
                }
                XCTAssertEqual(got, expected, "setting \(k), step \(step)")
            }
        }
    }

    func testSortKeyOrdersByLogitDescendingThenID() {
        let values: [Float] = [3, -0.0, 0, -2.5, 3, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1e-30, -1e-30,
                               .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .infinity, -.infinity, -2.5]
        let pairs = values.enumerated().map { (id: $0.offset, logit: $0.element) }
        let expected = pairs.sorted { $0.logit != $1.logit ? $0.logit > $1.logit : $0.id < $1.id }.map(\.id)
        let got = pairs.map { Sampler.sortKey($0.logit, id: $0.id) }.sorted().map { Int($0 & 0xFFFF_FFFF) }
        XCTAssertEqual(got, expected)
    }
}
