import CKernels
import Foundation
import ModelCore

/// The two products training needs from a frozen weight matrix W (out, in), computed on the weights as the
/// GGUF file keeps them, so that no float32 copy of the model is ever made (a 1.5B model's would be 6 GB):
/// - forward, y (T, out) = x (T, in) W^T: the inference kernels, integer against 8-bit activations where the
///   matrix has panels (`.fast`), or float (`.float`, and every type without an integer kernel);
/// - backward through the input, dx (T, in) += dy (T, out) W: W is dequantised a block of rows at a time into a
///   scratch tile, so memory stays one tile whatever the model's size, and each block is one product: in
///   bfloat16 with float32 sums where the CPU has AVX-512 BF16 (`.fast`; twice the float rate, bf16.h), else sgemm.
///
/// Only the LoRA factors are trained, so W never needs a gradient of its own.
package final class FrozenProducts {
    let precision: ProductPrecision
    let workspace = Workspace()
    /// A block of W's rows as floats: (tileRows, in).
    private var tile: FloatBuffer
    /// The same block packed for the bf16 kernel (once the cache is full), and dy's matching columns in bf16.
    private let packed = HalfWordScratch(), dyBF16 = HalfWordScratch()

    /// A tile holds this many floats at most (16 MB): big enough for sgemm to run near its peak (each block
    /// is a rank-`tileRows` update of dx, at least 64), small enough to stay out of the way.
    package static let tileFloats = 1 << 22

    package init(precision: ProductPrecision, cacheBytes: Int = FrozenProducts.defaultCacheBytes) {
        self.precision = precision
        self.cacheBytes = cacheBytes
        tile = FloatBuffer(Self.tileFloats)
    }

    deinit { cache.values.forEach { $0.deallocate() } }

    /// Rows per tile for a matrix of `cols` columns: a multiple of 16, at least 64.
    package static func tileRows(cols: Int) -> Int {
        max(64, Self.tileFloats / max(cols, 1) / 16 * 16)
    }

    /// y_i (T, rows_i) = x (T, in) W_i^T for matrices that read the same input, each into its own packed buffer.
    package func forward(_ items: [(QuantizedMatrix, UnsafeMutablePointer<Float>)], x: UnsafePointer<Float>, T: Int) {
        let integer = precision == .fast && items.allSatisfy { $0.0.hasIntegerKernel && $0.0.hasPanels }
        if integer {
            // The prefill path of inference: one 8-bit quantisation of x shared by all the matrices.
            matmul(items, x: x, n: T, workspace: workspace, precision: .fast)
            return
        }
        for (w, y) in items {
            forEachBlock(of: w) { r0, rows, floats in
                // y[:, r0 ..< r0 + rows] (T, rows) = x (T, in) block^T
                gemm(false, true, m: T, n: rows, k: w.cols, x, floats(), y + r0, ldc: w.rows)
            }
        }
    }

    /// dx (T, in) = dy (T, out) W when `accumulate` is false, dx += dy W when it is true.
    package func inputGradient(_ w: QuantizedMatrix, dy: UnsafePointer<Float>, T: Int, into dx: UnsafeMutablePointer<Float>,
                       accumulate: Bool) {
        var first = !accumulate
        if precision == .fast && ht_has_bf16_kernel() != 0 && w.cols % 64 == 0 {
            forEachBlock(of: w) { r0, rows, floats in
                let b = packedBlock(w, r0: r0, rows: rows, floats)
                let a = bf16Rows(dy + r0, lda: w.rows, T: T, k: rows)
                let acc: Int32 = first ? 0 : 1
                // dx (T, in) += dy[:, r0 ..< r0 + rows] (T, rows) block (rows, in), split by column groups of 64
                Parallel.forRanges(w.cols / 64, minimumPerThread: T * rows * 64 > 1 << 16 ? 1 : w.cols) { s, e in
                    ht_bf16_gemm(dx, Int32(w.cols), a, b, Int32(T), Int32(rows), Int32(w.cols), Int32(s * 64), Int32(e * 64), acc)
                }
                first = false
            }
            return
        }
        forEachBlock(of: w) { r0, rows, floats in
            // dx (T, in) += dy[:, r0 ..< r0 + rows] (T, rows) block (rows, in)
            gemm(false, false, m: T, n: w.cols, k: rows, dy + r0, lda: w.rows, floats(), beta: first ? 0 : 1, dx)
            first = false
        }
    }

    // MARK: - bf16 operands

    /// Packed bf16 blocks kept from one example to the next, up to `cacheBytes`: every example multiplies by the
    /// same frozen blocks, and unpacking them again cost a sixth of the default model's training time. A model
    /// that fits (the default one: 270 MB) is unpacked once; a larger one keeps its first blocks and unpacks the
    /// rest each time, so memory stays bounded.
    private struct BlockKey: Hashable {
        let matrix: Int     // the weights' address: one per matrix for the model's lifetime
        let r0: Int
    }
    private var cache: [BlockKey: UnsafeMutablePointer<UInt16>] = [:]
    private var cachedBytes = 0
    package static let defaultCacheBytes = 512 << 20
    private let cacheBytes: Int

    /// Block [r0, r0 + rows) of W packed for the bf16 kernel: from the cache, or unpacked into it (or into the
    /// scratch block once the cache is full).
    private func packedBlock(_ w: QuantizedMatrix, r0: Int, rows: Int, _ floats: () -> UnsafePointer<Float>) -> UnsafePointer<UInt16> {
        let key = BlockKey(matrix: Int(bitPattern: w.data), r0: r0)
        if let hit = cache[key] { return UnsafePointer(hit) }
        let count = (rows + 1) / 2 * 2 * w.cols
        let dst: UnsafeMutablePointer<UInt16>
        if cachedBytes + 2 * count <= cacheBytes {
            dst = .allocate(capacity: count)
            cache[key] = dst
            cachedBytes += 2 * count
        } else {
            dst = packed.pointer(count)
        }
        let block = floats(), cols = w.cols
        let pairs = (rows + 1) / 2
        Parallel.forRanges(pairs, minimumPerThread: pairs * cols > 1 << 16 ? 1 : pairs) { s, e in
            ht_bf16_pack_pairs(dst, block, Int32(cols), Int32(rows), Int32(cols), Int32(2 * s), Int32(min(rows, 2 * e)))
        }
        return UnsafePointer(dst)
    }

    /// Columns [0, k) of x (T rows, stride lda) as bf16 rows, the kernel's A.
    private func bf16Rows(_ x: UnsafePointer<Float>, lda: Int, T: Int, k: Int) -> UnsafePointer<UInt16> {
        let count = T * ((k + 1) / 2 * 2)
        let a = dyBF16.pointer(count)
        ht_bf16_convert_rows(a, x, Int32(lda), Int32(T), Int32(k))
        return UnsafePointer(a)
    }

    /// Calls `body` with each block of W's rows and a way to read it as floats: the file's own floats for F32, else
    /// a tile dequantised when first asked for. Blocks are `tileRows` rows for F32 too, so that the bf16 packing
    /// of a block stays one tile's size.
    private func forEachBlock(of w: QuantizedMatrix, _ body: (Int, Int, () -> UnsafePointer<Float>) -> Void) {
        let step = Self.tileRows(cols: w.cols)
        if w.type != .f32 && step * w.cols > tile.count { tile = FloatBuffer(step * w.cols) }
        var r0 = 0
        while r0 < w.rows {
            let rows = min(step, w.rows - r0)
            if w.type == .f32 {
                let floats = w.data.assumingMemoryBound(to: Float.self) + r0 * w.cols
                body(r0, rows) { floats }
            } else {
                let dst = tile.pointer, first = r0
                body(r0, rows) {
                    Parallel.forRanges(rows, granularity: 8) { s, e in
                        for r in s..<e { w.dequantizeRow(first + r, into: dst + r * w.cols) }
                    }
                    return UnsafePointer(dst)
                }
            }
            r0 += rows
        }
    }
}

/// A buffer of 16-bit values that grows to the largest size asked of it and is kept for the next call.
private final class HalfWordScratch {
    private var buffer: UnsafeMutablePointer<UInt16>?
    private var capacity = 0

    /// Room for at least `count` values; the contents are undefined.
    func pointer(_ count: Int) -> UnsafeMutablePointer<UInt16> {
        if capacity < count {
            buffer?.deallocate()
            buffer = .allocate(capacity: count)
            capacity = count
        }
        return buffer!
    }

    deinit { buffer?.deallocate() }
}
