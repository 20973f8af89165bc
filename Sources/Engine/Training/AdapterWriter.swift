import Foundation
import ModelCore
import Support

/// The writing half of `AdapterIO` (the reading half sits beside the model, which applies adapters at
/// inference): PEFT files and a llama.cpp GGUF LoRA adapter, as training saves them.
extension AdapterIO {
    /// Writes `adapter_model.safetensors`, `adapter_config.json` and `adapter.gguf` into `dir`
    /// (created if needed).
    public static func write(_ lora: LoRAParameters, modelConfig: ModelConfig, baseModelName: String, to dir: URL) throws {
        try writePEFT(lora, modelConfig: modelConfig, baseModelName: baseModelName, to: dir)
        try writeGGUF(lora, modelConfig: modelConfig, to: dir.appendingPathComponent(ggufFile))
    }

    /// Writes `adapter_model.safetensors` (F32, Hugging Face row order) and `adapter_config.json`.
    public static func writePEFT(_ lora: LoRAParameters, modelConfig: ModelConfig, baseModelName: String, to dir: URL) throws {
        try check(lora, modelConfig)
        try prepare(directory: dir)
        let rank = lora.config.rank
        var tensors: [SafetensorsTensor] = []
        tensors.reserveCapacity(lora.slots.count * 2)
        for s in lora.slots {
            let a = Array(lora.values[s.aOffset ..< s.aOffset + rank * s.inFeatures])
            var b = Array(lora.values[s.bOffset ..< s.bOffset + s.outFeatures * rank])
            if let heads = permutedHeads(s.target, modelConfig) {
                b = reorderRows(b, rowLength: rank, heads: heads, headDim: modelConfig.headDim, toHuggingFace: true)
            }
            tensors.append(SafetensorsTensor(name: peftTensorName(layer: s.layer, target: s.target, b: false),
                                             shape: [rank, s.inFeatures], values: a))
            tensors.append(SafetensorsTensor(name: peftTensorName(layer: s.layer, target: s.target, b: true),
                                             shape: [s.outFeatures, rank], values: b))
        }
        let weights = SafetensorsWriter.serialize(tensors, metadata: ["format": "pt", checksumKey: lora.valuesSHA256])
        try atomicWrite(weights, to: dir.appendingPathComponent(peftWeightsFile), dir: dir)
        let json = peftConfigJSON(lora.config, baseModelName: baseModelName)
        try atomicWrite(Data(json.utf8), to: dir.appendingPathComponent(peftConfigFile), dir: dir)
    }

    /// Writes a llama.cpp GGUF LoRA adapter (F32, GGUF row order) to `url`.
    public static func writeGGUF(_ lora: LoRAParameters, modelConfig: ModelConfig, to url: URL) throws {
        try check(lora, modelConfig)
        let dir = url.deletingLastPathComponent()
        try prepare(directory: dir)
        let rank = lora.config.rank
        var w = GGUFWriter()
        w.set("general.architecture", .string(modelConfig.architecture))
        w.set("general.type", .string("adapter"))
        w.set("adapter.type", .string("lora"))
        w.set("adapter.lora.alpha", .float(Double(lora.config.alpha)))  // GGUFWriter writes .float as float32
        w.set(checksumKey, .string(lora.valuesSHA256))
        for s in lora.slots {
            let a = Array(lora.values[s.aOffset ..< s.aOffset + rank * s.inFeatures])
            let b = Array(lora.values[s.bOffset ..< s.bOffset + s.outFeatures * rank])
            w.tensors.append(.init(name: ggufTensorName(layer: s.layer, target: s.target, b: false), dims: [s.inFeatures, rank], floats: a))
            w.tensors.append(.init(name: ggufTensorName(layer: s.layer, target: s.target, b: true), dims: [rank, s.outFeatures], floats: b))
        }
        try atomicWrite(Data(w.serialize()), to: url, dir: dir)
    }

    private static func check(_ lora: LoRAParameters, _ c: ModelConfig) throws {
        for s in lora.slots {
            guard s.layer < c.layerCount else {
                throw AdapterError.mismatchedModel(reason: "they have layer \(s.layer), the model \(c.layerCount) layers")
            }
            let (outF, inF) = LoRAParameters.shape(s.target, c)
            guard outF == s.outFeatures, inF == s.inFeatures else {
                throw AdapterError.mismatchedModel(reason: "\(s.target.huggingFaceName) is (\(s.outFeatures), \(s.inFeatures)) in the parameters, (\(outF), \(inF)) in the model")
            }
        }
    }

    /// Creates `dir` if needed and checks that it is a writable folder.
    private static func prepare(directory dir: URL) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: dir.path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw AdapterError.notWritable(directory: dir.path, reason: "it is a file, not a folder") }
        } else {
            do {
                try fm.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw AdapterError.notWritable(directory: dir.path, reason: "the folder cannot be created")
            }
        }
        guard access(dir.path, W_OK | X_OK) == 0 else {
            throw AdapterError.notWritable(directory: dir.path, reason: "the folder is not writable")
        }
    }

    private static func atomicWrite(_ data: Data, to url: URL, dir: URL) throws {
        do {
            try AtomicFile.write(data, to: url)
        } catch let error as FileError {
            throw AdapterError.notWritable(directory: dir.path, reason: "\(error)")
        } catch {
            throw AdapterError.notWritable(directory: dir.path, reason: error.localizedDescription)
        }
    }

    /// adapter_config.json as PEFT writes it (keys sorted, two-space indent).
    static func peftConfigJSON(_ c: LoRAConfig, baseModelName: String) -> String {
        func number(_ x: Float) -> String {
            if x == x.rounded(), abs(x) < 1e9 { return String(Int(x)) }
            return String(describing: x)
        }
        func decimal(_ x: Float) -> String {  // Python writes floats with a decimal point: 0.0, 0.05
            let s = String(describing: x)
            return s.contains(".") || s.contains("e") ? s : s + ".0"
        }
        let q = quotedString
        let targets = LoRATarget.allCases.filter(c.targets.contains).map { "    " + q($0.huggingFaceName) }
        let fields: [(String, String)] = [
            ("alpha_pattern", "{}"),
            ("auto_mapping", "null"),
            ("base_model_name_or_path", q(baseModelName)),
            ("bias", q("none")),
            ("fan_in_fan_out", "false"),
            ("inference_mode", "true"),
            ("init_lora_weights", "true"),
            ("layers_pattern", "null"),
            ("layers_to_transform", "null"),
            ("lora_alpha", number(c.alpha)),
            ("lora_dropout", decimal(c.dropout)),
            ("modules_to_save", "null"),
            ("peft_type", q("LORA")),
            ("r", String(c.rank)),
            ("rank_pattern", "{}"),
            ("revision", "null"),
            ("target_modules", targets.isEmpty ? "[]" : "[\n" + targets.joined(separator: ",\n") + "\n  ]"),
            ("task_type", q("CAUSAL_LM")),
            ("use_dora", "false"),
            ("use_rslora", "false"),
        ]
        return "{\n" + fields.map { "  \(q($0.0)): \($0.1)" }.joined(separator: ",\n") + "\n}\n"
    }
}
