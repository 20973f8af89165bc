import Foundation
import XCTest
import ModelCore
import Training

/// Training's products through frozen quantised weights, against the whole matrix dequantised and one sgemm.
final class FrozenProductsTests: XCTestCase {
    /// A Q8_0 matrix of random codes with block scale 0.01, big enough to take more than one tile.
    func matrix(rows: Int, cols: Int) -> (QuantizedMatrix, UnsafeMutableRawPointer) {
        let rowBytes = GGMLType.q8_0.rowBytes(cols)!
        let data = UnsafeMutableRawPointer.allocate(byteCount: rows * rowBytes, alignment: 64)
        var rng = SeededRandom(seed: 21)
        let bytes = data.assumingMemoryBound(to: UInt8.self)
        for i in 0..<(rows * rowBytes) { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
        let scale = Float16(0.01).bitPattern
        for block in 0..<(rows * cols / 32) { data.storeBytes(of: scale, toByteOffset: block * 34, as: UInt16.self) }
        return (QuantizedMatrix(name: "w", type: .q8_0, rows: rows, cols: cols, data: data, panels: false), data)
    }

    func random(_ n: Int, seed: UInt64) -> [Float] {
        var rng = SeededRandom(seed: seed)
        return (0..<n).map { _ in Float(rng.nextUnit() - 0.5) }
    }

    func testBothProductsMatchTheDequantisedMatrixAcrossTiles() throws {
        let rows = 20_000, cols = 256, T = 7
        XCTAssertGreaterThan(rows, FrozenProducts.tileRows(cols: cols), "the matrix must span several tiles")
        let (w, data) = matrix(rows: rows, cols: cols)
        defer { data.deallocate() }
        let full = FloatBuffer(rows * cols)
        w.dequantize(into: full.pointer)
        let x = random(T * cols, seed: 1), dy = random(T * rows, seed: 2), start = random(T * cols, seed: 3)
        let products = FrozenProducts(precision: .float)

        // forward: y (T, rows) = x W^T
        let y = FloatBuffer(T * rows), yRef = FloatBuffer(T * rows)
        products.forward([(w, y.pointer)], x: x, T: T)
        gemm(false, true, m: T, n: rows, k: cols, x, full.pointer, yRef.pointer)
        // input gradient: dx (T, cols) = dy W, and dx += dy W
        let dx = FloatBuffer(T * cols), dxRef = FloatBuffer(T * cols)
        products.inputGradient(w, dy: dy, T: T, into: dx.pointer, accumulate: false)
        gemm(false, false, m: T, n: cols, k: rows, dy, full.pointer, dxRef.pointer)
        let acc = FloatBuffer(T * cols), accRef = FloatBuffer(T * cols)
        acc.pointer.update(from: start, count: T * cols)
        accRef.pointer.update(from: start, count: T * cols)
        products.inputGradient(w, dy: dy, T: T, into: acc.pointer, accumulate: true)
        gemm(false, false, m: T, n: cols, k: rows, dy, full.pointer, beta: 1, accRef.pointer)

        for (name, got, want, n) in [("forward", y, yRef, T * rows), ("dx", dx, dxRef, T * cols), ("dx +=", acc, accRef, T * cols)] {
            var worst: Float = 0, scale: Float = 0
            for i in 0..<n {
                worst = max(worst, abs(got.pointer[i] - want.pointer[i]))
                scale = max(scale, abs(want.pointer[i]))
            }
            XCTAssertGreaterThan(scale, 0, name)
            XCTAssertLessThan(worst, 1e-4 * scale, name)
        }
    }

    /// `.fast` runs the input gradient in bfloat16 where the CPU has AVX-512 BF16: 8 bits of mantissa per
    /// operand, float32 sums. Every row count from 1 to 13 passes through the kernel's 6-row blocks and its tails,
    /// with the packed blocks cached (a hit from the second count on) and with no cache at all.
    func testTheFastInputGradientIsTheFloatOneToBF16Rounding() throws {
        try checkFastInputGradient(cacheBytes: FrozenProducts.defaultCacheBytes)
        try checkFastInputGradient(cacheBytes: 0)
    }

    func checkFastInputGradient(cacheBytes: Int) throws {
        let rows = 20_000, cols = 256
        let (w, data) = matrix(rows: rows, cols: cols)
        defer { data.deallocate() }
        let full = FloatBuffer(rows * cols)
        w.dequantize(into: full.pointer)
        let products = FrozenProducts(precision: .fast, cacheBytes: cacheBytes)
        for T in 1...13 {
            let dy = random(T * rows, seed: UInt64(T)), start = random(T * cols, seed: 99)
            for accumulate in [false, true] {
                let dx = FloatBuffer(T * cols), ref = FloatBuffer(T * cols)
                dx.pointer.update(from: start, count: T * cols)
                ref.pointer.update(from: start, count: T * cols)
                products.inputGradient(w, dy: dy, T: T, into: dx.pointer, accumulate: accumulate)
                gemm(false, false, m: T, n: cols, k: rows, dy, full.pointer, beta: accumulate ? 1 : 0, ref.pointer)
                var err = 0.0, norm = 0.0
                for i in 0..<(T * cols) {
                    err += Double(dx.pointer[i] - ref.pointer[i]) * Double(dx.pointer[i] - ref.pointer[i])
                    norm += Double(ref.pointer[i]) * Double(ref.pointer[i])
                }
                // bf16 rounding of both operands: ~2^-9 relative per product, averaging out over 20,000 terms
                XCTAssertLessThan((err / norm).squareRoot(), 4e-3, "T \(T) accumulate \(accumulate) cache \(cacheBytes)")
            }
        }
    }
}
