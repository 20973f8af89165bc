import CKernels
import Foundation
import XCTest
import ModelCore

/// sampling.c: the sampler's scans and sort in C, each exactly what the Swift loops they replace gave.
final class SamplingKernelTests: XCTestCase {
    /// Logits with runs of equal values, both zeros, -infinity and (where asked) NaN.
    private func logits(_ n: Int, seed: UInt64, nan: Bool = false) -> [Float] {
        var rng = SeededRandom(seed: seed)
        return (0..<n).map { i in
            switch i % 13 {
            case 3: return 0
            case 7: return -0.0
            case 11: return -.infinity
            case 12 where nan: return .nan
            default: return Float(Int(rng.nextUnit() * 64)) / 4 - 8   // coarse: many ties
            }
        }
    }

    private func swiftArgmax(_ x: [Float]) -> Int {
        var best = 0, m = -Float.infinity
        for i in 0..<x.count where x[i] > m { m = x[i]; best = i }
        return best
    }

    func testArgmaxIsTheFirstLargestAsTheLoopFindsIt() {
        for n in [1, 15, 16, 17, 100, 49_152] {
            for seed in 1...3 as ClosedRange<UInt64> {
                let x = logits(n, seed: seed, nan: seed == 2)
                XCTAssertEqual(Int(ht_argmax_first(x, Int32(n))), swiftArgmax(x), "n \(n), seed \(seed)")
            }
        }
        XCTAssertEqual(ht_argmax_first([-.infinity, -.infinity, .nan], 3), 0, "nothing above -infinity: 0")
        let late = [Float](repeating: -1, count: 40) + [3] + [Float](repeating: 3, count: 20)
        XCTAssertEqual(ht_argmax_first(late, Int32(late.count)), 40)
        XCTAssertEqual(ht_argmax_first([-0.0, 0, -0.0], 3), 0, "-0 and +0 tie")
    }

    func testCandidateKeysAndTheirSortEqualTheSwiftLoopAndSort() {
        for (n, temperature) in [(10, Float(1)), (63, 0.7), (64, 0.7), (1000, 1), (49_152, 0.7), (49_152, 2)] {
            let x = logits(n, seed: UInt64(n))
            let best = x[swiftArgmax(x)]
            let floor = best - Sampler.logitWindow * temperature, invT = 1 / temperature
            var want: [UInt64] = []
            for i in 0..<n where x[i] >= floor { want.append(Sampler.sortKey(x[i] * invT, id: i)) }
            var keys = [UInt64](repeating: 0, count: n)
            let count = Int(ht_candidate_keys(&keys, x, Int32(n), floor, invT))
            XCTAssertEqual(Array(keys.prefix(count)), want, "keys, n \(n)")
            var sorted = Array(keys.prefix(count)), scratch = [UInt64](repeating: 0, count: max(1, count))
            ht_sort_keys(&sorted, Int32(count), &scratch)
            XCTAssertEqual(sorted, want.sorted(), "sort, n \(n), \(count) candidates")
        }
    }
}
