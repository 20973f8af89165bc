import Foundation
import TestSupport
import XCTest
import ModelCore

/// The product paths of QuantizedMatrix (Q4_0, Q4_1, Q8_0, Q4_K, Q6_K) (below 32 input rows panels where the CPU has AVX-512 VNNI,
/// row kernels otherwise; sgemm from 32 rows) against a float product of the
/// dequantised weights: input-row counts on both sides of the BLAS threshold, row counts that do not
/// fill a panel, odd block counts, and several matrices sharing one call (as q, k and v do).
final class QuantizedMatrixTests: XCTestCase {
    /// Random blocks with sane f16 scales: `rows` rows of `cols` elements of `type`.
    private func randomMatrix(_ type: GGMLType, rows: Int, cols: Int, seed: UInt64) -> [UInt8] {
        if type == .q4_K || type == .q6_K { return KQuantKernelTests.randomRows(type, rows: rows, cols: cols, seed: seed) }
        var rng = SplitMix64(seed: seed)
        let rowBytes = type.rowBytes(cols)!
        var bytes = [UInt8](repeating: 0, count: rows * rowBytes)
        func putHalf(_ f: Float, at i: Int) {
            let h = floatToHalf(f)
            bytes[i] = UInt8(h & 0xFF)
            bytes[i + 1] = UInt8(h >> 8)
        }
        for r in 0..<rows {
            for b in 0..<cols / 32 {
                switch type {
                case .q4_0:
                    let o = r * rowBytes + b * 18
                    putHalf(0.01 + 0.05 * rng.nextFloat(), at: o)
                    for j in 0..<16 { bytes[o + 2 + j] = UInt8(truncatingIfNeeded: rng.next()) }
                case .q4_1:
                    let o = r * rowBytes + b * 20
                    putHalf(0.01 + 0.05 * rng.nextFloat(), at: o)
                    putHalf(-0.4 * rng.nextFloat(), at: o + 2)
                    for j in 0..<16 { bytes[o + 4 + j] = UInt8(truncatingIfNeeded: rng.next()) }
                default:
                    let o = r * rowBytes + b * 34
                    putHalf(0.001 + 0.005 * rng.nextFloat(), at: o)
                    for j in 0..<32 { bytes[o + 2 + j] = UInt8(truncatingIfNeeded: rng.next()) }
                }
            }
        }
        return bytes
    }

    /// Worst |got - want| / (largest |want| of the output), over all outputs.
    private func worstError(_ got: [Float], _ want: [Float]) -> Float {
        let scale = max(want.map { abs($0) }.max() ?? 1, 1e-6)
        return zip(got, want).map { abs($0 - $1) }.max()! / scale
    }

    /// `lastType`: the last matrix's type when it differs (Qwen2.5's q and k are Q4_K, its v Q6_K).
    private func check(_ type: GGMLType, shapes: [Int], cols: Int, lastType: GGMLType? = nil) throws {
        let types = shapes.indices.map { $0 == shapes.count - 1 ? lastType ?? type : type }
        let matrices = shapes.enumerated().map { randomMatrix(types[$0], rows: $1, cols: cols, seed: UInt64(7 + $0)) }
        var rng = SplitMix64(seed: 99)
        let ws = Workspace()
        for n in [1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 16, 17, 24, 31, 32, 45, 64] {
            let x = (0..<(n * cols)).map { _ in 2 * rng.nextFloat() - 1 }
            var results: [Bool: [[Float]]] = [:]
            for panels in [true, false] {
                var outs = shapes.map { [Float](repeating: .nan, count: n * $0) }
                try matrices.withUnsafeBufferPointers { bases in
                    let ms = zip(shapes, bases).enumerated().map { i, p in
                        QuantizedMatrix(name: "m\(i)", type: types[i], rows: p.0, cols: cols, data: p.1, panels: panels)
                    }
                    try outs.withUnsafeMutableBufferPointers { outPointers in
                        let items = zip(ms, outPointers).map { ($0, $1) }
                        x.withUnsafeBufferPointer { matmul(items, x: $0.baseAddress!, n: n, workspace: ws) }
                    }
                    // float reference from the dequantised rows
                    for (k, m) in ms.enumerated() {
                        var w = [Float](repeating: 0, count: m.rows * cols)
                        w.withUnsafeMutableBufferPointer { m.dequantize(into: $0.baseAddress!) }
                        var want = [Float](repeating: 0, count: n * m.rows)
                        for j in 0..<n {
                            for r in 0..<m.rows {
                                var s: Double = 0
                                for c in 0..<cols { s += Double(w[r * cols + c]) * Double(x[j * cols + c]) }
                                want[j * m.rows + r] = Float(s)
                            }
                        }
                        XCTAssertFalse(outs[k].contains { $0.isNaN }, "\(type) n=\(n) panels=\(panels) m\(k): output not written")
                        // 8-bit activations: within about 1% of the largest output
                        let e = worstError(outs[k], want)
                        XCTAssertLessThan(e, 1.5e-2, "\(type) n=\(n) panels=\(panels) m\(k) (\(m.rows)x\(cols))")
                    }
                }
                results[panels] = outs
            }
            // Below the BLAS threshold the panel and row kernels do the same integer arithmetic, so they
            // agree to float rounding; but for Q4_K and Q6_K, whose panels read activations rounded per 256
            // with a factor per 32 (kquant.h) and whose row kernels read them rounded per 32.
            for k in shapes.indices where n < QuantizedMatrix.blasMinimumRows && ![.q4_K, .q6_K].contains(types[k]) {
                XCTAssertLessThan(worstError(results[true]![k], results[false]![k]), 1e-5, "\(type) n=\(n) m\(k): panels vs rows")
            }
        }
    }

    func testQ4_0() throws { try check(.q4_0, shapes: [50, 18, 64], cols: 96) }
    func testQ4_1() throws { try check(.q4_1, shapes: [50, 18, 64], cols: 96) }
    func testQ8_0() throws { try check(.q8_0, shapes: [50, 18, 64], cols: 96) }
    /// Many rows, so the product is split over threads at row counts that are not panel multiples.
    func testQ4_1ManyRows() throws { try check(.q4_1, shapes: [200, 40], cols: 128) }
    func testQ4_K() throws { try check(.q4_K, shapes: [50, 18, 64], cols: 512) }
    func testQ6_K() throws { try check(.q6_K, shapes: [50, 18, 64], cols: 512) }
    /// Both super-block formats in one call, sharing one quantisation of the input.
    func testQ4_KWithQ6_K() throws { try check(.q4_K, shapes: [40, 24, 33], cols: 768, lastType: .q6_K) }
    /// A K-quant beside another format in one call: the input is rounded both ways, q8k for the K-quant
    /// panels and q8 for the other.
    func testQ4_KWithQ8_0() throws { try check(.q4_K, shapes: [40, 24, 33], cols: 768, lastType: .q8_0) }

    /// The default model's own matrices (Q4_1 projections, the Q8_0 embedding as output): panels and
    /// row kernels give the same products.
    func testDefaultModelMatricesPanelsMatchRows() throws {
        let gguf = try GGUFFile(path: TestModel.defaultModelPath())
        let ws = Workspace()
        var rng = SplitMix64(seed: 5)
        for name in ["blk.0.attn_q.weight", "blk.3.ffn_down.weight", "blk.7.ffn_gate.weight", "token_embd.weight"] {
            let t = try gguf.tensor(name)
            let panels = QuantizedMatrix(tensor: t, panels: true), rows = QuantizedMatrix(tensor: t, panels: false)
            for n in [1, 6, 16] {
                let x = (0..<(n * rows.cols)).map { _ in 2 * rng.nextFloat() - 1 }
                var a = [Float](repeating: 0, count: n * rows.rows), b = a
                x.withUnsafeBufferPointer { xp in
                    a.withUnsafeMutableBufferPointer { matmul([(panels, $0.baseAddress!)], x: xp.baseAddress!, n: n, workspace: ws) }
                    b.withUnsafeMutableBufferPointer { matmul([(rows, $0.baseAddress!)], x: xp.baseAddress!, n: n, workspace: ws) }
                }
                XCTAssertLessThan(worstError(a, b), 1e-5, "\(name) n=\(n): panels vs rows")
            }
        }
    }
}

private extension Array where Element == [UInt8] {
    /// Calls `body` with a stable base address for every inner array.
    func withUnsafeBufferPointers<R>(_ body: ([UnsafeRawPointer]) throws -> R) throws -> R {
        var pointers: [UnsafeMutableRawPointer] = []
        defer { pointers.forEach { $0.deallocate() } }
        for a in self {
            let p = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(a.count, 1), alignment: 64)
            a.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: a.count) }
            pointers.append(p)
        }
        return try body(pointers.map { UnsafeRawPointer($0) })
    }
}

private extension Array where Element == [Float] {
    mutating func withUnsafeMutableBufferPointers<R>(_ body: ([UnsafeMutablePointer<Float>]) throws -> R) throws -> R {
        var pointers: [UnsafeMutablePointer<Float>] = []
        for a in self {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: a.count)
            p.initialize(from: a, count: a.count)
            pointers.append(p)
        }
        defer { pointers.forEach { $0.deallocate() } }
        let r = try body(pointers)
        for (i, p) in pointers.enumerated() { self[i] = [Float](UnsafeBufferPointer(start: p, count: self[i].count)) }
        return r
    }
}
