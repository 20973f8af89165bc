import Foundation

/// The projections of a llama block that LoRA can adapt.
public enum LoRATarget: String, CaseIterable, Codable, Sendable {
    case q, k, v, o, gate, up, down

    /// Hugging Face module name (PEFT's target_modules).
    public var huggingFaceName: String {
        switch self {
        case .q: return "q_proj"
        case .k: return "k_proj"
        case .v: return "v_proj"
        case .o: return "o_proj"
        case .gate: return "gate_proj"
        case .up: return "up_proj"
        case .down: return "down_proj"
        }
    }

    /// The block that holds it in Hugging Face's llama ("self_attn" or "mlp").
    public var huggingFaceBlock: String {
        switch self {
        case .q, .k, .v, .o: return "self_attn"
        case .gate, .up, .down: return "mlp"
        }
    }

    /// GGUF tensor stem (blk.N.<stem>.weight).
    public var ggufName: String {
        switch self {
        case .q: return "attn_q"
        case .k: return "attn_k"
        case .v: return "attn_v"
        case .o: return "attn_output"
        case .gate: return "ffn_gate"
        case .up: return "ffn_up"
        case .down: return "ffn_down"
        }
    }

    public init?(name: String) {
        if let t = LoRATarget(rawValue: name) { self = t; return }
        if let t = LoRATarget.allCases.first(where: { $0.huggingFaceName == name || $0.ggufName == name }) { self = t; return }
        return nil
    }
}

public struct LoRAConfig: Codable, Sendable, Equatable {
    public var rank: Int = 16
    public var alpha: Float = 32
    public var dropout: Float = 0
    public var targets: [LoRATarget] = LoRATarget.allCases

    public init(rank: Int = 16, alpha: Float = 32, dropout: Float = 0, targets: [LoRATarget] = LoRATarget.allCases) {
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.targets = targets
    }

    /// The factor on B A in W + scale * B A.
    public var scale: Float { alpha / Float(rank) }
}

/// Every LoRA matrix of a model in one flat buffer, so the optimizer, clipping and checkpoints
/// treat them as one vector. For a projection W (out, in): A is (rank, in), B is (out, rank).
public final class LoRAParameters: @unchecked Sendable {
    public struct Slot: Sendable, Equatable {
        public let layer: Int
        public let target: LoRATarget
        public let inFeatures: Int
        public let outFeatures: Int
        public let aOffset: Int   // (rank, in)
        public let bOffset: Int   // (out, rank)
    }

    public let config: LoRAConfig
    public let slots: [Slot]
    public var values: [Float]
    private let index: [Int: Int]  // layer * 8 + target -> slot

    public init(config: LoRAConfig, modelConfig c: ModelConfig) {
        self.config = config
        var slots: [Slot] = []
        var offset = 0
        var index: [Int: Int] = [:]
        for l in 0..<c.layerCount {
            for t in LoRATarget.allCases where config.targets.contains(t) {
                let (outF, inF) = Self.shape(t, c)
                slots.append(Slot(layer: l, target: t, inFeatures: inF, outFeatures: outF,
                                  aOffset: offset, bOffset: offset + config.rank * inF))
                index[l * 8 + LoRATarget.allCases.firstIndex(of: t)!] = slots.count - 1
                offset += config.rank * (inF + outF)
            }
        }
        self.slots = slots
        self.index = index
        values = [Float](repeating: 0, count: offset)
    }

    /// (out, in) of a projection.
    public static func shape(_ t: LoRATarget, _ c: ModelConfig) -> (Int, Int) {
        switch t {
        case .q: return (c.qDim, c.dim)
        case .k, .v: return (c.kvDim, c.dim)
        case .o: return (c.dim, c.qDim)
        case .gate, .up: return (c.ffnDim, c.dim)
        case .down: return (c.dim, c.ffnDim)
        }
    }

    public func slot(layer: Int, target: LoRATarget) -> Slot? {
        index[layer * 8 + LoRATarget.allCases.firstIndex(of: target)!].map { slots[$0] }
    }

    public var count: Int { values.count }
}
