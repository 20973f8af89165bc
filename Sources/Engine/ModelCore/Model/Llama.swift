import CBLAS
import CKernels
import Foundation

public enum EngineError: Error, CustomStringConvertible, Equatable {
    case contextOverflow(needed: Int, limit: Int)
    case tokenOutOfRange(token: Int, vocabularySize: Int)
    case positionMismatch(sequence: Int, expected: Int, got: Int)
    case emptyInput
    /// The logits for the token at `step` of a reply hold NaN or infinity: a damaged model or adapter.
    case nonFiniteLogits(step: Int)

    public var description: String {
        switch self {
        case let .contextOverflow(needed, limit):
            return "the input needs \(needed) positions but the context holds \(limit). Shorten the input: the prompt, "
                + "or the training example, must leave room in the model's context."
        case let .tokenOutOfRange(token, vocab):
            return "token id \(token) is outside the vocabulary (0..<\(vocab))."
        case let .positionMismatch(sequence, expected, got):
            return "internal error: sequence \(sequence) continues at position \(got), but its cache holds \(expected) positions."
        case .emptyInput:
            return "nothing to evaluate: the input has no tokens."
        case let .nonFiniteLogits(step):
            return "the model's logits for token \(step) of the reply are NaN or infinite: the model or the adapter holds "
                + "damaged weights. Fetch the model again (`hellotune model fetch`) or train the adapter again."
        }
    }
}

/// A llama-family decoder (llama, qwen2) running from memory-mapped GGUF weights.
///
/// One forward function serves every case: a batch of rows, each a token of some sequence at
/// some position. Prefill is many rows of one sequence; batched decoding is one row of each of
/// many sequences; both run the same code with the matrix products picked by batch size.
public final class LlamaModel: @unchecked Sendable {
    public let config: ModelConfig
    public let file: GGUFFile
    public let weights: LlamaWeights
    /// LoRA matrices added to the projections at run time (nil: the base model).
    public let adapter: LoRAParameters?
    /// Inverse RoPE frequencies, theta_j = base^(-2j/ropeDims) / factor_j; (ropeDims / 2)
    package let inverseFrequencies: [Double]
    /// Owns weight memory that is not in the mapped file (merged adapters).
    let storage: [FloatBuffer]

    public struct Row: Sendable, Equatable {
        public var token: Int
        public var sequence: Int
        public var position: Int
        public init(token: Int, sequence: Int, position: Int) {
            self.token = token
            self.sequence = sequence
            self.position = position
        }
    }

    public convenience init(path: String) throws {
        try self.init(gguf: GGUFFile(path: path))
    }

    /// - contextLength: caps the positions a sequence may use (and so the KV cache), below the file's own.
    public convenience init(gguf: GGUFFile, adapter: LoRAParameters? = nil, contextLength: Int? = nil) throws {
        var config = try ModelConfig(gguf: gguf)
        if let n = contextLength { config.contextLength = max(1, min(config.contextLength, n)) }
        try self.init(file: gguf, config: config, weights: LlamaWeights(gguf: gguf, config: config), adapter: adapter, storage: [])
    }

    /// With the panel copies from `panelCache` (nil: repacked, no file), where the other initialisers take the cache a
    /// model gets by default (`PanelCache.automatic`).
    public convenience init(gguf: GGUFFile, panelCache: PanelCache?) throws {
        let config = try ModelConfig(gguf: gguf)
        try self.init(file: gguf, config: config, weights: LlamaWeights(gguf: gguf, config: config, panelCache: panelCache),
                      adapter: nil, storage: [])
    }

    init(file: GGUFFile, config c: ModelConfig, weights: LlamaWeights, adapter: LoRAParameters?, storage: [FloatBuffer]) {
        self.file = file
        config = c
        self.weights = weights
        self.adapter = adapter
        self.storage = storage
        let factors = weights.ropeFrequencyFactors
        inverseFrequencies = (0..<c.ropeDims / 2).map { j in
            pow(Double(c.ropeBase), -2.0 * Double(j) / Double(c.ropeDims)) / Double(factors?[j] ?? 1)
        }
    }

    /// The same weights with another adapter (or none); the mapped file is shared, nothing is copied.
    public func with(adapter: LoRAParameters?) -> LlamaModel {
        LlamaModel(file: file, config: config, weights: weights, adapter: adapter, storage: storage)
    }

    /// Runs `rows` through the model, appending their keys and values to `caches[row.sequence]`.
    /// Returns the logits of the rows listed in `logitRows`, (logitRows.count, vocab) row-major.
    /// Rows of one sequence must be in order and continue where its cache ends.
    public func forward(rows: [Row], caches: [KVCache], logitRows: [Int], workspace ws: Workspace,
                        precision: ProductPrecision = .fast) throws -> [Float] {
        let c = config
        let B = rows.count
        guard B > 0 else { throw EngineError.emptyInput }
        var next = caches.map(\.count)
        for r in rows {
            guard r.token >= 0, r.token < c.vocabularySize else {
                throw EngineError.tokenOutOfRange(token: r.token, vocabularySize: c.vocabularySize)
            }
            guard r.position == next[r.sequence] else {
                throw EngineError.positionMismatch(sequence: r.sequence, expected: next[r.sequence], got: r.position)
            }
            guard r.position < caches[r.sequence].maxPositions else {
                throw EngineError.contextOverflow(needed: r.position + 1, limit: caches[r.sequence].maxPositions)
            }
            next[r.sequence] += 1
        }
        for (s, cache) in caches.enumerated() { cache.reserve(next[s]) }

        let x = ws.floats(.x, B * c.dim)                     // (B, dim) residual stream
        let h = ws.floats(.h, B * max(c.dim, c.qDim))        // (B, dim) normalised input of a sub-block
        let q = ws.floats(.q, B * c.qDim)                    // (B, nHead * headDim)
        let k = ws.floats(.k, B * c.kvDim)                   // (B, nKV * headDim)
        let v = ws.floats(.v, B * c.kvDim)                   // (B, nKV * headDim)
        let att = ws.floats(.attention, B * c.qDim)          // (B, nHead * headDim) attention output
        let proj = ws.floats(.projected, B * c.dim)          // (B, dim) output of o / down projections
        let gate = ws.floats(.gate, B * c.ffnDim)            // (B, ffnDim)
        let up = ws.floats(.up, B * c.ffnDim)                // (B, ffnDim)
        let rope = ws.floats(.rope, B * c.ropeDims)          // (B, ropeDims / 2, 2) cos, sin per row

        // 1. token embeddings
        for (i, r) in rows.enumerated() { weights.tokenEmbedding.dequantizeRow(r.token, into: x + i * c.dim) }
        // 2. rotation angles, once per row for all layers
        for (i, r) in rows.enumerated() {
            for j in 0..<c.ropeDims / 2 {
                let angle = Double(r.position) * inverseFrequencies[j]
                rope[i * c.ropeDims + 2 * j] = Float(cos(angle))
                rope[i * c.ropeDims + 2 * j + 1] = Float(sin(angle))
            }
        }

        for (l, w) in weights.layers.enumerated() {
            // 3. attention sub-block: h = rmsnorm(x); q, k, v = h W^T (+ b)
            rmsnorm(h, x, w.attentionNorm, rows: B, dim: c.dim, eps: c.normEpsilon)
            matmul([(w.q, q), (w.k, k), (w.v, v)], x: h, n: B, workspace: ws, precision: precision)
            applyAdapter(l, [(.q, q), (.k, k), (.v, v)], x: h, n: B, workspace: ws)
            if let b = w.qBias { addBias(q, b, rows: B) }
            if let b = w.kBias { addBias(k, b, rows: B) }
            if let b = w.vBias { addBias(v, b, rows: B) }
            // 4. rotate q and k by position, then append k and v to each row's cache
            applyRope(q, heads: c.headCount, rows: B, table: rope)
            applyRope(k, heads: c.kvHeadCount, rows: B, table: rope)
            for (i, r) in rows.enumerated() {
                let cache = caches[r.sequence]
                (cache.keys[l] + r.position * c.kvDim).update(from: k + i * c.kvDim, count: c.kvDim)
                (cache.values[l] + r.position * c.kvDim).update(from: v + i * c.kvDim, count: c.kvDim)
            }
            // 5. causal grouped-query attention: att = softmax(q K^T / sqrt(d)) V, per row and head
            attention(att, q: q, rows: rows, caches: caches, layer: l, workspace: ws)
            // 6. x += att Wo^T
            matmul([(w.o, proj)], x: att, n: B, workspace: ws, precision: precision)
            applyAdapter(l, [(.o, proj)], x: att, n: B, workspace: ws)
            add(x, proj, count: B * c.dim)
            // 7. feed-forward sub-block: x += (silu(h Wg^T) * (h Wu^T)) Wd^T, h = rmsnorm(x)
            rmsnorm(h, x, w.ffnNorm, rows: B, dim: c.dim, eps: c.normEpsilon)
            matmul([(w.gate, gate), (w.up, up)], x: h, n: B, workspace: ws, precision: precision)
            applyAdapter(l, [(.gate, gate), (.up, up)], x: h, n: B, workspace: ws)
            swiglu(gate, up, count: B * c.ffnDim)
            matmul([(w.down, proj)], x: gate, n: B, workspace: ws, precision: precision)
            applyAdapter(l, [(.down, proj)], x: gate, n: B, workspace: ws)
            add(x, proj, count: B * c.dim)
        }
        for (s, cache) in caches.enumerated() { cache.count = next[s] }

        // 8. logits for the requested rows only: rmsnorm(x) Wout^T
        let n = logitRows.count
        guard n > 0 else { return [] }
        let last = ws.floats(.h, n * c.dim)  // (n, dim)
        for (j, i) in logitRows.enumerated() {
            rmsnorm(last + j * c.dim, x + i * c.dim, weights.outputNorm, rows: 1, dim: c.dim, eps: c.normEpsilon)
        }
        var logits = [Float](repeating: 0, count: n * c.vocabularySize)
        logits.withUnsafeMutableBufferPointer { out in
            matmul([(weights.output, out.baseAddress!)], x: last, n: n, workspace: ws, precision: precision)
            // The int8 products quantise a NaN or infinite state into finite garbage; give such a row NaN logits
            // again, so that whoever reads them (generation checks every row) sees what happened. One pass over
            // `dim` floats per row.
            for j in 0..<n where !Self.allFinite(UnsafeBufferPointer(start: last + j * c.dim, count: c.dim)) {
                for v in 0..<c.vocabularySize { out[j * c.vocabularySize + v] = .nan }
            }
        }
        return logits
    }

    /// Whether every value is finite, in one branch-free pass: x * 0 is 0 for a finite x and NaN for NaN or
    /// infinity, so the sum is NaN exactly when some value is not finite (and can never overflow). Four running
    /// sums keep the loop cheap next to the matrix products around it.
    public static func allFinite(_ v: UnsafeBufferPointer<Float>) -> Bool {
        var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
        var i = 0
        while i + 4 <= v.count {
            s0 += v[i] * 0; s1 += v[i + 1] * 0; s2 += v[i + 2] * 0; s3 += v[i + 3] * 0
            i += 4
        }
        while i < v.count { s0 += v[i] * 0; i += 1 }
        return (s0 + s1 + s2 + s3).isFinite
    }

    /// Evaluates a whole prompt for one fresh or continuing sequence; returns the last position's logits.
    public func prefill(_ tokens: [Int], cache: KVCache, workspace: Workspace,
                        precision: ProductPrecision = .fast) throws -> [Float] {
        guard !tokens.isEmpty else { throw EngineError.emptyInput }
        guard cache.count + tokens.count <= cache.maxPositions else {
            throw EngineError.contextOverflow(needed: cache.count + tokens.count, limit: cache.maxPositions)
        }
        let rows = tokens.enumerated().map { Row(token: $1, sequence: 0, position: cache.count + $0) }
        return try forward(rows: rows, caches: [cache], logitRows: [rows.count - 1], workspace: workspace, precision: precision)
    }

    /// y += s * (x A^T) B^T for each adapted projection of layer l; x (n, in), y (n, out).
    /// In C, row by row in a fixed order (lora.h): through sgemm a tuned model's reply changed with the number of
    /// sequences beside it (OpenBLAS picks its kernel by size; 96 replies 96 at a time differed from 32 at a time).
    private func applyAdapter(_ l: Int, _ items: [(LoRATarget, UnsafeMutablePointer<Float>)], x: UnsafePointer<Float>,
                              n: Int, workspace ws: Workspace) {
        guard let adapter else { return }
        let r = adapter.config.rank, s = adapter.config.scale
        let xa = ws.floats(.loraScratch, n * r)                   // (n, rank)
        adapter.values.withUnsafeBufferPointer { lv in
            let p = lv.baseAddress!
            for (t, y) in items {
                guard let slot = adapter.slot(layer: l, target: t) else { continue }
                let inF = slot.inFeatures, outF = slot.outFeatures
                // xa (n, rank) = x (n, in) A^T, split by rows
                Parallel.forRanges(n, minimumPerThread: max(1, (1 << 15) / (r * inF))) { j0, j1 in
                    ht_lora_down(xa, x, p + slot.aOffset, Int32(inF), Int32(r), Int32(j0), Int32(j1))
                }
                // y (n, out) += s xa B^T, split by outputs (each thread transposes its own blocks of B)
                Parallel.forRanges(outF, granularity: 16, minimumPerThread: max(16, (1 << 15) / (r * n))) { o0, o1 in
                    ht_lora_up(y, Int32(outF), xa, p + slot.bOffset, Int32(r), s, 0, Int32(n), Int32(o0), Int32(o1))
                }
            }
        }
    }

    // MARK: - attention

    private func attention(_ out: UnsafeMutablePointer<Float>, q: UnsafeMutablePointer<Float>, rows: [Row],
                           caches: [KVCache], layer l: Int, workspace ws: Workspace) {
        let c = config
        let B = rows.count
        let group = c.headCount / c.kvHeadCount
        let scale = 1 / Float(c.headDim).squareRoot()
        let singleSequence = rows.allSatisfy { $0.sequence == rows[0].sequence }
        if singleSequence, B >= QuantizedMatrix.blasMinimumRows {
            prefillAttention(out, q: q, rows: rows, cache: caches[rows[0].sequence], layer: l, scale: scale, workspace: ws)
            return
        }
        let span = rows.map(\.position).max()! + 1
        let scores = ws.floats(.scores, Parallel.threadCount * span)
        Parallel.forChunks(B * c.headCount, minimumPerThread: span * B < 64 ? B * c.headCount : 1) { chunk, start, end in
            let p = scores + chunk * span
            for task in start..<end {
                let i = task / c.headCount, head = task % c.headCount
                let r = rows[i]
                let cache = caches[r.sequence]
                let qh = q + i * c.qDim + head * c.headDim                    // (headDim)
                let keys = cache.keys[l] + (head / group) * c.headDim         // (positions, kvDim) at this kv head
                let values = cache.values[l] + (head / group) * c.headDim
                let n = r.position + 1
                ht_attention_scores(p, qh, keys, c.kvDim, Int32(n), Int32(c.headDim), scale)   // (n)
                ht_softmax(p, Int32(n), Int32(n))
                let o = out + i * c.qDim + head * c.headDim                   // (headDim)
                ht_attention_values(o, p, values, c.kvDim, Int32(n), Int32(c.headDim))
            }
        }
    }

    /// Attention of many consecutive rows of one sequence through sgemm; heads run in parallel,
    /// each with single-threaded products.
    private func prefillAttention(_ out: UnsafeMutablePointer<Float>, q: UnsafeMutablePointer<Float>, rows: [Row],
                                  cache: KVCache, layer l: Int, scale: Float, workspace ws: Workspace) {
        let c = config
        let T = rows.count
        let start = rows[0].position
        let span = start + T                                   // keys visible to the last row
        let group = c.headCount / c.kvHeadCount
        let scores = ws.floats(.scores, Parallel.threadCount * T * span)   // per chunk: (T, span)
        let keys = cache.keys[l], values = cache.values[l]
        Parallel.forChunks(c.headCount) { chunk, h0, h1 in
            let s = scores + chunk * T * span
            for head in h0..<h1 {
                let kv = (head / group) * c.headDim
                // s = q_h K^T * scale: (T, headDim) x (headDim, span)
                gemm(false, true, m: T, n: span, k: c.headDim, alpha: scale, q + head * c.headDim, lda: c.qDim,
                     keys + kv, ldb: c.kvDim, s, parallel: false)
                // causal mask and softmax, row by row
                for i in 0..<T { ht_softmax(s + i * span, Int32(start + i + 1), Int32(span)) }
                // out_h = s V: (T, span) x (span, headDim)
                gemm(false, false, m: T, n: c.headDim, k: span, s, values + kv, ldb: c.kvDim,
                     out + head * c.headDim, ldc: c.qDim, parallel: false)
            }
        }
    }

    // MARK: - element-wise kernels

    /// Rotates each head's first ropeDims values by its row's angles.
    private func applyRope(_ x: UnsafeMutablePointer<Float>, heads: Int, rows: Int, table: UnsafeMutablePointer<Float>) {
        let c = config
        let half = c.ropeDims / 2
        let width = heads * c.headDim
        Parallel.forEach(rows, minimumPerThread: elementwiseMinimum / width) { i in
            let angles = table + i * c.ropeDims
            for head in 0..<heads {
                let v = x + i * width + head * c.headDim
                for j in 0..<half {
                    let cs = angles[2 * j], sn = angles[2 * j + 1]
                    let (a, b) = c.ropeStyle == .adjacent ? (2 * j, 2 * j + 1) : (j, j + half)
                    let x0 = v[a], x1 = v[b]
                    v[a] = x0 * cs - x1 * sn
                    v[b] = x0 * sn + x1 * cs
                }
            }
        }
    }
}

/// Floats below which an element-wise pass stays on one core: a fork costs about as much as a few thousand
/// floats' work, so a decoded token's passes stay serial and a batch's or prompt's split. Each element or row
/// is computed the same way wherever it runs, so the split changes no number.
package let elementwiseMinimum = 16_384

/// y = x / sqrt(mean(x^2) + eps) * weight, for each of `rows` rows of `dim`.
@inline(__always)
package func rmsnorm(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: [Float], rows: Int, dim: Int, eps: Float) {
    weight.withUnsafeBufferPointer { w in
        Parallel.forEach(rows, minimumPerThread: elementwiseMinimum / dim) { r in
            let xr = x + r * dim, yr = y + r * dim
            var ss: Float = 0
            for i in 0..<dim { ss += xr[i] * xr[i] }
            let inv = 1 / (ss / Float(dim) + eps).squareRoot()
            for i in 0..<dim { yr[i] = xr[i] * inv * w[i] }
        }
    }
}

@inline(__always)
package func add(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
    Parallel.forRanges(count, granularity: 16, minimumPerThread: elementwiseMinimum) { s, e in
        ht_add(y + s, y + s, x + s, e - s)
    }
}

@inline(__always)
package func addBias(_ y: UnsafeMutablePointer<Float>, _ bias: [Float], rows: Int) {
    let n = bias.count
    for r in 0..<rows { for i in 0..<n { y[r * n + i] += bias[i] } }
}

/// gate = silu(gate) * up
@inline(__always)
package func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
    Parallel.forRanges(count, granularity: 16, minimumPerThread: elementwiseMinimum) { s, e in
        ht_swiglu(gate + s, gate + s, up + s, e - s)
    }
}
