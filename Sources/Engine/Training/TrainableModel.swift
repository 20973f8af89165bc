import CKernels
import Foundation
import ModelCore

/// A frozen base model, with a forward pass that keeps what the backward pass needs and a backward pass that
/// produces gradients for the LoRA matrices only.
///
/// The base weights stay as the file keeps them (quantised); `FrozenProducts` says how the two products through
/// them run. LoRA projections compute y = x W^T + s (x A^T) B^T with s = alpha / rank.
public final class TrainableModel: @unchecked Sendable {
    public let base: LlamaModel
    public var config: ModelConfig { base.config }
    /// How the forward pass multiplies by the frozen weights: `.fast` runs the inference kernels (8-bit
    /// activations against the quantised weights, as generation does); `.float` keeps activations in float32, for
    /// the finite-difference checks and for comparing the two.
    public let precision: ProductPrecision
    /// The products' scratch (a tile of dequantised weights, its bf16 packing), kept from one example to the
    /// next: allocated afresh for each, the tiles fragmented the heap and doubled the default model's peak memory.
    private let frozen: FrozenProducts
    /// One pass at a time owns `frozen`.
    private let passLock = NSLock()

    public init(base: LlamaModel, precision: ProductPrecision = .fast) {
        ht_keep_freed_memory()
        self.base = base
        self.precision = precision
        frozen = FrozenProducts(precision: precision)
    }

    /// What one layer's forward pass leaves for its backward pass; T rows.
    final class LayerActivations {
        let xIn: FloatBuffer      // (T, dim) residual stream entering the layer
        let h1: FloatBuffer       // (T, dim) rmsnorm(xIn), input of q, k, v
        let q: FloatBuffer        // (T, qDim) after RoPE
        let k: FloatBuffer        // (T, kvDim) after RoPE
        let v: FloatBuffer        // (T, kvDim)
        let probs: FloatBuffer    // (nHead, T, T) attention probabilities
        let att: FloatBuffer      // (T, qDim) attention output, input of o
        let xMid: FloatBuffer     // (T, dim) residual after attention
        let h2: FloatBuffer       // (T, dim) rmsnorm(xMid), input of gate and up
        let gate: FloatBuffer     // (T, ffn) before SiLU
        let up: FloatBuffer       // (T, ffn)
        let act: FloatBuffer      // (T, ffn) silu(gate) * up, input of down
        var xa: [LoRATarget: FloatBuffer] = [:]      // (T, rank) x A^T per adapted projection
        var dropped: [LoRATarget: FloatBuffer] = [:] // (T, in) LoRA input after dropout, when dropout > 0
        var dropState: [LoRATarget: UInt64] = [:]    // the dropout stream's state its mask was drawn from

        init(T: Int, c: ModelConfig) {
            xIn = FloatBuffer(T * c.dim); h1 = FloatBuffer(T * c.dim)
            q = FloatBuffer(T * c.qDim); k = FloatBuffer(T * c.kvDim); v = FloatBuffer(T * c.kvDim)
            probs = FloatBuffer(c.headCount * T * T); att = FloatBuffer(T * c.qDim)
            xMid = FloatBuffer(T * c.dim); h2 = FloatBuffer(T * c.dim)
            gate = FloatBuffer(T * c.ffnDim); up = FloatBuffer(T * c.ffnDim); act = FloatBuffer(T * c.ffnDim)
        }
    }

    /// Summed cross-entropy of one example and its gradients.
    /// - tokens: (T) input ids; targets[t] is the id position t must predict, or -1 (not in the loss).
    /// - gradients are ADDED into `grads` (same layout as `lora.values`), scaled by `lossScale`
    ///   (1 / labelled tokens of the batch, so a batch's gradient is that of its mean loss).
    /// - Returns the summed loss over labelled positions and their count.
    public func lossAndGradients(tokens: [Int], targets: [Int], lora: LoRAParameters,
                                 grads: UnsafeMutablePointer<Float>, lossScale: Float,
                                 dropoutSeed: UInt64 = 0) throws -> (loss: Double, count: Int) {
        try pass(tokens: tokens, targets: targets, lora: lora, grads: grads, lossScale: lossScale, dropoutSeed: dropoutSeed)
    }

    /// Summed cross-entropy of one example with the adapter as it stands: the forward pass alone, without dropout
    /// and without gradients (validation loss).
    public func loss(tokens: [Int], targets: [Int], lora: LoRAParameters) throws -> (loss: Double, count: Int) {
        try pass(tokens: tokens, targets: targets, lora: lora, grads: nil, lossScale: 1, dropoutSeed: 0)
    }

    /// The forward pass and loss, then (when `grads` is given) dropout on the LoRA inputs and the backward pass.
    private func pass(tokens: [Int], targets: [Int], lora: LoRAParameters, grads: UnsafeMutablePointer<Float>?,
                      lossScale: Float, dropoutSeed: UInt64) throws -> (loss: Double, count: Int) {
        let c = config
        let T = tokens.count
        guard T > 0, targets.count == T else { throw EngineError.emptyInput }
        guard T <= c.contextLength else { throw EngineError.contextOverflow(needed: T, limit: c.contextLength) }
        for t in tokens where t < 0 || t >= c.vocabularySize {
            throw EngineError.tokenOutOfRange(token: t, vocabularySize: c.vocabularySize)
        }
        let labelled = targets.indices.filter { targets[$0] >= 0 }
        let s = lora.config.scale
        let rank = lora.config.rank
        var dropRNG = SeededRandom(seed: dropoutSeed)
        let dropout = grads == nil ? 0 : lora.config.dropout    // dropout is a training-time regulariser only
        let rope = ropeTable(T)                                   // (T, ropeDims / 2, 2)
        passLock.lock()
        defer { passLock.unlock() }

        // ---- forward ----
        let x = FloatBuffer(T * c.dim)                           // (T, dim) residual stream
        for (i, tok) in tokens.enumerated() { base.weights.tokenEmbedding.dequantizeRow(tok, into: x.pointer + i * c.dim) }
        var saved: [LayerActivations] = []
        lora.values.withUnsafeBufferPointer { lv in
            let lp = lv.baseAddress!
            for l in 0..<c.layerCount {
                let a = LayerActivations(T: T, c: c)
                let w = base.weights.layers[l]
                a.xIn.pointer.update(from: x.pointer, count: T * c.dim)
                rmsnorm(a.h1.pointer, x.pointer, w.attentionNorm, rows: T, dim: c.dim, eps: c.normEpsilon)
                frozen.forward([(w.q, a.q.pointer), (w.k, a.k.pointer), (w.v, a.v.pointer)], x: a.h1.pointer, T: T)
                adapt(.q, l, a.h1, T, a.q, a, lora, lp, &dropRNG, dropout)
                adapt(.k, l, a.h1, T, a.k, a, lora, lp, &dropRNG, dropout)
                adapt(.v, l, a.h1, T, a.v, a, lora, lp, &dropRNG, dropout)
                if let b = w.qBias { addBias(a.q.pointer, b, rows: T) }
                if let b = w.kBias { addBias(a.k.pointer, b, rows: T) }
                if let b = w.vBias { addBias(a.v.pointer, b, rows: T) }
                rotate(a.q.pointer, heads: c.headCount, T: T, rope: rope, inverse: false)
                rotate(a.k.pointer, heads: c.kvHeadCount, T: T, rope: rope, inverse: false)
                attentionForward(a, T: T)
                let o = FloatBuffer(T * c.dim)                   // (T, dim)
                frozen.forward([(w.o, o.pointer)], x: a.att.pointer, T: T)
                adapt(.o, l, a.att, T, o, a, lora, lp, &dropRNG, dropout)
                elementwise(T * c.dim) { i, n in ht_add(a.xMid.pointer + i, a.xIn.pointer + i, o.pointer + i, n) }
                rmsnorm(a.h2.pointer, a.xMid.pointer, w.ffnNorm, rows: T, dim: c.dim, eps: c.normEpsilon)
                frozen.forward([(w.gate, a.gate.pointer), (w.up, a.up.pointer)], x: a.h2.pointer, T: T)
                adapt(.gate, l, a.h2, T, a.gate, a, lora, lp, &dropRNG, dropout)
                adapt(.up, l, a.h2, T, a.up, a, lora, lp, &dropRNG, dropout)
                elementwise(T * c.ffnDim) { i, n in ht_swiglu(a.act.pointer + i, a.gate.pointer + i, a.up.pointer + i, n) }
                let down = FloatBuffer(T * c.dim)                // (T, dim)
                frozen.forward([(w.down, down.pointer)], x: a.act.pointer, T: T)
                adapt(.down, l, a.act, T, down, a, lora, lp, &dropRNG, dropout)
                elementwise(T * c.dim) { i, n in ht_add(x.pointer + i, a.xMid.pointer + i, down.pointer + i, n) }
                saved.append(a)
            }
        }

        // ---- loss at labelled positions: logits = rmsnorm(x) E^T ----
        let L = labelled.count
        let dx = FloatBuffer(T * c.dim, zeroed: true)            // (T, dim) gradient of the residual stream
        guard L > 0 else { return (0, 0) }
        let hF = FloatBuffer(L * c.dim)                          // (L, dim)
        for (j, t) in labelled.enumerated() {
            rmsnorm(hF.pointer + j * c.dim, x.pointer + t * c.dim, base.weights.outputNorm, rows: 1, dim: c.dim, eps: c.normEpsilon)
        }
        let V = c.vocabularySize
        let logits = FloatBuffer(L * V)                           // (L, vocab)
        frozen.forward([(base.weights.output, logits.pointer)], x: hF.pointer, T: L)
        // Rows split over the threads, each chunk's loss summed in row order, the chunks added in order.
        var partialLoss = [Double](repeating: 0, count: Parallel.threadCount)
        let backward = grads != nil
        labelled.withUnsafeBufferPointer { labelled in
            partialLoss.withUnsafeMutableBufferPointer { partial in
                Parallel.forChunks(L) { chunk, start, end in
                    for j in start..<end {
                        // softmax cross-entropy; the row becomes d loss / d logits (times lossScale)
                        partial[chunk] += ht_cross_entropy(logits.pointer + j * V, Int32(V), Int32(targets[labelled[j]]),
                                                           lossScale, backward ? 1 : 0)
                    }
                }
            }
        }
        let loss = partialLoss.reduce(0, +)
        guard let grads else { return (loss, L) }
        let dhF = FloatBuffer(L * c.dim)                          // (L, dim)
        frozen.inputGradient(base.weights.output, dy: logits.pointer, T: L, into: dhF.pointer, accumulate: false)
        for (j, t) in labelled.enumerated() {
            rmsnormBackward(dx.pointer + t * c.dim, dhF.pointer + j * c.dim, x.pointer + t * c.dim,
                            base.weights.outputNorm, rows: 1, dim: c.dim, eps: c.normEpsilon)
        }

        // ---- backward, layer by layer ----
        lora.values.withUnsafeBufferPointer { lv in
            let lp = lv.baseAddress!
            for l in stride(from: c.layerCount - 1, through: 0, by: -1) {
                let a = saved[l]
                let w = base.weights.layers[l]
                // feed-forward: x_out = xMid + down(act), act = silu(gate) * up
                let dAct = FloatBuffer(T * c.ffnDim)
                frozen.inputGradient(w.down, dy: dx.pointer, T: T, into: dAct.pointer, accumulate: false)
                adaptBackward(.down, l, dy: dx, input: a.act, T, dInput: dAct, a, lora, lp, grads, s, rank)
                let dGate = FloatBuffer(T * c.ffnDim), dUp = FloatBuffer(T * c.ffnDim)
                elementwise(T * c.ffnDim) { i, n in
                    ht_swiglu_backward(dGate.pointer + i, dUp.pointer + i, dAct.pointer + i, a.gate.pointer + i,
                                       a.up.pointer + i, n)
                }
                let dh2 = FloatBuffer(T * c.dim)
                frozen.inputGradient(w.gate, dy: dGate.pointer, T: T, into: dh2.pointer, accumulate: false)
                frozen.inputGradient(w.up, dy: dUp.pointer, T: T, into: dh2.pointer, accumulate: true)
                adaptBackward(.gate, l, dy: dGate, input: a.h2, T, dInput: dh2, a, lora, lp, grads, s, rank)
                adaptBackward(.up, l, dy: dUp, input: a.h2, T, dInput: dh2, a, lora, lp, grads, s, rank)
                // dx now holds d/d xMid through the residual; add the path through ffn_norm
                rmsnormBackward(dx.pointer, dh2.pointer, a.xMid.pointer, w.ffnNorm, rows: T, dim: c.dim, eps: c.normEpsilon)
                // attention: xMid = xIn + o(att)
                let dAtt = FloatBuffer(T * c.qDim)
                frozen.inputGradient(w.o, dy: dx.pointer, T: T, into: dAtt.pointer, accumulate: false)
                adaptBackward(.o, l, dy: dx, input: a.att, T, dInput: dAtt, a, lora, lp, grads, s, rank)
                let dq = FloatBuffer(T * c.qDim), dk = FloatBuffer(T * c.kvDim, zeroed: true), dv = FloatBuffer(T * c.kvDim, zeroed: true)
                attentionBackward(a, dAtt: dAtt, dq: dq, dk: dk, dv: dv, T: T)
                rotate(dq.pointer, heads: c.headCount, T: T, rope: rope, inverse: true)
                rotate(dk.pointer, heads: c.kvHeadCount, T: T, rope: rope, inverse: true)
                let dh1 = FloatBuffer(T * c.dim)
                frozen.inputGradient(w.q, dy: dq.pointer, T: T, into: dh1.pointer, accumulate: false)
                frozen.inputGradient(w.k, dy: dk.pointer, T: T, into: dh1.pointer, accumulate: true)
                frozen.inputGradient(w.v, dy: dv.pointer, T: T, into: dh1.pointer, accumulate: true)
                adaptBackward(.q, l, dy: dq, input: a.h1, T, dInput: dh1, a, lora, lp, grads, s, rank)
                adaptBackward(.k, l, dy: dk, input: a.h1, T, dInput: dh1, a, lora, lp, grads, s, rank)
                adaptBackward(.v, l, dy: dv, input: a.h1, T, dInput: dh1, a, lora, lp, grads, s, rank)
                rmsnormBackward(dx.pointer, dh1.pointer, a.xIn.pointer, w.attentionNorm, rows: T, dim: c.dim, eps: c.normEpsilon)
            }
        }
        return (loss, L)
    }

    /// body(start, length) over 0..<count in ranges split over the threads when there is enough of it: the training
    /// pass's element-wise steps (residual adds, SiLU and its gradient) would otherwise leave the second core idle.
    @inline(__always)
    private func elementwise(_ count: Int, _ body: (Int, Int) -> Void) {
        Parallel.forRanges(count, granularity: 64, minimumPerThread: 1 << 14) { start, end in
            body(start, end - start)
        }
    }

    // MARK: - projections

    /// y (T, out) += s * dropout(x) A^T B^T when projection t of layer l is adapted; keeps x A^T
    /// for the backward pass.
    private func adapt(_ t: LoRATarget, _ l: Int, _ x: FloatBuffer, _ T: Int, _ y: FloatBuffer,
                       _ a: LayerActivations, _ lora: LoRAParameters, _ lp: UnsafePointer<Float>,
                       _ rng: inout SeededRandom, _ p: Float) {
        guard let slot = lora.slot(layer: l, target: t) else { return }
        let (outF, inF) = LoRAParameters.shape(t, config)
        let r = lora.config.rank
        var input = x
        if p > 0 {
            // The mask is the stream's next T * inF draws, element after element (dropout.h draws them across
            // the cores, the same bits as drawing one at a time).
            let d = FloatBuffer(T * inF)
            let keep = 1 / (1 - p)
            let state = rng.skip(T * inF)
            Parallel.forRanges(T * inF, granularity: 64, minimumPerThread: 1 << 14) { s, e in
                ht_dropout(d.pointer + s, x.pointer + s, e - s, SeededRandom.state(state, after: s), Double(p), keep)
            }
            a.dropped[t] = d
            a.dropState[t] = state
            input = d
        }
        let xa = FloatBuffer(T * r)                               // (T, rank)
        gemm(false, true, m: T, n: r, k: inF, input.pointer, lp + slot.aOffset, xa.pointer)
        gemm(false, true, m: T, n: outF, k: r, alpha: lora.config.scale, xa.pointer, lp + slot.bOffset,
             beta: 1, y.pointer)
        a.xa[t] = xa
    }

    /// The LoRA part of a projection's backward pass, given dy (T, out):
    /// dB += s dy^T (x A^T); dA += s (dy B)^T x; dInput += s (dy B) A.
    private func adaptBackward(_ t: LoRATarget, _ l: Int, dy: FloatBuffer, input x: FloatBuffer, _ T: Int,
                               dInput: FloatBuffer, _ a: LayerActivations, _ lora: LoRAParameters,
                               _ lp: UnsafePointer<Float>, _ grads: UnsafeMutablePointer<Float>, _ s: Float, _ r: Int) {
        guard let slot = lora.slot(layer: l, target: t), let xa = a.xa[t] else { return }
        let (outF, inF) = LoRAParameters.shape(t, config)
        let dyB = FloatBuffer(T * r)                              // (T, rank)
        gemm(false, false, m: T, n: r, k: outF, dy.pointer, lp + slot.bOffset, dyB.pointer)
        // dB (out, rank) += s * dy^T (T, out)^T (x A^T) (T, rank)
        gemm(true, false, m: outF, n: r, k: T, alpha: s, dy.pointer, xa.pointer, beta: 1, grads + slot.bOffset)
        // dA (rank, in) += s * (dy B)^T x_in
        let xin = a.dropped[t] ?? x
        gemm(true, false, m: r, n: inF, k: T, alpha: s, dyB.pointer, xin.pointer, beta: 1, grads + slot.aOffset)
        // the LoRA path's input gradient: s * (dy B) A, through the dropout mask
        if let state = a.dropState[t] {
            let tmp = FloatBuffer(T * inF)
            gemm(false, false, m: T, n: inF, k: r, alpha: s, dyB.pointer, lp + slot.aOffset, tmp.pointer)
            let p = lora.config.dropout, keep = 1 / (1 - p)
            // Through the forward pass's mask, drawn again from its state: only the kept elements pass.
            Parallel.forRanges(T * inF, granularity: 64, minimumPerThread: 1 << 14) { i0, i1 in
                ht_dropout_backward(dInput.pointer + i0, tmp.pointer + i0, i1 - i0, SeededRandom.state(state, after: i0),
                                    Double(p), keep)
            }
        } else {
            gemm(false, false, m: T, n: inF, k: r, alpha: s, dyB.pointer, lp + slot.aOffset, beta: 1, dInput.pointer)
        }
    }

    // MARK: - attention

    private func attentionForward(_ a: LayerActivations, T: Int) {
        let c = config
        let group = c.headCount / c.kvHeadCount
        let scale = 1 / Float(c.headDim).squareRoot()
        // A head per thread at a time: each writes only its own probabilities and output columns. Products inside a
        // head stay on its thread (a fork per small product cost more than the products).
        Parallel.forRanges(c.headCount) { hs, he in
            for h in hs..<he {
                let kv = (h / group) * c.headDim
                let p = a.probs.pointer + h * T * T               // (T, T)
                gemm(false, true, m: T, n: T, k: c.headDim, alpha: scale, a.q.pointer + h * c.headDim, lda: c.qDim,
                     a.k.pointer + kv, ldb: c.kvDim, p, parallel: false)
                for i in 0..<T {
                    let row = p + i * T
                    var m = -Float.infinity
                    for j in 0...i { m = max(m, row[j]) }
                    var sum: Float = 0
                    for j in 0...i { let e = expf(row[j] - m); row[j] = e; sum += e }
                    let inv = 1 / sum
                    for j in 0...i { row[j] *= inv }
                    for j in (i + 1)..<T { row[j] = 0 }
                }
                gemm(false, false, m: T, n: c.headDim, k: T, p, a.v.pointer + kv, ldb: c.kvDim,
                     a.att.pointer + h * c.headDim, ldc: c.qDim, parallel: false)
            }
        }
    }

    /// O = P V with P = softmax(S), S = scale Q K^T: dP = dO V^T; dV += P^T dO;
    /// dS = P * (dP - rowsum(dP * P)); dQ = scale dS K; dK += scale dS^T Q.
    private func attentionBackward(_ a: LayerActivations, dAtt: FloatBuffer, dq: FloatBuffer, dk: FloatBuffer,
                                   dv: FloatBuffer, T: Int) {
        let c = config
        let group = c.headCount / c.kvHeadCount
        let scale = 1 / Float(c.headDim).squareRoot()
        // Two phases, so that threads never add into the same rows: per head (its own dS and dQ columns), then per
        // key-value head and output (dK or dV of the group, its heads added in order, as the serial loop did).
        let dS = FloatBuffer(c.headCount * T * T)                 // (heads, T, T)
        Parallel.forRanges(c.headCount) { hs, he in
            for h in hs..<he {
                let kv = (h / group) * c.headDim
                let p = a.probs.pointer + h * T * T
                let dO = dAtt.pointer + h * c.headDim
                let dP = dS.pointer + h * T * T
                gemm(false, true, m: T, n: T, k: c.headDim, dO, lda: c.qDim, a.v.pointer + kv, ldb: c.kvDim, dP, parallel: false)
                for i in 0..<T {
                    let pr = p + i * T, dr = dP + i * T
                    var dot: Float = 0
                    for j in 0...i { dot += pr[j] * dr[j] }
                    for j in 0...i { dr[j] = pr[j] * (dr[j] - dot) }
                    for j in (i + 1)..<T { dr[j] = 0 }
                }
                gemm(false, false, m: T, n: c.headDim, k: T, alpha: scale, dP, a.k.pointer + kv, ldb: c.kvDim,
                     dq.pointer + h * c.headDim, ldc: c.qDim, parallel: false)
            }
        }
        Parallel.forRanges(2 * c.kvHeadCount) { ts, te in
            for task in ts..<te {
                let g = task / 2, kv = g * c.headDim
                for h in (g * group)..<((g + 1) * group) {
                    if task % 2 == 0 {
                        // dV += P^T dO
                        gemm(true, false, m: T, n: c.headDim, k: T, a.probs.pointer + h * T * T, dAtt.pointer + h * c.headDim,
                             ldb: c.qDim, beta: 1, dv.pointer + kv, ldc: c.kvDim, parallel: false)
                    } else {
                        // dK += scale dS^T Q
                        gemm(true, false, m: T, n: c.headDim, k: T, alpha: scale, dS.pointer + h * T * T,
                             a.q.pointer + h * c.headDim, ldb: c.qDim, beta: 1, dk.pointer + kv, ldc: c.kvDim, parallel: false)
                    }
                }
            }
        }
    }

    // MARK: - RoPE

    /// cos and sin per position and frequency, as the inference path computes them.
    private func ropeTable(_ T: Int) -> [Float] {
        let half = config.ropeDims / 2
        var table = [Float](repeating: 0, count: T * half * 2)
        for t in 0..<T {
            for j in 0..<half {
                let angle = Double(t) * base.inverseFrequencies[j]
                table[(t * half + j) * 2] = Float(cos(angle))
                table[(t * half + j) * 2 + 1] = Float(sin(angle))
            }
        }
        return table
    }

    /// Rotates each head by its position's angles; `inverse` rotates back (the transpose), which is
    /// how a gradient passes through a rotation.
    private func rotate(_ x: UnsafeMutablePointer<Float>, heads: Int, T: Int, rope: [Float], inverse: Bool) {
        let c = config
        let half = c.ropeDims / 2
        let width = heads * c.headDim
        rope.withUnsafeBufferPointer { r in
            Parallel.forRanges(T, minimumPerThread: 16) { ts, te in
                for t in ts..<te {
                    for h in 0..<heads {
                        let v = x + t * width + h * c.headDim
                        for j in 0..<half {
                            let cs = r[(t * half + j) * 2]
                            let sn = inverse ? -r[(t * half + j) * 2 + 1] : r[(t * half + j) * 2 + 1]
                            let (i0, i1) = c.ropeStyle == .adjacent ? (2 * j, 2 * j + 1) : (j, j + half)
                            let x0 = v[i0], x1 = v[i1]
                            v[i0] = x0 * cs - x1 * sn
                            v[i1] = x0 * sn + x1 * cs
                        }
                    }
                }
            }
        }
    }
}

/// y = x * inv * w with inv = 1 / sqrt(mean(x^2) + eps). Given dy, adds dx:
/// dx = inv * (dy * w) - x * inv^3 * sum(dy * w * x) / n.
func rmsnormBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                     _ weight: [Float], rows: Int, dim: Int, eps: Float) {
    weight.withUnsafeBufferPointer { w in
        Parallel.forRanges(rows, minimumPerThread: max(1, (1 << 14) / max(1, dim))) { rs, re in
            for r in rs..<re {
                let xr = x + r * dim, dyr = dy + r * dim, dxr = dx + r * dim
                var ss: Float = 0
                var dot: Float = 0
                for i in 0..<dim {
                    ss += xr[i] * xr[i]
                    dot += dyr[i] * w[i] * xr[i]
                }
                let inv = 1 / (ss / Float(dim) + eps).squareRoot()
                let k = inv * inv * inv * dot / Float(dim)
                for i in 0..<dim { dxr[i] += inv * dyr[i] * w[i] - xr[i] * k }
            }
        }
    }
}
