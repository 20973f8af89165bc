/// The two RoPE layouts found in GGUF files.
public enum RopeStyle: String, Sendable {
    /// llama: rotates adjacent pairs (x[2i], x[2i+1]); the converter permuted q/k for this.
    case adjacent
    /// qwen2 ("neox"): rotates halves (x[i], x[i + d/2]).
    case halves
}

/// Hyperparameters of a llama-family model, read from GGUF metadata.
public struct ModelConfig: Sendable, Equatable {
    public static let supportedArchitectures = ["llama", "qwen2"]

    public var architecture: String
    public var layerCount: Int
    public var dim: Int
    public var ffnDim: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var vocabularySize: Int
    public var contextLength: Int
    public var ropeBase: Float
    public var ropeDims: Int
    public var ropeStyle: RopeStyle
    public var normEpsilon: Float
    public var hasQKVBias: Bool

    public var qDim: Int { headCount * headDim }
    public var kvDim: Int { kvHeadCount * headDim }

    public init(gguf: GGUFFile) throws {
        let path = gguf.path
        let arch = try gguf.string("general.architecture")
        guard Self.supportedArchitectures.contains(arch) else {
            throw GGUFError.unsupportedArchitecture(path: path, architecture: arch)
        }
        func positive(_ key: String, _ value: Int) throws -> Int {
            guard value > 0, value < 1 << 24 else {
                throw GGUFError.invalidHyperparameter(path: path, key: key, reason: "is \(value), outside 1..<2^24")
            }
            return value
        }
        architecture = arch
        layerCount = try positive("\(arch).block_count", try gguf.int("\(arch).block_count"))
        dim = try positive("\(arch).embedding_length", try gguf.int("\(arch).embedding_length"))
        ffnDim = try positive("\(arch).feed_forward_length", try gguf.int("\(arch).feed_forward_length"))
        headCount = try positive("\(arch).attention.head_count", try gguf.int("\(arch).attention.head_count"))
        kvHeadCount = try positive("\(arch).attention.head_count_kv",
                                   gguf.metadata["\(arch).attention.head_count_kv"]?.int ?? headCount)
        guard headCount % kvHeadCount == 0 else {
            throw GGUFError.invalidHyperparameter(path: path, key: "\(arch).attention.head_count_kv",
                                                  reason: "(\(kvHeadCount)) does not divide head_count (\(headCount))")
        }
        headDim = try positive("\(arch).attention.key_length", gguf.metadata["\(arch).attention.key_length"]?.int ?? dim / headCount)
        guard headDim % 2 == 0 else {
            throw GGUFError.invalidHyperparameter(path: path, key: "\(arch).attention.key_length", reason: "is odd (\(headDim))")
        }
        contextLength = try positive("\(arch).context_length", gguf.metadata["\(arch).context_length"]?.int ?? 2048)
        ropeBase = Float(gguf.metadata["\(arch).rope.freq_base"]?.double ?? 10000)
        ropeDims = gguf.metadata["\(arch).rope.dimension_count"]?.int ?? headDim
        guard ropeDims > 0, ropeDims <= headDim, ropeDims % 2 == 0 else {
            throw GGUFError.invalidHyperparameter(path: path, key: "\(arch).rope.dimension_count", reason: "is \(ropeDims) for head size \(headDim)")
        }
        ropeStyle = arch == "qwen2" ? .halves : .adjacent
        normEpsilon = Float(gguf.metadata["\(arch).attention.layer_norm_rms_epsilon"]?.double ?? 1e-5)
        let embedding = try gguf.tensor("token_embd.weight")
        guard embedding.dims.count == 2, embedding.dims[0] == dim else {
            throw GGUFError.badTensorShape(path: path, tensor: "token_embd.weight", reason: "\(embedding.dims), expected [\(dim), vocab]")
        }
        vocabularySize = embedding.dims[1]
        hasQKVBias = gguf.tensors["blk.0.attn_q.bias"] != nil
    }
}
