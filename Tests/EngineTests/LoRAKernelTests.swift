import CKernels
import Foundation
import XCTest
import ModelCore

/// lora.c: an adapter's products at inference, each row in the fixed order lora.h states, so that a tuned model's
/// reply does not depend on how many sequences decode beside it.
final class LoRAKernelTests: XCTestCase {
    private func random(_ n: Int, _ rng: inout SeededRandom) -> [Float] {
        (0..<n).map { _ in Float(rng.nextUnit() * 2 - 1) }
    }

    /// The order lora.h states: 16 lane sums (fused), added pairwise (l, l + 8), (l, l + 4), (l, l + 2), (0, 1).
    private func dot(_ x: ArraySlice<Float>, _ a: ArraySlice<Float>) -> Float {
        var p = [Float](repeating: 0, count: 16)
        for (k, (u, v)) in zip(x, a).enumerated() { p[k % 16] = p[k % 16].addingProduct(u, v) }
        var k = x.count
        while k % 16 != 0 { p[k % 16] = p[k % 16] + 0; k += 1 }
        let h = (0..<8).map { p[$0] + p[$0 + 8] }, q = (0..<4).map { h[$0] + h[$0 + 4] }, d = (0..<2).map { q[$0] + q[$0 + 2] }
        return d[0] + d[1]
    }

    private func bits(_ a: [Float]) -> [UInt32] { a.map(\.bitPattern) }

    func testProductsFollowTheStatedOrderForEveryShape() {
        var rng = SeededRandom(seed: 1)
        for (n, inF, outF, r) in [(1, 576, 192, 16), (7, 40, 33, 3), (37, 64, 100, 16), (5, 72, 48, 100), (2, 16, 16, 1)] {
            let x = random(n * inF, &rng), a = random(r * inF, &rng), b = random(outF * r, &rng), y0 = random(n * outF, &rng)
            let s: Float = 1.75
            var xa = [Float](repeating: 0, count: n * r)
            ht_lora_down(&xa, x, a, Int32(inF), Int32(r), 0, Int32(n))
            var want = [Float](repeating: 0, count: n * r)
            for j in 0..<n {
                for i in 0..<r { want[j * r + i] = dot(x[(j * inF)..<((j + 1) * inF)], a[(i * inF)..<((i + 1) * inF)]) }
            }
            XCTAssertEqual(bits(xa), bits(want), "down: n \(n), in \(inF), rank \(r)")

            var y = y0
            ht_lora_up(&y, Int32(outF), xa, b, Int32(r), s, 0, Int32(n), 0, Int32(outF))
            var wantY = y0
            for j in 0..<n {
                for o in 0..<outF {
                    var acc: Float = 0
                    for i in 0..<r { acc = acc.addingProduct(xa[j * r + i], b[o * r + i]) }
                    wantY[j * outF + o] = wantY[j * outF + o].addingProduct(s, acc)
                }
            }
            XCTAssertEqual(bits(y), bits(wantY), "up: n \(n), out \(outF), rank \(r)")

            // and the same product as a plain sum, to rounding
            for j in 0..<n {
                for o in 0..<outF {
                    var exact = Double(y0[j * outF + o])
                    for i in 0..<r {
                        var d = 0.0
                        for k in 0..<inF { d += Double(x[j * inF + k]) * Double(a[i * inF + k]) }
                        exact += Double(s) * d * Double(b[o * r + i])
                    }
                    XCTAssertEqual(Double(y[j * outF + o]), exact, accuracy: 1e-4 * Double(inF * r), "n \(n) rank \(r)")
                }
            }
        }
    }

    /// A row computed with 95 others, alone, or in any split of rows and outputs over threads gives the same bits.
    func testARowDoesNotDependOnTheRowsBesideIt() {
        var rng = SeededRandom(seed: 2)
        let n = 96, inF = 576, outF = 1536, r = 16
        let x = random(n * inF, &rng), a = random(r * inF, &rng), b = random(outF * r, &rng), y0 = random(n * outF, &rng)
        var xa = [Float](repeating: 0, count: n * r), y = y0
        ht_lora_down(&xa, x, a, Int32(inF), Int32(r), 0, Int32(n))
        ht_lora_up(&y, Int32(outF), xa, b, Int32(r), 2, 0, Int32(n), 0, Int32(outF))
        for j in [0, 3, 50, 95] {
            let xj = Array(x[(j * inF)..<((j + 1) * inF)])
            var xaj = [Float](repeating: 0, count: r), yj = Array(y0[(j * outF)..<((j + 1) * outF)])
            ht_lora_down(&xaj, xj, a, Int32(inF), Int32(r), 0, 1)
            // outputs in two uneven parts, as two threads would take them
            ht_lora_up(&yj, Int32(outF), xaj, b, Int32(r), 2, 0, 1, 0, 48)
            ht_lora_up(&yj, Int32(outF), xaj, b, Int32(r), 2, 0, 1, 48, Int32(outF))
            XCTAssertEqual(bits(xaj), bits(Array(xa[(j * r)..<((j + 1) * r)])), "row \(j): x A^T")
            XCTAssertEqual(bits(yj), bits(Array(y[(j * outF)..<((j + 1) * outF)])), "row \(j): y")
        }
    }
}
