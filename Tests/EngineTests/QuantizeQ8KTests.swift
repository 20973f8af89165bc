import CKernels
import Foundation
import XCTest
import ModelCore
import TestSupport

/// q8k.c's `ht_quantize_q8k`: the activation column the K-quant panels read. The AVX-512 path must give the
/// rule's bytes (kquant.h's layout), or a product's result would depend on the CPU.
final class QuantizeQ8KTests: XCTestCase {
    /// The rule: per 256 values, d = max|x| / (127 KMAX); per 32 of them, the factor k = ceil(KMAX max|x32| /
    /// max|x256|) within 1...KMAX; q = lrintf(x / (k d)) within +-127 (0 for an infinite or NaN quotient); then k
    /// per 32, 32 times the sum of q per 16 (int32), and k times the sum of q per 32 (int16).
    private func reference(_ x: [Float]) -> [UInt8] {
        let n = x.count, kmax = Float(HT_Q8K_KMAX)
        var q = [Int8](repeating: 0, count: n), d = [Float](), k = [Int32](), s16 = [Int32](), s32 = [Int16]()
        for b in 0..<(n / 256) {
            let amax = (0..<8).map { j in (0..<32).reduce(Float(0)) { m, i in let a = abs(x[b * 256 + 32 * j + i]); return a > m ? a : m } }
            let top = amax.reduce(Float(0)) { $1 > $0 ? $1 : $0 }
            let db = top / (127 * kmax)
            d.append(db)
            for j in 0..<8 {
                let r = amax[j] * kmax / top
                let kj: Int32 = !(r > 1) ? 1 : r >= kmax ? Int32(HT_Q8K_KMAX) : Int32(r.rounded(.up))
                let step = db * Float(kj), id: Float = step > 0 ? 1 / step : 0
                var sums: [Int32] = [0, 0]
                for i in 0..<32 {
                    let p = x[b * 256 + 32 * j + i] * id
                    let v: Int32 = abs(p) < 2_147_483_648 ? Int32(max(-127, min(127, lrintf(p)))) : 0
                    q[b * 256 + 32 * j + i] = Int8(v)
                    sums[i / 16] += v
                }
                k.append(kj)
                s16 += [32 * sums[0], 32 * sums[1]]
                s32.append(Int16(kj * (sums[0] + sums[1])))
            }
        }
        var bytes = q.map { UInt8(bitPattern: $0) }
        for f in d { withUnsafeBytes(of: f.bitPattern.littleEndian) { bytes += $0 } }
        for v in k + s16 { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        for v in s32 { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        return bytes
    }

    private func quantize(_ x: [Float]) -> [UInt8] {
        var out = [UInt8](repeating: 0xAA, count: ht_q8k_column_bytes(Int32(x.count)))
        out.withUnsafeMutableBytes { ht_quantize_q8k($0.baseAddress!, x, Int32(x.count)) }
        return out
    }

    func testColumnsFollowTheRuleOnOrdinaryAndOddInputs() {
        var rng = SplitMix64(seed: 12)
        let n = 1536
        // The per-256 scale and per-32 factors' own edge cases: every block at the maximum, one outlier per 256.
        let cases = ActivationCases.ordinaryAndOdd(count: n, seed: 12) + [
            ("all at the maximum", (0..<n).map { $0 % 2 == 0 ? 5 : -5 }),
            ("one outlier per 256", (0..<n).map { $0 % 256 == 77 ? 300 : (rng.nextFloat() * 2 - 1) * Float(1 + $0 % 7) }),
        ]
        for (name, x) in cases {
            XCTAssertEqual(quantize(x), reference(x), name)
        }
    }
}
