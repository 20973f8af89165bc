import Foundation
import XCTest
import CKernels
import ModelCore

/// ht_attention_scores and ht_attention_values replace a call per cached position; the numbers must be exactly the
/// per-position ht_dot_f32 and ht_axpy_f32 ones, or a reply would change with the kernel.
final class AttentionKernelTests: XCTestCase {
    private func random(_ n: Int, _ rng: inout SeededRandom) -> [Float] {
        (0..<n).map { _ in Float(rng.nextUnit() * 2 - 1) }
    }

    func testBitForBitThePerPositionLoops() {
        var rng = SeededRandom(seed: 3)
        // 64 and 128: the models' head sizes (each its own copy); 40 and 72: other multiples of 8 (the dot's tail
        // is scalar); 36: not a multiple of 8 (per-position axpy, scalar tails); 136: past what stays in registers.
        for d in [64, 128, 40, 72, 36, 136] {
            for n in [1, 7, 300] {
                let stride = d * 3
                let q = random(d, &rng), keys = random(n * stride, &rng), values = random(n * stride, &rng)
                let scale: Float = 0.125
                var p = [Float](repeating: .nan, count: n), pRef = [Float](repeating: 0, count: n)
                for t in 0..<n { pRef[t] = keys.withUnsafeBufferPointer { ht_dot_f32(q, $0.baseAddress! + t * stride, Int32(d)) * scale } }
                ht_attention_scores(&p, q, keys, stride, Int32(n), Int32(d), scale)
                XCTAssertEqual(p.map(\.bitPattern), pRef.map(\.bitPattern), "scores, d \(d), n \(n)")

                var o = [Float](repeating: .nan, count: d), oRef = [Float](repeating: 0, count: d)
                for t in 0..<n { values.withUnsafeBufferPointer { ht_axpy_f32(&oRef, pRef[t], $0.baseAddress! + t * stride, Int32(d)) } }
                ht_attention_values(&o, pRef, values, stride, Int32(n), Int32(d))
                XCTAssertEqual(o.map(\.bitPattern), oRef.map(\.bitPattern), "values, d \(d), n \(n)")
            }
        }
    }
}
