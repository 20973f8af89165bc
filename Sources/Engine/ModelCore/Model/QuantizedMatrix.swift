import Foundation
import CBLAS
import CKernels

/// A weight matrix kept in its file format (rows x cols, row-major, each row `rowBytes` long),
/// multiplied in one of three ways, whichever is fastest for the shape at hand:
/// - integer kernels against 8-bit activations (Q4_0, Q4_1, Q8_0, and the super-block formats Q4_K and
///   Q6_K) for a few rows of input (decode), on a panel copy of the weights where the CPU has AVX-512
///   VNNI (panels.h and kquant.h say why);
/// - dequantise-then-sgemm through OpenBLAS for many rows of input (prefill);
/// - dequantise one weight row at a time for the other formats at small batch.
public struct QuantizedMatrix: @unchecked Sendable {
    public let name: String
    public let type: GGMLType
    public let rows: Int
    public let cols: Int
    public let rowBytes: Int
    public let data: UnsafeRawPointer
    /// The weights regrouped for the panel kernel (nil: no panel kernel for this type or CPU).
    let panels: PanelCopy?

    /// From this many input rows on, products without a panel kernel (or asked for `.float`) dequantise the
    /// weights for sgemm.
    public static let blasMinimumRows = 32

    /// The integer kernel picked for this CPU: "avx512vnni-panels", "avx512vnni", "avx2" or "scalar".
    public static var kernelName: String {
        let panels = panelsEnabled && ht_has_panel_kernel() != 0
        let oneStream = ProcessInfo.processInfo.environment["HELLOTUNE_KERNEL"] == "one-stream"
        return String(cString: ht_kernel_name()) + (panels ? "-panels" : "") + (panels && oneStream ? "-one-stream" : "")
    }

    /// HELLOTUNE_KERNEL=rows turns the panel kernel off, to compare kernels side by side on one build.
    public static let panelsEnabled = ProcessInfo.processInfo.environment["HELLOTUNE_KERNEL"] != "rows"

    /// `panels: false` for a matrix that is only ever read row by row (the token embedding), so it
    /// does not pay for a panel copy.
    public init(tensor t: GGUFTensor, panels: Bool = true) {
        self.init(name: t.name, type: t.type, rows: t.rowCount, cols: t.dims[0], data: t.data.baseAddress!, panels: panels)
    }

    /// With the panels from `cache` where it holds them for this name, type and shape (repacked otherwise).
    init(tensor t: GGUFTensor, panels: Bool, cache: PanelCache.Mapping?) {
        let rows = t.rowCount, cols = t.dims[0], data = t.data.baseAddress!
        if panels, let cache, let mapped = cache.panels(name: t.name, type: t.type, rows: rows, cols: cols) {
            self.init(name: t.name, type: t.type, rows: rows, cols: cols, data: data, copy: PanelCopy(mapped: mapped, in: cache))
        } else {
            self.init(name: t.name, type: t.type, rows: rows, cols: cols, data: data, panels: panels)
        }
    }

    /// A matrix over memory the caller keeps alive: `rows` rows of `cols` elements of `type`, back to back.
    public init(name: String, type: GGMLType, rows: Int, cols: Int, data: UnsafeRawPointer, panels: Bool = true) {
        let copy = panels ? PanelCopy(type: type, rows: rows, cols: cols, data: data, rowBytes: type.rowBytes(cols)!) : nil
        self.init(name: name, type: type, rows: rows, cols: cols, data: data, copy: copy)
    }

    private init(name: String, type: GGMLType, rows: Int, cols: Int, data: UnsafeRawPointer, copy: PanelCopy?) {
        self.name = name
        self.type = type
        self.cols = cols
        self.rows = rows
        rowBytes = type.rowBytes(cols)!
        self.data = data
        panels = copy
    }

    public var hasIntegerKernel: Bool { ht_has_int8_kernel(type.rawValue) != 0 }

    /// Whether products run on a panel copy (AVX-512 VNNI and a panel layout for this type).
    public var hasPanels: Bool { panels != nil }

    /// The size of the panel copy (0 without one).
    var panelBytes: Int { panels == nil ? 0 : ht_panel_bytes(type.rawValue, Int32(rows), Int32(cols)) }

    /// Whether the panel copy is read from a panel cache file rather than made by this process.
    public var panelsMapped: Bool { panels?.mapping != nil }

    /// Whether nothing reads `data` any more: every product and every row comes from the panel copy.
    public var panelsReplaceData: Bool { panels != nil && ht_is_kquant(type.rawValue) != 0 }

    /// One weight row as floats.
    @inline(__always)
    public func dequantizeRow(_ r: Int, into dst: UnsafeMutablePointer<Float>) {
        // K-quant rows come back from the panels (the same floats), so that the file's pages need not stay.
        if panelsReplaceData, let p = panels {
            ht_dequantize_kpanel_row(type.rawValue, p.bytes, Int32(cols), Int32(r), dst)
            return
        }
        let src = data + r * rowBytes
        if ht_dequantize_row_fast(type.rawValue, src, dst, Int32(cols)) == 0 {
            Dequantize.row(type, src, dst, count: cols)
        }
    }

    /// The whole matrix as floats, row-major, in parallel.
    public func dequantize(into dst: UnsafeMutablePointer<Float>) {
        Parallel.forRanges(rows) { s, e in
            for r in s..<e { dequantizeRow(r, into: dst + r * cols) }
        }
    }
}

/// How products treat their input activations.
public enum ProductPrecision: Sendable {
    /// 8-bit activations where an integer kernel exists: generation, prompts included (where the matrix has a
    /// panel copy; otherwise a prompt of `blasMinimumRows` rows or more goes through sgemm).
    case fast
    /// Float activations always (exact log-probabilities: int8 rounding moves them by ~1%).
    case float
}

/// out (n x rows) = x (n x cols) . W^T for several matrices that read the same input, in one
/// parallel region: q, k and v, or gate and up, share one quantisation of x and one thread fork.
public func matmul(_ items: [(QuantizedMatrix, UnsafeMutablePointer<Float>)], x: UnsafePointer<Float>, n: Int,
                   workspace ws: Workspace, precision: ProductPrecision = .fast) {
    guard n > 0, let first = items.first?.0 else { return }
    let cols = first.cols
    let totalWeights = items.reduce(0) { $0 + $1.0.rows * $1.0.cols }

    let integer = precision == .fast && items.allSatisfy { $0.0.hasIntegerKernel }
    // A fast prompt goes through the panel kernel too: on this AVX-512 VNNI EPYC it runs 512 rows 1.6-1.8x
    // faster than dequantising and calling sgemm (`hellotune bench generate`), and it rounds activations to
    // 8 bits as llama.cpp's Q8_1 products do. It also gives a row the same numbers whatever the batch size,
    // so a prompt of 40 tokens and one of 20 are treated alike. Exact scores ask for `.float`.
    let panelled = integer && items.allSatisfy { $0.0.panels != nil }
    if n >= QuantizedMatrix.blasMinimumRows && !panelled {
        // Float prompts, or no panel kernel: dequantise each matrix (into one reused buffer) and let OpenBLAS
        // do the product.
        let scratch = ws.floats(.dequantized, items.map { $0.0.rows * $0.0.cols }.max()!)
        for (w, out) in items {
            w.dequantize(into: scratch)
            gemm(false, true, m: n, n: w.rows, k: cols, x, scratch, out)
        }
        return
    }

    let allRows = items.reduce(0) { $0 + $1.0.rows }
    // Row index space of all matrices, concatenated, split across threads in multiples of 16 rows.
    // Small products are not worth a thread fork.
    func forEachRowRange(_ body: (Int, UnsafeMutablePointer<Float>, QuantizedMatrix, Int, Int) -> Void) {
        Parallel.forChunks(allRows, granularity: 16, minimumPerThread: totalWeights * n > 1 << 16 ? 1 : allRows) { chunk, s, e in
            var base = 0
            for (w, out) in items {
                let lo = max(s, base), hi = min(e, base + w.rows)
                if lo < hi { body(chunk, out, w, lo - base, hi - base) }
                base += w.rows
            }
        }
    }

    if integer {
        // The K-quant panels read activations with a scale per 256 values and a small integer factor per 32
        // (q8k columns, kquant.h), so that a super-block's sums add up in integers; every other integer kernel
        // reads them with a scale per 32 (q8 columns, kernels.h). A group of matrices that mixes the two gets
        // both.
        let perSuperBlock = items.map { $0.0.panels != nil && ht_is_kquant($0.0.type.rawValue) != 0 }
        let q8Bytes = perSuperBlock.contains(false) ? ht_q8_column_bytes(Int32(cols)) : 0
        let q8kBytes = perSuperBlock.contains(true) ? ht_q8k_column_bytes(Int32(cols)) : 0
        let q8 = ws.q8(n * (q8Bytes + q8kBytes)), q8k = q8 + n * q8Bytes
        func quantize(_ j: Int) {
            if q8Bytes > 0 { ht_quantize_q8(q8 + j * q8Bytes, x + j * cols, Int32(cols)) }
            if q8kBytes > 0 { ht_quantize_q8k(q8k + j * q8kBytes, x + j * cols, Int32(cols)) }
        }
        if n >= 8 {
            Parallel.forRanges(n) { s, e in
                for j in s..<e { quantize(j) }
            }
        } else {
            for j in 0..<n { quantize(j) }
        }
        forEachRowRange { _, out, w, r0, r1 in
            // Panels at every batch size: a sequence must get the same numbers alone as in a batch
            // (8-bit rounding makes the two kernels' results drift apart), or sampling would depend on
            // which other samples run with it (EvaluatorTests).
            if let p = w.panels {
                let columns = ht_is_kquant(w.type.rawValue) != 0 ? q8k : q8
                ht_matmul_panels(w.type.rawValue, out, w.rows, p.bytes, Int32(w.rows), Int32(cols), Int32(r0), Int32(r1), columns, Int32(n))
            } else {
                ht_matmul_q8(w.type.rawValue, out, w.rows, w.data, w.rowBytes, Int32(cols), Int32(r0), Int32(r1), q8, Int32(n))
            }
        }
    } else {
        let scratch = ws.floats(.rowScratch, Parallel.threadCount * cols)
        forEachRowRange { chunk, out, w, r0, r1 in
            let mine = scratch + chunk * cols
            for r in r0..<r1 {
                let row: UnsafePointer<Float>
                if w.type == .f32 {
                    row = (w.data + r * w.rowBytes).assumingMemoryBound(to: Float.self)
                } else {
                    w.dequantizeRow(r, into: mine)
                    row = UnsafePointer(mine)
                }
                for j in 0..<n { out[j * w.rows + r] = ht_dot_f32(row, x + j * cols, Int32(cols)) }
            }
        }
    }
}

/// A panel copy of a matrix (layout in panels.h), owned here and freed with the last matrix using it, or part of a
/// panel cache file's mapping, which it keeps alive.
final class PanelCopy: @unchecked Sendable {
    let bytes: UnsafeRawPointer
    let mapping: PanelCache.Mapping?

    init(mapped: UnsafeRawPointer, in mapping: PanelCache.Mapping) {
        bytes = mapped
        self.mapping = mapping
    }

    /// Whether a matrix of this type and width gets panels: a panel kernel on this CPU, not turned off, and a layout
    /// for the type.
    static func eligible(type: GGMLType, cols: Int) -> Bool {
        QuantizedMatrix.panelsEnabled && ht_has_panel_kernel() != 0 && ht_has_int8_kernel(type.rawValue) != 0 && cols % 32 == 0
    }

    init?(type: GGMLType, rows: Int, cols: Int, data: UnsafeRawPointer, rowBytes: Int) {
        guard Self.eligible(type: type, cols: cols) else { return nil }
        let size = ht_panel_bytes(type.rawValue, Int32(rows), Int32(cols))
        guard size > 0 else { return nil }
        let out = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        bytes = UnsafeRawPointer(out)
        mapping = nil
        // Panels are independent, so the repacking splits over the cores at panel boundaries (the 1.5B
        // model's Q4_K/Q6_K unpacking is seconds of work on one core).
        let raw = type.rawValue, n = Int32(cols)
        Parallel.forRanges((rows + 15) / 16) { s, e in
            let r0 = s * 16, r1 = min(rows, e * 16)
            ht_repack_panels(raw, out + ht_panel_bytes(raw, Int32(r0), n), data + r0 * rowBytes, rowBytes, Int32(r1 - r0), n)
        }
    }

    deinit { if mapping == nil { bytes.deallocate() } }
}
