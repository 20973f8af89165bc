import CKernels
import Foundation
import XCTest
import ModelCore
import TestSupport

/// kernels.c's `ht_quantize_q8`: the 8-bit activation column every integer product reads. The AVX-512 path must
/// give the scalar rule's bytes (kernels.h's layout), or a product's result would depend on the CPU.
final class QuantizeQ8Tests: XCTestCase {
    /// The rule, as the scalar loop states it: per block of 32, d = max|x| / 127, q = lrintf(x / d) as an int,
    /// d eight times, then d * sum(q).
    private func reference(_ x: [Float]) -> [UInt8] {
        let n = x.count
        var q = [Int8](repeating: 0, count: n), d8 = [Float](), s = [Float]()
        for b in 0..<(n / 32) {
            var amax: Float = 0
            for i in 0..<32 { let a = abs(x[b * 32 + i]); amax = a > amax ? a : amax }
            let d = amax / 127, id: Float = d > 0 ? 1 / d : 0
            var sum: Int32 = 0
            for i in 0..<32 {
                let v = Int32(truncatingIfNeeded: lrintf(x[b * 32 + i] * id))
                q[b * 32 + i] = Int8(truncatingIfNeeded: v)
                sum &+= v
            }
            d8 += [Float](repeating: d, count: 8)
            s.append(d * Float(sum))
        }
        var bytes = q.map { UInt8(bitPattern: $0) }
        for f in d8 + s { withUnsafeBytes(of: f.bitPattern.littleEndian) { bytes += $0 } }
        return bytes
    }

    private func quantize(_ x: [Float]) -> [UInt8] {
        var out = [UInt8](repeating: 0xAA, count: ht_q8_column_bytes(Int32(x.count)))
        out.withUnsafeMutableBytes { ht_quantize_q8($0.baseAddress!, x, Int32(x.count)) }
        return out
    }

    func testColumnsFollowTheScalarRuleOnOrdinaryAndOddInputs() {
        for (name, x) in ActivationCases.ordinaryAndOdd(count: 1536, seed: 11) {
            XCTAssertEqual(quantize(x), reference(x), name)
        }
    }
}
