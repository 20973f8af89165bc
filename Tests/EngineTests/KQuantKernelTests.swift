import CKernels
import Foundation
import ModelCore
import TestSupport
import XCTest

/// The Q4_K and Q6_K kernels (Sources/CKernels/kquant.c, kquant_panels.c) one by one, on random
/// super-blocks, against dequantise-then-float products with the same 8-bit activations: the integer
/// arithmetic is exact, so each kernel must agree with that reference to float rounding. The scalar
/// kernel, the row kernel this CPU picks (AVX2) and the panels (AVX-512 VNNI, where the CPU has it)
/// are all checked, each against the reference rather than against each other.
final class KQuantKernelTests: XCTestCase {
    /// Random super-blocks: all bytes random (scales, mins, quants, signed Q6_K scales), then sane f16
    /// super-block scales.
    static func randomRows(_ type: GGMLType, rows: Int, cols: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        let rowBytes = type.rowBytes(cols)!
        var bytes = (0..<(rows * rowBytes)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        func putHalf(_ f: Float, at i: Int) {
            let h = floatToHalf(f)
            bytes[i] = UInt8(h & 0xFF)
            bytes[i + 1] = UInt8(h >> 8)
        }
        for r in 0..<rows {
            for b in 0..<cols / 256 {
                let o = r * rowBytes + b * type.blockBytes
                if type == .q4_K {
                    putHalf(0.0005 + 0.002 * rng.nextFloat(), at: o)
                    putHalf(0.003 * rng.nextFloat(), at: o + 2)
                } else {
                    putHalf(0.0001 + 0.0005 * rng.nextFloat(), at: o + 208)
                }
            }
        }
        return bytes
    }

    /// nx columns of `cols` values quantised one by one into `bytes` each.
    private static func columns(_ x: [Float], cols: Int, bytes: Int, _ quantize: (UnsafeMutableRawPointer, UnsafePointer<Float>) -> Void) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: x.count / cols * bytes)
        out.withUnsafeMutableBytes { q in
            x.withUnsafeBufferPointer { xp in
                for j in 0..<x.count / cols { quantize(q.baseAddress! + j * bytes, xp.baseAddress! + j * cols) }
            }
        }
        return out
    }

    /// Worst |got - want| / (largest |want|).
    private func worstError(_ got: [Float], _ want: [Float]) -> Float {
        let scale = max(want.map { abs($0) }.max() ?? 1, 1e-6)
        return zip(got, want).map { $0.isNaN ? .infinity : abs($0 - $1) }.max()! / scale
    }

    private func check(_ type: GGMLType, rows: Int, cols: Int, columns nx: Int) throws {
        let w = Self.randomRows(type, rows: rows, cols: cols, seed: UInt64(rows * 31 + nx))
        let rowBytes = type.rowBytes(cols)!
        var rng = SplitMix64(seed: UInt64(nx))
        let x = (0..<(nx * cols)).map { _ in 2 * rng.nextFloat() - 1 }
        // The row kernels read q8 columns (a scale per 32 values, kernels.h), the panels q8k columns (a scale
        // per 256, kquant.h).
        let q8 = Self.columns(x, cols: cols, bytes: ht_q8_column_bytes(Int32(cols))) { ht_quantize_q8($0, $1, Int32(cols)) }
        let q8k = Self.columns(x, cols: cols, bytes: ht_q8k_column_bytes(Int32(cols))) { ht_quantize_q8k($0, $1, Int32(cols)) }
        // The reference: Swift's dequantiser (the format's definition) against the 8-bit activations as floats.
        func reference(_ columns: [UInt8], bytes columnBytes: Int, scale: (UnsafePointer<Float>, Int) -> Float) -> [Float] {
            var want = [Float](repeating: 0, count: rows * nx)
            w.withUnsafeBytes { wp in
                columns.withUnsafeBytes { qp in
                    var row = [Float](repeating: 0, count: cols)
                    for r in 0..<rows {
                        row.withUnsafeMutableBufferPointer { Dequantize.row(type, wp.baseAddress! + r * rowBytes, $0.baseAddress!, count: cols) }
                        for j in 0..<nx {
                            let col = qp.baseAddress! + j * columnBytes
                            let q = col.assumingMemoryBound(to: Int8.self), d = (col + cols).assumingMemoryBound(to: Float.self)
                            var s: Double = 0
                            for c in 0..<cols { s += Double(row[c]) * Double(scale(d, c)) * Double(q[c]) }
                            want[j * rows + r] = Float(s)
                        }
                    }
                }
            }
            return want
        }
        let want = reference(q8, bytes: ht_q8_column_bytes(Int32(cols))) { d8, c in d8[(c / 32) * 8] }
        let wantK = reference(q8k, bytes: ht_q8k_column_bytes(Int32(cols))) { d, c in
            d[c / 256] * Float((UnsafeRawPointer(d) + 4 * (cols / 256)).assumingMemoryBound(to: Int32.self)[c / 32])
        }
        func run(_ columns: [UInt8] = q8, _ body: (UnsafeMutablePointer<Float>, UnsafeRawPointer, UnsafeRawPointer) -> Void) -> [Float] {
            var out = [Float](repeating: .nan, count: rows * nx)
            w.withUnsafeBytes { wp in
                columns.withUnsafeBytes { qp in out.withUnsafeMutableBufferPointer { body($0.baseAddress!, wp.baseAddress!, qp.baseAddress!) } }
            }
            return out
        }
        let n = Int32(cols), r1 = Int32(rows), k = Int32(nx), t = type.rawValue
        let scalar = run { ht_matmul_kquant_scalar(t, $0, rows, $1, rowBytes, n, 0, r1, $2, k) }
        let dispatched = run { ht_matmul_q8(t, $0, rows, $1, rowBytes, n, 0, r1, $2, k) }
        // float rounding only: the sums of products are exact in int32
        XCTAssertLessThan(worstError(scalar, want), 1e-5, "\(type) scalar \(rows)x\(cols), \(nx) columns")
        XCTAssertLessThan(worstError(dispatched, want), 1e-5, "\(type) \(String(cString: ht_kernel_name())) rows \(rows)x\(cols), \(nx) columns")
        if ht_has_panel_kernel() != 0 {
            let size = ht_panel_bytes(t, r1, n)
            // Q6_K keeps its size; Q4_K spends 4 more bytes per super-block and row on unpacked scales and mins
            let panelRowBytes = type == .q4_K ? rowBytes + 4 * cols / 256 : rowBytes
            XCTAssertEqual(size, (rows + 15) / 16 * 16 * panelRowBytes, "\(type): panel copy size")
            let panels = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
            defer { panels.deallocate() }
            w.withUnsafeBytes { ht_repack_panels(t, panels, $0.baseAddress!, rowBytes, r1, n) }
            // every row back from the panels, bit for bit the file's row dequantised
            w.withUnsafeBytes { wp in
                var fromFile = [Float](repeating: 0, count: cols), fromPanels = [Float](repeating: .nan, count: cols)
                for r in 0..<rows {
                    ht_dequantize_kquant(t, wp.baseAddress! + r * rowBytes, &fromFile, n)
                    ht_dequantize_kpanel_row(t, panels, n, Int32(r), &fromPanels)
                    XCTAssertEqual(fromPanels.map(\.bitPattern), fromFile.map(\.bitPattern), "\(type) row \(r) from the panels")
                }
            }
            let all = run(q8k) { out, _, q in ht_matmul_panels(t, out, rows, panels, r1, n, 0, r1, q, k) }
            XCTAssertLessThan(worstError(all, wantK), 1e-5, "\(type) panels \(rows)x\(cols), \(nx) columns")
            // a row range that starts and ends inside panels (threads split at multiples of 16, but the
            // kernel must not write outside its range)
            let part = run(q8k) { out, _, q in ht_matmul_panels(t, out, rows, panels, r1, n, 5, min(r1, 21), q, k) }
            for j in 0..<nx {
                for r in 0..<rows {
                    let v = part[j * rows + r]
                    if r >= 5 && r < 21 {
                        XCTAssertLessThan(abs(v - wantK[j * rows + r]), 1e-5 * max(wantK.map(abs).max()!, 1e-6), "\(type) panels, rows 5..<21, row \(r)")
                    } else {
                        XCTAssertTrue(v.isNaN, "\(type) panels, rows 5..<21: row \(r) written")
                    }
                }
            }
        }
    }

    func testQ4_K() throws {
        for nx in [1, 3, 8, 13] { try check(.q4_K, rows: 37, cols: 512, columns: nx) }
        // whole panels, an odd number of them and of super-blocks: one column reads two panels at a time
        try check(.q4_K, rows: 112, cols: 768, columns: 1)
    }

    func testQ6_K() throws {
        for nx in [1, 3, 8, 13] { try check(.q6_K, rows: 37, cols: 512, columns: nx) }
        try check(.q6_K, rows: 112, cols: 768, columns: 1)
    }

    /// One column reads two panels at a time (kquant_panels.c) and must give exactly the floats a column gets beside
    /// another, one panel at a time, over whole ranges and ranges that start and end at other panels.
    func testOneColumnTwoPanelsAtATimeIsExact() throws {
        guard ht_has_panel_kernel() != 0 else { throw XCTSkip("no panel kernel on this CPU") }
        guard ProcessInfo.processInfo.environment["HELLOTUNE_KERNEL"] != "one-stream" else {
            throw XCTSkip("HELLOTUNE_KERNEL=one-stream: the path under test is off")
        }
        let rows = 112, cols = 768, n = Int32(cols), r1 = Int32(rows)
        for type in [GGMLType.q4_K, .q6_K] {
            let t = type.rawValue, rowBytes = type.rowBytes(cols)!
            let w = Self.randomRows(type, rows: rows, cols: cols, seed: 5)
            let panels = UnsafeMutableRawPointer.allocate(byteCount: ht_panel_bytes(t, r1, n), alignment: 64)
            defer { panels.deallocate() }
            w.withUnsafeBytes { ht_repack_panels(t, panels, $0.baseAddress!, rowBytes, r1, n) }
            var rng = SplitMix64(seed: 9)
            let x = (0..<cols).map { _ in 2 * rng.nextFloat() - 1 }
            let one = Self.columns(x, cols: cols, bytes: ht_q8k_column_bytes(n)) { ht_quantize_q8k($0, $1, n) }
            let two = Self.columns(x + x, cols: cols, bytes: ht_q8k_column_bytes(n)) { ht_quantize_q8k($0, $1, n) }
            for (lo, hi) in [(0, rows), (16, 80), (32, 64), (48, 96)] {
                var single = [Float](repeating: .nan, count: rows), pair = [Float](repeating: .nan, count: 2 * rows)
                one.withUnsafeBytes { ht_matmul_panels(t, &single, rows, panels, r1, n, Int32(lo), Int32(hi), $0.baseAddress!, 1) }
                two.withUnsafeBytes { ht_matmul_panels(t, &pair, rows, panels, r1, n, Int32(lo), Int32(hi), $0.baseAddress!, 2) }
                XCTAssertEqual(single.map(\.bitPattern), Array(pair[0..<rows]).map(\.bitPattern), "\(type) rows \(lo)..<\(hi)")
                XCTAssertTrue(single[..<lo].allSatisfy(\.isNaN) && single[hi...].allSatisfy(\.isNaN), "\(type) rows \(lo)..<\(hi): written outside")
            }
        }
    }

    /// The C dequantiser (the sgemm path) reproduces Swift's, the format's definition, exactly.
    func testFastDequantizeMatchesSwift() throws {
        for type in [GGMLType.q4_K, .q6_K] {
            let cols = 768
            let w = Self.randomRows(type, rows: 3, cols: cols, seed: 11)
            var fast = [Float](repeating: 0, count: cols), slow = fast
            for r in 0..<3 {
                w.withUnsafeBytes { wp in
                    let src = wp.baseAddress! + r * type.rowBytes(cols)!
                    XCTAssertEqual(fast.withUnsafeMutableBufferPointer { ht_dequantize_row_fast(type.rawValue, src, $0.baseAddress!, Int32(cols)) }, 1)
                    slow.withUnsafeMutableBufferPointer { Dequantize.row(type, src, $0.baseAddress!, count: cols) }
                }
                XCTAssertEqual(fast, slow, "\(type) row \(r)")
            }
        }
    }
}
