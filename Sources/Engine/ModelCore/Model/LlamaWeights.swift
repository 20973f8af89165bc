import Foundation

/// The weights of one transformer block, looked up by their GGUF names.
public struct LayerWeights: @unchecked Sendable {
    public let attentionNorm: [Float]  // (dim)
    public let q: QuantizedMatrix      // (qDim, dim)
    public let k: QuantizedMatrix      // (kvDim, dim)
    public let v: QuantizedMatrix      // (kvDim, dim)
    public let o: QuantizedMatrix      // (dim, qDim)
    public let qBias: [Float]?         // (qDim), qwen2 only
    public let kBias: [Float]?         // (kvDim)
    public let vBias: [Float]?         // (kvDim)
    public let ffnNorm: [Float]        // (dim)
    public let gate: QuantizedMatrix   // (ffnDim, dim)
    public let up: QuantizedMatrix     // (ffnDim, dim)
    public let down: QuantizedMatrix   // (dim, ffnDim)

    /// The seven projections LoRA can adapt, by their short names.
    public func projection(_ name: String) -> QuantizedMatrix? {
        switch name {
        case "q": return q
        case "k": return k
        case "v": return v
        case "o": return o
        case "gate": return gate
        case "up": return up
        case "down": return down
        default: return nil
        }
    }
}

/// All weights of a llama or qwen2 model, mapped from the file (norms and biases copied to floats).
public struct LlamaWeights: @unchecked Sendable {
    public let tokenEmbedding: QuantizedMatrix  // (vocab, dim)
    public let layers: [LayerWeights]
    public let outputNorm: [Float]              // (dim)
    public let output: QuantizedMatrix          // (vocab, dim); token_embd when tied
    public let ropeFrequencyFactors: [Float]?   // (ropeDims / 2), Llama 3 long-context scaling

    /// Whether every product of a forward pass runs on panels, so that a row's numbers do not depend on how many rows
    /// go with it at any batch size (without panels, `matmul` sends 32 rows or more through sgemm).
    public var allPanelled: Bool {
        output.hasPanels && layers.allSatisfy { w in [w.q, w.k, w.v, w.o, w.gate, w.up, w.down].allSatisfy(\.hasPanels) }
    }

    /// Where the panel copies came from, for `bench generate` and the README's measurements.
    public private(set) var panelSource: PanelSource = .repacked

    /// With the panel cache a model in hellotune's models folder gets (`PanelCache.automatic`).
    public init(gguf: GGUFFile, config c: ModelConfig) throws {
        try self.init(gguf: gguf, config: c, panelCache: PanelCache.automatic(for: gguf))
    }

    /// Panels mapped from `panelCache` when it holds this model's, otherwise repacked and written there for the next
    /// process (and then mapped, so that this process runs on the same copy as the next ones). A cache that cannot be
    /// written costs only speed: the weights load from the repacked panels and `panelSource` says why.
    public init(gguf: GGUFFile, config c: ModelConfig, panelCache: PanelCache?) throws {
        guard let panelCache else {
            try self.init(gguf: gguf, config: c, mapping: nil)
            return
        }
        if let mapping = panelCache.open() {
            let w = try LlamaWeights(gguf: gguf, config: c, mapping: mapping)
            let panelled = w.panelledMatrices
            if !panelled.isEmpty && panelled.allSatisfy(\.panelsMapped) {
                self = w
                self.panelSource = .mapped(panelCache.url)
                return
            }
        }
        var built: LlamaWeights? = try LlamaWeights(gguf: gguf, config: c, mapping: nil)
        do {
            try panelCache.write(built!.panelledMatrices)
        } catch {
            self = built!
            self.panelSource = .notWritten(panelCache.url, reason: "\(error)")
            return
        }
        built = nil  // the repacked copies go before the file's pages come in
        guard let mapping = panelCache.open() else {
            try self.init(gguf: gguf, config: c, mapping: nil)
            self.panelSource = .notWritten(panelCache.url, reason: "the file just written does not read back")
            return
        }
        try self.init(gguf: gguf, config: c, mapping: mapping)
        panelSource = .written(panelCache.url)
    }

    /// Every matrix with a panel copy, each once (the output matrix is the token embedding when tied).
    var panelledMatrices: [QuantizedMatrix] {
        var all = [tokenEmbedding] + layers.flatMap { [$0.q, $0.k, $0.v, $0.o, $0.gate, $0.up, $0.down] }
        if output.name != tokenEmbedding.name { all.append(output) }
        return all.filter(\.hasPanels)
    }

    private init(gguf: GGUFFile, config c: ModelConfig, mapping: PanelCache.Mapping?) throws {
        let path = gguf.path
        func matrix(_ name: String, rows: Int, cols: Int, panels: Bool = true) throws -> QuantizedMatrix {
            let t = try gguf.tensor(name)
            guard t.dims.count == 2, t.dims[0] == cols, t.dims[1] == rows else {
                throw GGUFError.badTensorShape(path: path, tensor: name, reason: "\(t.dims), expected [\(cols), \(rows)]")
            }
            let m = QuantizedMatrix(tensor: t, panels: panels, cache: mapping)
            // A matrix whose panels replace its bytes gives the file's pages back as soon as the panels are made:
            // the 1.5B model held both, 1.1 GB of mapped file beside 1 GB of panels.
            if m.panelsReplaceData { gguf.file.release(m.data, count: m.rows * m.rowBytes) }
            return m
        }
        func vector(_ name: String, _ count: Int, required: Bool = true) throws -> [Float]? {
            guard let t = gguf.tensors[name] else {
                if required { throw GGUFError.missingTensor(path: path, tensor: name) }
                return nil
            }
            guard t.elementCount == count else {
                throw GGUFError.badTensorShape(path: path, tensor: name, reason: "\(t.dims), expected [\(count)]")
            }
            // Norms and biases are small and read whole here, so checking them costs nothing; a NaN in a matrix
            // shows in the logits, which generation checks at every token.
            let values = Dequantize.tensor(t)
            guard values.allSatisfy(\.isFinite) else { throw GGUFError.nonFiniteTensor(path: path, tensor: name) }
            return values
        }
        let tied = gguf.tensors["output.weight"] == nil
        // Looked up row by row; it needs the panel copy only when it doubles as the output matrix.
        tokenEmbedding = try matrix("token_embd.weight", rows: c.vocabularySize, cols: c.dim, panels: tied)
        // Layer by layer, not `map` over 0..<layerCount: that reserves room for every layer first, and a file
        // claiming billions of layers (found by the gguf fuzz target) ran out of memory before its first
        // missing tensor was noticed.
        var layers: [LayerWeights] = []
        for l in 0..<c.layerCount {
            let p = "blk.\(l)."
            layers.append(LayerWeights(
                attentionNorm: try vector(p + "attn_norm.weight", c.dim)!,
                q: try matrix(p + "attn_q.weight", rows: c.qDim, cols: c.dim),
                k: try matrix(p + "attn_k.weight", rows: c.kvDim, cols: c.dim),
                v: try matrix(p + "attn_v.weight", rows: c.kvDim, cols: c.dim),
                o: try matrix(p + "attn_output.weight", rows: c.dim, cols: c.qDim),
                qBias: try vector(p + "attn_q.bias", c.qDim, required: false),
                kBias: try vector(p + "attn_k.bias", c.kvDim, required: false),
                vBias: try vector(p + "attn_v.bias", c.kvDim, required: false),
                ffnNorm: try vector(p + "ffn_norm.weight", c.dim)!,
                gate: try matrix(p + "ffn_gate.weight", rows: c.ffnDim, cols: c.dim),
                up: try matrix(p + "ffn_up.weight", rows: c.ffnDim, cols: c.dim),
                down: try matrix(p + "ffn_down.weight", rows: c.dim, cols: c.ffnDim)
            ))
        }
        self.layers = layers
        outputNorm = try vector("output_norm.weight", c.dim)!
        output = tied ? tokenEmbedding : try matrix("output.weight", rows: c.vocabularySize, cols: c.dim)
        ropeFrequencyFactors = try vector("rope_freqs.weight", c.ropeDims / 2, required: false)
    }
}

/// Where a model's panel copies came from.
public enum PanelSource: Sendable, Equatable, CustomStringConvertible {
    /// Made by this process, with no cache file (a small model, one outside the models folder, or the cache off).
    case repacked
    /// Read from the cache file.
    case mapped(URL)
    /// Made by this process, written to the cache file, and read back from it.
    case written(URL)
    /// Made by this process; the cache file could not be written (a full disk, a read-only home).
    case notWritten(URL, reason: String)

    public var description: String {
        switch self {
        case .repacked: return "repacked"
        case let .mapped(url): return "mapped from \(url.path)"
        case let .written(url): return "repacked, written to \(url.path)"
        case let .notWritten(url, reason): return "repacked; \(url.path) not written: \(reason)"
        }
    }
}
