import Foundation
import XCTest
import ModelCore

/// The forward pass's element-wise passes split over the cores once they are large enough; every number must be
/// what the one-core loop gives, or a reply would depend on how many sequences decode beside it.
final class ElementwiseTests: XCTestCase {
    private func random(_ n: Int, _ rng: inout SeededRandom) -> [Float] {
        (0..<n).map { _ in Float(rng.nextUnit() * 8 - 4) }
    }

    func testSplitPassesEqualTheSerialLoops() throws {
        try XCTSkipIf(Parallel.threadCount < 2, "one thread: nothing is split (HELLOTUNE_THREADS or a one-core machine)")
        var rng = SeededRandom(seed: 11)
        let dim = 576
        for rows in [1, 5, 64] {   // below and above elementwiseMinimum
            let x = random(rows * dim, &rng), weight = random(dim, &rng)
            var y = [Float](repeating: 0, count: rows * dim)
            rmsnorm(&y, x, weight, rows: rows, dim: dim, eps: 1e-5)
            var expected = [Float](repeating: 0, count: rows * dim)
            for r in 0..<rows {
                var ss: Float = 0
                for i in 0..<dim { ss += x[r * dim + i] * x[r * dim + i] }
                let inv = 1 / (ss / Float(dim) + 1e-5).squareRoot()
                for i in 0..<dim { expected[r * dim + i] = x[r * dim + i] * inv * weight[i] }
            }
            XCTAssertEqual(y.map(\.bitPattern), expected.map(\.bitPattern), "rmsnorm, \(rows) rows")

            let count = rows * dim * 3
            let up = random(count, &rng)
            var gate = random(count, &rng)
            var gateRef = gate
            swiglu(&gate, up, count: count)
            for i in 0..<count { gateRef[i] = gateRef[i] / (1 + expf(-gateRef[i])) * up[i] }
            XCTAssertEqual(gate.map(\.bitPattern), gateRef.map(\.bitPattern), "swiglu, \(count) values")

            var sum = x
            add(&sum, up, count: rows * dim)
            XCTAssertEqual(sum.map(\.bitPattern), (0..<(rows * dim)).map { (x[$0] + up[$0]).bitPattern }, "add, \(rows) rows")
        }
        XCTAssertGreaterThan(64 * dim, elementwiseMinimum, "the largest case must take the split path")
    }
}
