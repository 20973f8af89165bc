import Foundation

/// Everything that can go wrong saving or loading a LoRA adapter. Each message names the file or
/// folder and says what to do.
public enum AdapterError: Error, CustomStringConvertible, Equatable {
    case notWritable(directory: String, reason: String)
    case noAdapter(directory: String)
    case missingFile(path: String)
    case badConfig(path: String, reason: String)
    case unsupportedConfig(path: String, reason: String)
    case missingTensor(path: String, tensor: String, expectedShape: [Int])
    case wrongShape(path: String, tensor: String, expected: [Int], found: [Int])
    case unexpectedTensor(path: String, tensor: String, reason: String)
    case unsupportedType(path: String, tensor: String, type: String)
    case notAnAdapter(path: String, reason: String)
    case architectureMismatch(path: String, adapter: String, model: String)
    case mismatchedModel(reason: String)
    /// The values do not hash to the checksum written with them: a byte changed after saving.
    case checksumMismatch(path: String)
    /// A NaN or infinite value: applying the adapter would turn every reply into NaN.
    case nonFiniteValue(path: String, tensor: String)
    /// An alpha whose scale (alpha / rank) overflows or is meaningless.
    case alphaOutOfRange(path: String, alpha: Double)

    public var description: String {
        switch self {
        case let .notWritable(directory, reason):
            return "cannot write the adapter to \(directory): \(reason). Choose a folder you can write to (or create it), then save again."
        case let .noAdapter(directory):
            return "\(directory) holds no LoRA adapter: expected \(AdapterIO.peftConfigFile) + \(AdapterIO.peftWeightsFile) (PEFT) or \(AdapterIO.ggufFile). "
                + "Pass the folder an adapter was saved to; PyTorch .bin adapters must be re-saved with save_pretrained(..., safe_serialization=True)."
        case let .missingFile(path):
            return "\(path) is missing. A PEFT adapter needs both \(AdapterIO.peftConfigFile) and \(AdapterIO.peftWeightsFile); save it again with save_pretrained."
        case let .badConfig(path, reason):
            return "\(path) is not a valid PEFT adapter config: \(reason). Fix the file or save the adapter again."
        case let .unsupportedConfig(path, reason):
            return "\(path): \(reason). hellotune loads plain LoRA adapters (no DoRA, per-layer ranks, layer subsets or extra modules); retrain or re-save without that option."
        case let .missingTensor(path, tensor, expectedShape):
            return "\(path): tensor '\(tensor)' (shape \(expectedShape)) is missing. The adapter is incomplete or was trained for another model."
        case let .wrongShape(path, tensor, expected, found):
            return "\(path): tensor '\(tensor)' has shape \(found), expected \(expected). The adapter was trained for another model or with another rank; load it with the model it was trained on."
        case let .unexpectedTensor(path, tensor, reason):
            return "\(path): unexpected tensor '\(tensor)': \(reason). The adapter was trained for another model or adapts modules hellotune does not support."
        case let .unsupportedType(path, tensor, type):
            return "\(path): tensor '\(tensor)' is \(type); adapters must be F32, F16 or BF16. Convert it again with --outtype f32 or f16."
        case let .notAnAdapter(path, reason):
            return "\(path) is not a LoRA adapter: \(reason). Pass an adapter made by hellotune or llama.cpp's convert_lora_to_gguf.py."
        case let .architectureMismatch(path, adapter, model):
            return "\(path) is an adapter for '\(adapter)' models but the model is '\(model)'. Load it with the model it was trained on."
        case let .mismatchedModel(reason):
            return "the LoRA parameters do not match the model: \(reason). Save with the model the adapter was created for."
        case let .checksumMismatch(path):
            return "\(path) is damaged: its values do not match the SHA-256 saved with them. Train again, or restore the file from a copy."
        case let .nonFiniteValue(path, tensor):
            return "\(path): tensor '\(tensor)' holds NaN or infinite values; the training that made it diverged. Train again (a lower --lr)."
        case let .alphaOutOfRange(path, alpha):
            return "\(path): lora_alpha \(alpha) is outside -\(Int(AdapterIO.maxAlpha))...\(Int(AdapterIO.maxAlpha)); "
                + "the scale alpha / r would overflow. Fix lora_alpha in the adapter's config."
        }
    }
}

/// Saving and loading LoRA adapters in two formats:
/// - PEFT (`adapter_config.json` + `adapter_model.safetensors`), Hugging Face's format, in
///   Hugging Face's q/k row order;
/// - a GGUF LoRA adapter (`adapter.gguf`) as llama.cpp's convert_lora_to_gguf.py writes it and
///   `llama-cli --lora` loads it, in GGUF row order.
public enum AdapterIO {
    public static let peftConfigFile = "adapter_config.json"
    public static let peftWeightsFile = "adapter_model.safetensors"
    public static let ggufFile = "adapter.gguf"

    // MARK: names

    /// PEFT's name for a LoRA matrix: `base_model.model.model.layers.L.self_attn.q_proj.lora_A.weight`.
    public static func peftTensorName(layer: Int, target: LoRATarget, b: Bool) -> String {
        "base_model.model.model.layers.\(layer).\(target.huggingFaceBlock).\(target.huggingFaceName).lora_\(b ? "B" : "A").weight"
    }

    /// llama.cpp's name for a LoRA matrix: `blk.L.attn_q.weight.lora_a`.
    public static func ggufTensorName(layer: Int, target: LoRATarget, b: Bool) -> String {
        "blk.\(layer).\(target.ggufName).weight.lora_\(b ? "b" : "a")"
    }

    /// Reads the adapter in `dir`: the PEFT files when both are there, else `adapter.gguf`.
    public static func read(from dir: URL, modelConfig: ModelConfig) throws -> LoRAParameters {
        let fm = FileManager.default
        let config = dir.appendingPathComponent(peftConfigFile).path
        let weights = dir.appendingPathComponent(peftWeightsFile).path
        let gguf = dir.appendingPathComponent(ggufFile)
        let hasConfig = fm.fileExists(atPath: config), hasWeights = fm.fileExists(atPath: weights)
        if hasConfig && hasWeights { return try readPEFT(from: dir, modelConfig: modelConfig) }
        if fm.fileExists(atPath: gguf.path) { return try readGGUF(from: gguf, modelConfig: modelConfig) }
        if hasConfig || hasWeights { return try readPEFT(from: dir, modelConfig: modelConfig) }  // names the missing one
        throw AdapterError.noAdapter(directory: dir.path)
    }

    // MARK: PEFT

    /// Reads a PEFT LoRA adapter for a llama/qwen2 model from `dir`.
    public static func readPEFT(from dir: URL, modelConfig: ModelConfig) throws -> LoRAParameters {
        let configURL = dir.appendingPathComponent(peftConfigFile)
        let weightsURL = dir.appendingPathComponent(peftWeightsFile)
        let fm = FileManager.default
        guard fm.fileExists(atPath: configURL.path) else { throw AdapterError.missingFile(path: configURL.path) }
        guard fm.fileExists(atPath: weightsURL.path) else { throw AdapterError.missingFile(path: weightsURL.path) }
        let file = try SafetensorsFile(path: weightsURL.path)
        let config = try parsePEFTConfig(configURL, weights: file)
        let path = file.path

        // Every expected tensor, with its shape, before allocating anything.
        var expected: [String: [Int]] = [:]
        for l in 0..<modelConfig.layerCount {
            for t in LoRATarget.allCases where config.targets.contains(t) {
                let (outF, inF) = LoRAParameters.shape(t, modelConfig)
                for (b, shape) in [(false, [config.rank, inF]), (true, [outF, config.rank])] {
                    let name = peftTensorName(layer: l, target: t, b: b)
                    expected[name] = shape
                    guard let info = file.tensors[name] else {
                        throw AdapterError.missingTensor(path: path, tensor: name, expectedShape: shape)
                    }
                    guard info.shape == shape else {
                        throw AdapterError.wrongShape(path: path, tensor: name, expected: shape, found: info.shape)
                    }
                    guard [.f32, .f16, .bf16].contains(info.dtype) else {
                        throw AdapterError.unsupportedType(path: path, tensor: name, type: info.dtype.rawValue)
                    }
                }
            }
        }
        for name in file.tensorNames where expected[name] == nil {
            throw AdapterError.unexpectedTensor(path: path, tensor: name, reason: unexpectedPEFTReason(name, modelConfig, config))
        }

        let lora = LoRAParameters(config: config, modelConfig: modelConfig)
        let rank = config.rank
        for s in lora.slots {
            let a = try file.floats(peftTensorName(layer: s.layer, target: s.target, b: false))
            var b = try file.floats(peftTensorName(layer: s.layer, target: s.target, b: true))
            if let heads = permutedHeads(s.target, modelConfig) {
                b = reorderRows(b, rowLength: rank, heads: heads, headDim: modelConfig.headDim, toHuggingFace: false)
            }
            lora.values.replaceSubrange(s.aOffset ..< s.aOffset + a.count, with: a)
            lora.values.replaceSubrange(s.bOffset ..< s.bOffset + b.count, with: b)
        }
        try verify(lora, checksum: file.metadata[checksumKey], path: path, tensorName: { peftTensorName(layer: $0, target: $1, b: $2) })
        return lora
    }

    // MARK: GGUF

    /// Reads a GGUF LoRA adapter (ours or llama.cpp's). The rank comes from the tensors' shapes,
    /// the targets from which tensors exist; dropout is not stored and reads as 0.
    public static func readGGUF(from url: URL, modelConfig: ModelConfig) throws -> LoRAParameters {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw AdapterError.missingFile(path: path) }
        let gguf = try GGUFFile(path: path)
        guard let type = gguf.metadata["general.type"]?.string else {
            throw AdapterError.notAnAdapter(path: path, reason: "it has no general.type (it looks like a model)")
        }
        guard type == "adapter" else {
            throw AdapterError.notAnAdapter(path: path, reason: "general.type is '\(type)', not 'adapter'")
        }
        let adapterType = gguf.metadata["adapter.type"]?.string ?? "(none)"
        guard adapterType == "lora" else {
            throw AdapterError.notAnAdapter(path: path, reason: "adapter.type is '\(adapterType)', not 'lora'")
        }
        let arch = gguf.metadata["general.architecture"]?.string ?? "(none)"
        guard arch == modelConfig.architecture else {
            throw AdapterError.architectureMismatch(path: path, adapter: arch, model: modelConfig.architecture)
        }

        // Which (layer, target) pairs the file holds.
        var present = Set<LoRATarget>()
        for name in gguf.tensorNames {
            guard let (layer, target, _) = parseGGUFName(name) else {
                throw AdapterError.unexpectedTensor(path: path, tensor: name, reason: "not a blk.N.<projection>.weight.lora_a/lora_b tensor")
            }
            guard layer < modelConfig.layerCount else {
                throw AdapterError.unexpectedTensor(path: path, tensor: name, reason: "layer \(layer), but the model has \(modelConfig.layerCount) layers")
            }
            present.insert(target)
        }
        let targets = LoRATarget.allCases.filter(present.contains)
        // The rank: lora_a is [in, rank], lora_b is [rank, out] (ggml order).
        guard let probeName = gguf.tensorNames.first, let probe = gguf.tensors[probeName],
              let (_, _, isB) = parseGGUFName(probeName) else {
            throw AdapterError.notAnAdapter(path: path, reason: "it holds no LoRA tensors")
        }
        let rank = isB ? probe.dims[0] : (probe.dims.count > 1 ? probe.dims[1] : 1)
        let alphaValue = gguf.metadata["adapter.lora.alpha"]?.double ?? 0
        guard alphaValue.isFinite, alphaValue.magnitude <= maxAlpha else { throw AdapterError.alphaOutOfRange(path: path, alpha: alphaValue) }
        // llama.cpp applies scale 1 when alpha is missing or 0, i.e. alpha = rank.
        let alpha = alphaValue == 0 ? Float(rank) : Float(alphaValue)

        var tensors: [String: GGUFTensor] = [:]
        for l in 0..<modelConfig.layerCount {
            for t in targets {
                let (outF, inF) = LoRAParameters.shape(t, modelConfig)
                for (b, dims) in [(false, [inF, rank]), (true, [rank, outF])] {
                    let name = ggufTensorName(layer: l, target: t, b: b)
                    guard let tensor = gguf.tensors[name] else {
                        throw AdapterError.missingTensor(path: path, tensor: name, expectedShape: dims)
                    }
                    var found = tensor.dims
                    while found.count > 2, found.last == 1 { found.removeLast() }
                    if found.count == 1 { found.append(1) }
                    guard found == dims else {
                        throw AdapterError.wrongShape(path: path, tensor: name, expected: dims, found: tensor.dims)
                    }
                    guard [.f32, .f16, .bf16].contains(tensor.type) else {
                        throw AdapterError.unsupportedType(path: path, tensor: name, type: tensor.type.description)
                    }
                    tensors[name] = tensor
                }
            }
        }

        let lora = LoRAParameters(config: LoRAConfig(rank: rank, alpha: alpha, dropout: 0, targets: targets), modelConfig: modelConfig)
        for s in lora.slots {
            let a = Dequantize.tensor(tensors[ggufTensorName(layer: s.layer, target: s.target, b: false)]!)
            let b = Dequantize.tensor(tensors[ggufTensorName(layer: s.layer, target: s.target, b: true)]!)
            lora.values.replaceSubrange(s.aOffset ..< s.aOffset + a.count, with: a)
            lora.values.replaceSubrange(s.bOffset ..< s.bOffset + b.count, with: b)
        }
        try verify(lora, checksum: gguf.metadata[checksumKey]?.string, path: path,
                   tensorName: { ggufTensorName(layer: $0, target: $1, b: $2) })
        return lora
    }

    // MARK: RoPE row order

    /// For llama (adjacent-pair RoPE), llama.cpp's converter permuted the rows of q_proj and
    /// k_proj within each head; returns the head count to undo it with, or nil when rows match.
    package static func permutedHeads(_ t: LoRATarget, _ c: ModelConfig) -> Int? {
        guard c.ropeStyle == .adjacent else { return nil }
        switch t {
        case .q: return c.headCount
        case .k: return c.kvHeadCount
        default: return nil
        }
    }

    /// Within each head of `headDim` rows, GGUF row h*hd + 2i + e is Hugging Face row
    /// h*hd + e*(hd/2) + i (i < hd/2, e in {0, 1}). Moves whole rows of `rowLength` values.
    package static func reorderRows(_ m: [Float], rowLength: Int, heads: Int, headDim hd: Int, toHuggingFace: Bool) -> [Float] {
        precondition(m.count == heads * hd * rowLength && hd % 2 == 0)
        var out = [Float](repeating: 0, count: m.count)
        let half = hd / 2
        for h in 0..<heads {
            for i in 0..<half {
                for e in 0..<2 {
                    let g = h * hd + 2 * i + e
                    let f = h * hd + e * half + i
                    let (src, dst) = toHuggingFace ? (g, f) : (f, g)
                    for j in 0..<rowLength { out[dst * rowLength + j] = m[src * rowLength + j] }
                }
            }
        }
        return out
    }

    private static func parseGGUFName(_ name: String) -> (Int, LoRATarget, Bool)? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "blk", let layer = Int(parts[1]), layer >= 0, parts[3] == "weight",
              let target = LoRATarget.allCases.first(where: { $0.ggufName == parts[2] }) else { return nil }
        switch parts[4] {
        case "lora_a": return (layer, target, false)
        case "lora_b": return (layer, target, true)
        default: return nil
        }
    }

    private static func unexpectedPEFTReason(_ name: String, _ c: ModelConfig, _ config: LoRAConfig) -> String {
        let prefix = "base_model.model.model.layers."
        if name.hasPrefix(prefix), let layer = Int(name.dropFirst(prefix.count).prefix(while: \.isNumber)), layer >= c.layerCount {
            return "layer \(layer), but the model has \(c.layerCount) layers"
        }
        if let t = LoRATarget.allCases.first(where: { name.contains(".\($0.huggingFaceName).") }), !config.targets.contains(t) {
            return "\(t.huggingFaceName) is not in target_modules"
        }
        return "not a LoRA matrix of a llama projection (q/k/v/o/gate/up/down_proj)"
    }

    // MARK: adapter_config.json

    static func parsePEFTConfig(_ url: URL, weights: SafetensorsFile) throws -> LoRAConfig {
        let path = url.path
        func bad(_ reason: String) -> AdapterError { .badConfig(path: path, reason: reason) }
        func unsupported(_ reason: String) -> AdapterError { .unsupportedConfig(path: path, reason: reason) }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw AdapterError.missingFile(path: path) }
        let root: SafetensorsJSONValue
        do { root = try JSONDecoder().decode(SafetensorsJSONValue.self, from: data) } catch {
            throw bad("it is not valid JSON")
        }
        guard case let .object(o) = root else { throw bad("it is not a JSON object") }
        func isSet(_ key: String) -> Bool {
            switch o[key] {
            case nil, .null?: return false
            case let .array(a)?: return !a.isEmpty
            case let .object(d)?: return !d.isEmpty
            case let .bool(b)?: return b
            default: return true
            }
        }

        if let t = o["peft_type"], t != .string("LORA") { throw unsupported("peft_type is \(t), not \"LORA\"") }
        guard case let .int(r)? = o["r"] else { throw bad(o["r"] == nil ? "it has no \"r\" (the rank)" : "\"r\" is \(o["r"]!), not an integer") }
        guard r > 0, r < 1 << 20 else { throw bad("\"r\" is \(r), not a positive rank") }
        guard let alphaValue = o["lora_alpha"] else { throw bad("it has no \"lora_alpha\"") }
        guard var alpha = alphaValue.double, alpha.isFinite else { throw bad("\"lora_alpha\" is \(alphaValue), not a number") }
        guard alpha.magnitude <= AdapterIO.maxAlpha else { throw AdapterError.alphaOutOfRange(path: path, alpha: alpha) }
        var dropout = 0.0
        if let d = o["lora_dropout"], d != .null {
            guard let v = d.double, v >= 0, v < 1 else { throw bad("\"lora_dropout\" is \(d), not a number in [0, 1)") }
            dropout = v
        }
        if isSet("use_dora") { throw unsupported("use_dora is true (DoRA)") }
        if isSet("fan_in_fan_out") { throw unsupported("fan_in_fan_out is true (GPT-2 style Conv1D weights)") }
        if let b = o["bias"], b != .string("none"), b != .null { throw unsupported("bias is \(b), not \"none\"") }
        if isSet("layers_to_transform") { throw unsupported("layers_to_transform limits LoRA to some layers") }
        if isSet("rank_pattern") || isSet("alpha_pattern") { throw unsupported("rank_pattern/alpha_pattern give layers their own rank or alpha") }
        if isSet("modules_to_save") { throw unsupported("modules_to_save stores fully trained extra modules") }
        if isSet("use_rslora") {
            // rsLoRA scales by alpha / sqrt(r); hellotune by alpha / r.
            alpha *= Double(r).squareRoot()
        }

        var targets: [LoRATarget]
        switch o["target_modules"] {
        case let .array(items)?:
            var set = Set<LoRATarget>()
            for item in items {
                guard case let .string(name) = item else { throw bad("target_modules holds \(item), not a module name") }
                let leaf = String(name.split(separator: ".").last ?? "")
                guard let t = LoRATarget.allCases.first(where: { $0.huggingFaceName == leaf }) else {
                    throw unsupported("target module '\(name)' is not supported (hellotune adapts q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)")
                }
                set.insert(t)
            }
            targets = LoRATarget.allCases.filter(set.contains)
        case .string?:
            // "all-linear" or a regular expression: take the projections the weights hold.
            targets = LoRATarget.allCases.filter { t in weights.tensorNames.contains { $0.contains(".\(t.huggingFaceName).lora_") } }
        case nil, .null?:
            throw bad("it has no \"target_modules\"")
        case let other?:
            throw bad("\"target_modules\" is \(other), not a list of module names")
        }
        guard !targets.isEmpty else { throw bad("target_modules names no module") }
        return LoRAConfig(rank: Int(r), alpha: Float(alpha), dropout: Float(dropout), targets: targets)
    }
}
