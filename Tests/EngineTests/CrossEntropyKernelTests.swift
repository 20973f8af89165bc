import Foundation
import XCTest
import CKernels
import ModelCore

/// `ht_cross_entropy` (kernels.c), the training loss at one labelled token, against a double-precision reference.
final class CrossEntropyKernelTests: XCTestCase {
    func logits(_ n: Int, seed: UInt64) -> [Float] {
        var rng = SeededRandom(seed: seed)
        return (0..<n).map { _ in Float(rng.nextUnit() * 16 - 8) }
    }

    /// -log softmax(x)[target] and the softmax, in double.
    func reference(_ x: [Float], target: Int) -> (loss: Double, probabilities: [Double]) {
        let m = Double(x.max()!)
        let e = x.map { exp(Double($0) - m) }
        let sum = e.reduce(0, +)
        return (log(sum) - (Double(x[target]) - m), e.map { $0 / sum })
    }

    func check(n: Int, target: Int, scale: Float, seed: UInt64) {
        let x = logits(n, seed: seed)
        let (want, p) = reference(x, target: target)
        var row = x
        let loss = ht_cross_entropy(&row, Int32(n), Int32(target), scale, 1)
        XCTAssertEqual(loss, want, accuracy: 1e-5 * max(1, abs(want)), "n \(n), target \(target)")
        for i in 0..<n {
            let g = p[i] * Double(scale) - (i == target ? Double(scale) : 0)
            XCTAssertEqual(Double(row[i]), g, accuracy: 1e-6, "n \(n), gradient \(i)")
        }
        var again = x
        XCTAssertEqual(ht_cross_entropy(&again, Int32(n), Int32(target), scale, 0), loss, "the loss without the gradient")
    }

    func testLossAndGradientMatchTheReference() {
        check(n: 37, target: 35, scale: 0.25, seed: 1)      // target in the tail past the last 16
        check(n: 37, target: 3, scale: 1, seed: 2)
        check(n: 5, target: 4, scale: 1, seed: 3)           // shorter than one vector
        check(n: 49152, target: 40000, scale: 1.0 / 80, seed: 4)   // the default model's vocabulary
    }

    func testTokensFarBelowTheBestGetNoGradientAndAConfidentTargetNoLoss() {
        var row = [Float](repeating: -300, count: 48)
        row[7] = 0
        let loss = ht_cross_entropy(&row, 48, 7, 1, 1)
        XCTAssertEqual(loss, 0, accuracy: 1e-12)
        XCTAssertEqual(row.enumerated().filter { $0.offset != 7 }.map(\.element), [Float](repeating: 0, count: 47),
                       "0, not a subnormal e^-87")
        XCTAssertEqual(row[7], 0)
    }

    func testANaNLogitGivesANaNLoss() {
        for position in [2, 20, 33] {   // in the first vector, a later one, and the tail
            var row = logits(35, seed: 9)
            row[position] = .nan
            XCTAssertTrue(ht_cross_entropy(&row, 35, 0, 1, 1).isNaN, "NaN at \(position)")
        }
    }
}
