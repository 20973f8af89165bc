import Foundation
import TestSupport
import ModelCore
import Experiment

/// Tiny deterministic llama/qwen2 models, generated from a spec by the recipe documented at the
/// top of scripts/fixtures/make_model_fixtures.py (which implements it too, in numpy, and stores
/// the FNV-1a 64 hash of every tensor's bytes in Fixtures/model_tiny.json, so the tests can check
/// that both sides built the same model bit for bit).
///
/// In short: one SplitMix64 stream per tensor (seed * 65536 + tensor index, in file order);
/// F32/F16/BF16 elements are uniform floats (norms in [0.75, 1.25), biases in [-0.5, 0.5),
/// matrices in [-0.1g, 0.1g), g = 2 for token_embd/output), F16 rounded to nearest even, BF16
/// truncated; quantised tensors are random bytes whose f16 block scales are overwritten with
/// d = (0.5 + u) * DBASE[type] * g and m/dmin derived from d so that weights are centred near 0.
enum TinyModel {
    struct Spec: Codable, Equatable {
        var name: String
        var arch: String
        var seed: UInt64
        var dim: Int
        var heads: Int
        var kvHeads: Int
        var ffn: Int
        var vocab: Int
        var context: Int
        var ropeBase: Double
        var eps: Double
        /// Type of token_embd.weight.
        var embed: String
        /// Type of output.weight; nil: tied (no output.weight).
        var output: String?
        var qkvBias: Bool
        /// Per layer, the types of q, k, v, o, gate, up, down.
        var layers: [[String]]

        enum CodingKeys: String, CodingKey {
            case name, arch, seed, dim, heads, ffn, vocab, context, eps, embed, output, layers
            case kvHeads = "kv_heads", ropeBase = "rope_base", qkvBias = "qkv_bias"
        }

        var headDim: Int { dim / heads }

        /// The fixture's dimensions, every tensor F32, tied output (for tests that need any valid model).
        static func allF32(arch: String = "llama", seed: UInt64 = 404) -> Spec {
            Spec(name: "\(arch)-f32", arch: arch, seed: seed, dim: 256, heads: 4, kvHeads: 2, ffn: 512, vocab: 320,
                 context: 256, ropeBase: 10000, eps: 1e-5, embed: "F32", output: nil, qkvBias: arch == "qwen2",
                 layers: Array(repeating: Array(repeating: "F32", count: 7), count: 2))
        }
    }

    enum Kind { case matrix, norm, bias }

    struct Planned {
        var name: String
        var dims: [Int]
        var type: GGMLType
        var kind: Kind
        var gain: Float
    }

    static func type(named name: String) -> GGMLType {
        guard let t = GGMLType.allCases.first(where: { $0.description == name }) else {
            fatalError("unknown GGML type name \(name)")
        }
        return t
    }

    /// Base of the block scale d per type (weight std ~0.06 at gain 1), as DBASE in the script.
    static let dBase: [GGMLType: Float] = [
        .q4_0: 0.0125, .q4_1: 0.0125, .q5_0: 0.00625, .q5_1: 0.00625, .q8_0: 0.0008,
        .q2_K: 0.004, .q3_K: 0.0013, .q4_K: 0.00022, .q5_K: 0.00011, .q6_K: 0.000042,
    ]
    /// Centring factor of the m / dmin field, as MID in the script.
    static let mid: [GGMLType: Float] = [.q4_1: 7.5, .q5_1: 15.5, .q2_K: 1.5, .q4_K: 7.5, .q5_K: 15.5]

    enum Field { case d, m, dmin }

    /// Byte offsets of each block's f16 fields, in the order they are overwritten.
    static func fields(_ t: GGMLType) -> [(Int, Field)] {
        switch t {
        case .q4_0, .q5_0, .q8_0: return [(0, .d)]
        case .q4_1, .q5_1: return [(0, .d), (2, .m)]
        case .q2_K: return [(80, .d), (82, .dmin)]
        case .q3_K: return [(108, .d)]
        case .q4_K, .q5_K: return [(0, .d), (2, .dmin)]
        case .q6_K: return [(208, .d)]
        default: return []
        }
    }

    /// Every tensor in file order.
    static func plan(_ s: Spec) -> [Planned] {
        let kv = s.kvHeads * s.headDim
        var out = [Planned(name: "token_embd.weight", dims: [s.dim, s.vocab], type: type(named: s.embed), kind: .matrix, gain: 2)]
        for (l, types) in s.layers.enumerated() {
            precondition(types.count == 7, "a layer has seven matrices")
            let t = types.map(type(named:))
            let p = "blk.\(l)."
            out.append(Planned(name: p + "attn_norm.weight", dims: [s.dim], type: .f32, kind: .norm, gain: 1))
            out.append(Planned(name: p + "attn_q.weight", dims: [s.dim, s.dim], type: t[0], kind: .matrix, gain: 1))
            if s.qkvBias { out.append(Planned(name: p + "attn_q.bias", dims: [s.dim], type: .f32, kind: .bias, gain: 1)) }
            out.append(Planned(name: p + "attn_k.weight", dims: [s.dim, kv], type: t[1], kind: .matrix, gain: 1))
            if s.qkvBias { out.append(Planned(name: p + "attn_k.bias", dims: [kv], type: .f32, kind: .bias, gain: 1)) }
            out.append(Planned(name: p + "attn_v.weight", dims: [s.dim, kv], type: t[2], kind: .matrix, gain: 1))
            if s.qkvBias { out.append(Planned(name: p + "attn_v.bias", dims: [kv], type: .f32, kind: .bias, gain: 1)) }
            out.append(Planned(name: p + "attn_output.weight", dims: [s.dim, s.dim], type: t[3], kind: .matrix, gain: 1))
            out.append(Planned(name: p + "ffn_norm.weight", dims: [s.dim], type: .f32, kind: .norm, gain: 1))
            out.append(Planned(name: p + "ffn_gate.weight", dims: [s.dim, s.ffn], type: t[4], kind: .matrix, gain: 1))
            out.append(Planned(name: p + "ffn_up.weight", dims: [s.dim, s.ffn], type: t[5], kind: .matrix, gain: 1))
            out.append(Planned(name: p + "ffn_down.weight", dims: [s.ffn, s.dim], type: t[6], kind: .matrix, gain: 1))
        }
        out.append(Planned(name: "output_norm.weight", dims: [s.dim], type: .f32, kind: .norm, gain: 1))
        if let o = s.output {
            out.append(Planned(name: "output.weight", dims: [s.dim, s.vocab], type: type(named: o), kind: .matrix, gain: 2))
        }
        return out
    }

    /// The bytes of one tensor, from a fresh SplitMix64(seed).
    static func bytes(seed: UInt64, _ t: Planned) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        let count = t.dims.reduce(1, *)
        switch t.type {
        case .f32, .f16, .bf16:
            var out: [UInt8] = []
            out.reserveCapacity(count * t.type.blockBytes)
            for _ in 0..<count {
                let s = rng.nextFloat() * 2 - 1  // exact
                let v: Float
                switch t.kind {
                case .norm: v = 1 + s * 0.25
                case .bias: v = s * 0.5
                case .matrix: v = s * (Float(0.1) * t.gain)
                }
                switch t.type {
                case .f32: withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) }
                case .f16: withUnsafeBytes(of: floatToHalf(v).littleEndian) { out.append(contentsOf: $0) }
                default: withUnsafeBytes(of: UInt16(truncatingIfNeeded: v.bitPattern >> 16).littleEndian) { out.append(contentsOf: $0) }
                }
            }
            return out
        default:
            let blocks = count / t.type.blockSize
            let size = blocks * t.type.blockBytes
            var out: [UInt8] = []
            out.reserveCapacity(size + 8)
            while out.count < size {
                withUnsafeBytes(of: rng.next().littleEndian) { out.append(contentsOf: $0) }
            }
            out.removeLast(out.count - size)
            let scale = dBase[t.type]! * t.gain
            for b in 0..<blocks {
                var d: Float = 0
                for (offset, field) in fields(t.type) {
                    let u = rng.nextFloat()
                    var v: Float
                    switch field {
                    case .d:
                        v = (0.5 + u) * scale
                        d = halfToFloat(floatToHalf(v))
                    case .m, .dmin:
                        let tt = Float(0.75) + Float(0.5) * u
                        v = (mid[t.type]! * d) * tt
                        if field == .m { v = -v }
                    }
                    let h = floatToHalf(v)
                    let at = b * t.type.blockBytes + offset
                    out[at] = UInt8(truncatingIfNeeded: h)
                    out[at + 1] = UInt8(truncatingIfNeeded: h >> 8)
                }
            }
            return out
        }
    }

    static func tensors(_ s: Spec) -> [GGUFWriter.Tensor] {
        plan(s).enumerated().map { i, t in
            GGUFWriter.Tensor(name: t.name, dims: t.dims, type: t.type, bytes: bytes(seed: s.seed &* 65536 &+ UInt64(i), t))
        }
    }

    /// Metadata as the script writes it (same keys, order and value kinds), then the tensors.
    static func writer(_ s: Spec) -> GGUFWriter {
        var w = GGUFWriter()
        let a = s.arch
        w.set("general.architecture", .string(a))
        w.set("\(a).block_count", .uint(UInt64(s.layers.count)))
        w.set("\(a).context_length", .uint(UInt64(s.context)))
        w.set("\(a).embedding_length", .uint(UInt64(s.dim)))
        w.set("\(a).feed_forward_length", .uint(UInt64(s.ffn)))
        w.set("\(a).attention.head_count", .uint(UInt64(s.heads)))
        w.set("\(a).attention.head_count_kv", .uint(UInt64(s.kvHeads)))
        w.set("\(a).rope.freq_base", .float(s.ropeBase))
        w.set("\(a).attention.layer_norm_rms_epsilon", .float(s.eps))
        w.tensors = tensors(s)
        return w
    }

    /// A fresh temporary directory; the caller removes it.
    static func temporaryDirectory(_ tag: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hellotune-\(tag)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    static func hex(_ h: UInt64) -> String {
        let s = String(h, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
