import CKernels
import Foundation
import XCTest
import ModelCore

/// activations.c: SwiGLU, its gradient and the residual add in C, with glibc's expf evaluated eight lanes at a time.
/// Every value must be the one the plain Swift loops gave (those loops called expf), bit for bit, or a trained
/// adapter and a sampled reply would change with the CPU's vector width.
final class ActivationKernelTests: XCTestCase {
    /// Ordinary values, the edges of expf's special ranges (|x| >= 88, underflow near -104, overflow past 88.72),
    /// infinities, zeros of both signs and a NaN.
    private func inputs(_ n: Int, seed: UInt64) -> [Float] {
        var rng = SeededRandom(seed: seed)
        let edges: [Float] = [0, -0, 88, -88, 88.72, 89, -87.5, -103, -104, 120, -120, .infinity, -.infinity, .nan,
                              1e-30, -1e-30, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        return (0..<n).map { i in i % 7 == 3 ? edges[(i / 7) % edges.count] : Float(rng.nextUnit() * 40 - 20) }
    }

    private func bits(_ a: [Float]) -> [UInt32] { a.map(\.bitPattern) }

    func testExpfEqualsTheLibraryOnASweepOfEveryExponent() {
        // every 251st bit pattern: all exponents, both signs, NaNs and infinities (the whole range took 18 s once,
        // with no difference)
        let stride = 251
        let n = Int((UInt64(1) << 32) / UInt64(stride)) + 1
        var x = [Float](repeating: 0, count: n), y = [Float](repeating: 0, count: n)
        for i in 0..<n { x[i] = Float(bitPattern: UInt32(truncatingIfNeeded: UInt64(i) * UInt64(stride))) }
        ht_expf_array(&y, x, n)
        var mismatches = 0
        for i in 0..<n {
            let want = expf(x[i])
            if want.bitPattern != y[i].bitPattern && !(want.isNaN && y[i].isNaN) {
                if mismatches < 5 { XCTFail("expf(\(x[i])) = \(want), kernel gave \(y[i])") }
                mismatches += 1
            }
        }
        XCTAssertEqual(mismatches, 0, "vector expf in use: \(ht_has_vector_expf() != 0)")
    }

    /// The vector path turns itself off when it disagrees with this libm's expf at start-up, which would also hide a
    /// broken constant from the sweep above: where glibc's algorithm is the one expf runs (2.28 on) on a CPU with
    /// AVX-512, it must be on.
    func testVectorExpfIsInUseOnGlibcWithAVX512() throws {
        try XCTSkipUnless(String(cString: ht_kernel_name()) == "avx512vnni", "no AVX-512 VNNI: the loops call expf")
        var name = [CChar](repeating: 0, count: 64)       // "glibc 2.36"
        _ = confstr(Int32(_CS_GNU_LIBC_VERSION), &name, name.count)
        let version = String(cString: name).split(separator: " ").last?.split(separator: ".").compactMap { Int($0) } ?? []
        try XCTSkipUnless(version.count >= 2 && (version[0], version[1]) >= (2, 28), "glibc before 2.28: another expf")
        XCTAssertEqual(ht_has_vector_expf(), 1)
    }

    func testSwigluEqualsTheSwiftLoopForEveryLengthAndEdge() {
        for n in [0, 1, 15, 16, 17, 33, 1000] {
            let gate = inputs(n, seed: UInt64(n) + 1), up = inputs(n, seed: UInt64(n) + 100)
            var out = [Float](repeating: 7, count: n)
            ht_swiglu(&out, gate, up, n)
            let expected = (0..<n).map { i in gate[i] / (1 + expf(-gate[i])) * up[i] }
            XCTAssertEqual(bits(out), bits(expected), "n = \(n)")
            var inPlace = gate
            inPlace.withUnsafeMutableBufferPointer { ht_swiglu($0.baseAddress, $0.baseAddress, up, n) }
            XCTAssertEqual(bits(inPlace), bits(expected), "in place, n = \(n)")
        }
    }

    func testSwigluGradientEqualsTheSwiftLoop() {
        for n in [1, 16, 31, 500] {
            let gate = inputs(n, seed: 7), up = inputs(n, seed: 8), dAct = inputs(n, seed: 9)
            var dGate = [Float](repeating: 0, count: n), dUp = [Float](repeating: 0, count: n)
            ht_swiglu_backward(&dGate, &dUp, dAct, gate, up, n)
            var wantGate = [Float](repeating: 0, count: n), wantUp = [Float](repeating: 0, count: n)
            for i in 0..<n {
                let g = gate[i]
                let sig = 1 / (1 + expf(-g))
                let silu = g * sig
                wantUp[i] = dAct[i] * silu
                wantGate[i] = dAct[i] * up[i] * sig * (1 + g * (1 - sig))
            }
            XCTAssertEqual(bits(dUp), bits(wantUp), "dUp, n = \(n)")
            XCTAssertEqual(bits(dGate), bits(wantGate), "dGate, n = \(n)")
        }
    }

    func testAddIsElementwise() {
        let a = inputs(37, seed: 3), b = inputs(37, seed: 4)
        var y = [Float](repeating: 0, count: 37)
        ht_add(&y, a, b, 37)
        XCTAssertEqual(bits(y), bits((0..<37).map { a[$0] + b[$0] }))
    }
}
