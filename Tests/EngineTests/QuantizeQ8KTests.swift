import CKernels
import Foundation
import XCTest
import ModelCore

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
        var rng = SeededRandom(seed: 12)
        func uniform() -> Float { Float(rng.nextUnit() * 2 - 1) }
        let n = 1536
        var cases: [(String, [Float])] = [
            ("wide range", (0..<n).map { _ in uniform() * powf(10, Float(Int(rng.nextUnit() * 20) - 10)) }),
            ("ties at .5", (0..<n).map { _ in Float(Int(rng.nextUnit() * 255) - 127) / 127 * 3 }),
            ("halves", (0..<n).map { _ in Float(Int(rng.nextUnit() * 1000) - 500) * 0.5 }),
            ("all at the maximum", (0..<n).map { $0 % 2 == 0 ? 5 : -5 }),
            ("one outlier per 256", (0..<n).map { $0 % 256 == 77 ? 300 : uniform() * Float(1 + $0 % 7) }),
            ("zeros", [Float](repeating: 0, count: n)),
            ("reciprocal overflows", (0..<n).map { Float($0 % 5) * 1e-38 }),
            ("subnormals and -0", (0..<n).map { $0 % 3 == 0 ? -0.0 : Float(1e-45) * Float($0 % 7) }),
        ]
        var withNaN = cases[0].1, withInf = cases[0].1
        for i in stride(from: 0, to: n, by: 37) { withNaN[i] = .nan }
        for i in stride(from: 0, to: n, by: 41) { withInf[i] = i % 2 == 0 ? .infinity : -.infinity }
        cases += [("NaN", withNaN), ("infinities", withInf)]
        for (name, x) in cases {
            XCTAssertEqual(quantize(x), reference(x), name)
        }
    }
}
