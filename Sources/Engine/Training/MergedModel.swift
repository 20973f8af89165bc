import Foundation
import ModelCore
import Support

/// Why a merged model could not be written; each message names the file and says what to do.
public enum MergeError: Error, CustomStringConvertible, Equatable {
    case outputExists(path: String)
    case outputIsBase(path: String)
    case missingProjection(path: String, tensor: String)
    case shapeMismatch(path: String, tensor: String, model: [Int], adapter: [Int])
    case valueOutOfRange(tensor: String, type: String)

    public var description: String {
        switch self {
        case let .outputExists(path):
            return "\(path) already exists. Choose another --out, or pass --force to replace it."
        case let .outputIsBase(path):
            return "--out \(path) is the base model itself. Write the merged model to a new file."
        case let .missingProjection(path, tensor):
            return "\(path) has no tensor '\(tensor)', which the adapter adapts. Export with the model the adapter was trained on (--model)."
        case let .shapeMismatch(path, tensor, model, adapter):
            return "\(path): '\(tensor)' is \(model) but the adapter expects \(adapter). Export with the model the adapter was trained on (--model)."
        case let .valueOutOfRange(tensor, type):
            return "merged '\(tensor)' holds a value \(type) cannot store (too large, or not a number). The adapter's weights are unusable; retrain it or export with another --type."
        }
    }
}

/// A base model with a LoRA adapter merged into its weights, W' = W + (alpha / r) B A, written as a GGUF that
/// llama.cpp, Ollama and this engine load without the adapter.
///
/// - Every adapted projection is dequantised to float, merged, and stored as the chosen type. Q8_0 needs rows
///   of whole 32-blocks; a row that is not (no llama-family model we know of) is stored as F16 instead, as
///   llama-quantize does.
/// - Every other tensor (embeddings, norms, an untied output) is copied byte for byte in its own type:
///   the adapter does not touch it, and converting it could only lose precision.
/// - All metadata (architecture, tokenizer, chat template) is copied with its exact GGUF types;
///   `general.file_type` is set to the type most of the matrices now have, as llama.cpp guesses it.
public enum MergedModel {
    public enum OutputType: String, CaseIterable, Sendable {
        case f16, q8_0

        public var ggml: GGMLType { self == .f16 ? .f16 : .q8_0 }
    }

    public struct Summary: Sendable, Equatable {
        /// Projections that received the adapter.
        public var merged: Int
        /// Tensors copied unchanged.
        public var copied: Int
        /// Merged tensors stored as F16 because Q8_0 could not hold their rows.
        public var storedAsF16: [String]
        /// The `general.file_type` written (llama.cpp's llama_ftype).
        public var fileType: UInt32
    }

    /// The key that records which adapter was merged (its values' SHA-256); llama.cpp ignores it.
    public static let adapterChecksumKey = "hellotune.merged_adapter_sha256"

    /// Writes `base` with `adapter` merged to `url` (temporary file, then rename).
    public static func write(base: GGUFFile, adapter: LoRAParameters, type: OutputType, to url: URL,
                             overwrite: Bool = false) throws -> Summary {
        let out = url.standardizedFileURL
        if URL(fileURLWithPath: base.path).standardizedFileURL.resolvingSymlinksInPath().path == out.resolvingSymlinksInPath().path {
            throw MergeError.outputIsBase(path: out.path)
        }
        if !overwrite, FileManager.default.fileExists(atPath: out.path) { throw MergeError.outputExists(path: out.path) }

        var slots: [String: LoRAParameters.Slot] = [:]
        for s in adapter.slots {
            let name = "blk.\(s.layer).\(s.target.ggufName).weight"
            guard let t = base.tensors[name] else { throw MergeError.missingProjection(path: base.path, tensor: name) }
            guard t.dims == [s.inFeatures, s.outFeatures] else {
                throw MergeError.shapeMismatch(path: base.path, tensor: name, model: t.dims, adapter: [s.inFeatures, s.outFeatures])
            }
            slots[name] = s
        }

        var writer = GGUFWriter()
        for (key, value) in try base.rawMetadata() where key != "general.alignment" {
            writer.setRaw(key, value)
        }
        writer.set(adapterChecksumKey, .string(adapter.valuesSHA256))

        var pending: [GGUFWriter.PendingTensor] = []
        var summary = Summary(merged: 0, copied: 0, storedAsF16: [], fileType: 0)
        for name in base.tensorNames {
            let t = base.tensors[name]!
            if let slot = slots[name] {
                let stored: GGMLType = type.ggml.rowBytes(t.rowLength) != nil ? type.ggml : .f16
                if stored != type.ggml { summary.storedAsF16.append(name) }
                // F16 tops out at 65504; Q8_0 stores max|x| / 127 as a half. A value past that would load as inf.
                let largest: Float = stored == .f16 ? 65504 : 65504 * 127
                pending.append(.init(name: name, dims: t.dims, type: stored) {
                    let w = mergedWeight(t, slot: slot, adapter: adapter)
                    guard w.allSatisfy({ $0.isFinite && abs($0) <= largest }) else {
                        throw MergeError.valueOutOfRange(tensor: name, type: stored.description)
                    }
                    return Quantize.bytes(w, as: stored)
                })
                summary.merged += 1
            } else {
                pending.append(.init(name: name, dims: t.dims, type: t.type) { Array(t.data) })
                summary.copied += 1
            }
        }
        summary.fileType = fileType(of: pending.filter { $0.dims.count >= 2 }.map(\.type))
        writer.setRaw("general.file_type", .uint32(summary.fileType))
        try writer.write(to: out, pending: pending)
        return summary
    }

    /// W + scale B A for one projection, as floats (out, in) row-major in the file's row order; the adapter keeps
    /// B in that order too (`AdapterIO` reorders PEFT's q/k rows when it reads them).
    public static func mergedWeight(_ t: GGUFTensor, slot s: LoRAParameters.Slot, adapter: LoRAParameters) -> [Float] {
        var w = Dequantize.tensor(t)                                         // (out, in)
        let r = adapter.config.rank
        adapter.values.withUnsafeBufferPointer { lv in
            let p = lv.baseAddress!
            w.withUnsafeMutableBufferPointer { wp in
                // (out, rank) x (rank, in), accumulated onto W
                gemm(false, false, m: s.outFeatures, n: s.inFeatures, k: r, alpha: adapter.config.scale,
                     p + s.bOffset, p + s.aOffset, beta: 1, wp.baseAddress!)
            }
        }
        return w
    }

    /// llama.cpp's llama_ftype for a file whose matrices are mostly `types`' most common type (ties: the first seen).
    static func fileType(of types: [GGMLType]) -> UInt32 {
        var counts: [GGMLType: Int] = [:]
        for t in types { counts[t, default: 0] += 1 }
        guard let top = types.first(where: { counts[$0] == counts.values.max() }) else { return 0 }
        switch top {
        case .f32: return 0
        case .f16: return 1
        case .q4_0: return 2
        case .q4_1: return 3
        case .q8_0: return 7
        case .q5_0: return 8
        case .q5_1: return 9
        case .q2_K: return 10
        case .q3_K: return 12   // Q3_K_M, as llama.cpp names a file of mostly Q3_K
        case .q4_K: return 15   // Q4_K_M
        case .q5_K: return 17   // Q5_K_M
        case .q6_K: return 18
        case .bf16: return 32
        case .q8_1, .q8_K: return 0  // never weights; GGUFFile refuses them
        }
    }
}
