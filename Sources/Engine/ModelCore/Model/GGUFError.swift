/// Everything that can be wrong with a model file. Each message names the file and says what to do.
public enum GGUFError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case tooSmall(path: String, size: Int)
    case badMagic(path: String, found: String)
    case unsupportedVersion(path: String, version: UInt32)
    case truncated(path: String, what: String, offset: Int)
    case absurdCount(path: String, what: String, count: UInt64)
    case badValueType(path: String, key: String, type: UInt32)
    case unsupportedQuantization(path: String, tensor: String, type: UInt32)
    case badTensorShape(path: String, tensor: String, reason: String)
    case tensorOutOfBounds(path: String, tensor: String, offset: UInt64, size: UInt64, dataSize: UInt64)
    case duplicateTensor(path: String, tensor: String)
    case missingKey(path: String, key: String)
    case missingTensor(path: String, tensor: String)
    case unsupportedArchitecture(path: String, architecture: String)
    case invalidHyperparameter(path: String, key: String, reason: String)
    /// A float tensor holding NaN or infinity: every reply would be NaN.
    case nonFiniteTensor(path: String, tensor: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "cannot open model file \(path): \(reason). Check the path, or run `hellotune model fetch` for the default model."
        case let .tooSmall(path, size):
            return "\(path) is \(size) bytes, too small to be a GGUF model. The file is truncated or not a model; download it again."
        case let .badMagic(path, found):
            return "\(path) is not a GGUF file (magic \(found), expected \"GGUF\"). Pass a .gguf model converted by llama.cpp."
        case let .unsupportedVersion(path, version):
            return "\(path) is GGUF version \(version); hellotune reads versions 2 and 3. Re-convert it with a current llama.cpp."
        case let .truncated(path, what, offset):
            return "\(path) ends early while reading \(what) at byte \(offset). The file is truncated or corrupt; download it again."
        case let .absurdCount(path, what, count):
            return "\(path) claims \(count) \(what), more than the file could hold. The file is corrupt; download or convert it again."
        case let .badValueType(path, key, type):
            return "\(path): metadata key '\(key)' has unknown value type \(type). The file is corrupt or from an unsupported writer; re-convert it with a current llama.cpp."
        case let .unsupportedQuantization(path, tensor, type):
            let name = GGMLType(rawValue: type).map(\.description) ?? "type \(type)"
            return "\(path): tensor '\(tensor)' uses \(name), which hellotune does not support. Supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K-Q6_K; re-quantise with llama-quantize."
        case let .badTensorShape(path, tensor, reason):
            return "\(path): tensor '\(tensor)' has a bad shape: \(reason). The file is corrupt; download or convert it again."
        case let .tensorOutOfBounds(path, tensor, offset, size, dataSize):
            return "\(path): tensor '\(tensor)' (\(size) bytes at offset \(offset)) lies outside the data section of \(dataSize) bytes. The file is truncated or corrupt; download it again."
        case let .duplicateTensor(path, tensor):
            return "\(path): tensor '\(tensor)' appears twice. The file is corrupt; download or convert it again."
        case let .missingKey(path, key):
            return "\(path): metadata key '\(key)' is missing. The model was not converted by a recent llama.cpp."
        case let .missingTensor(path, tensor):
            return "\(path): tensor '\(tensor)' is missing. The model is incomplete or of another architecture."
        case let .unsupportedArchitecture(path, architecture):
            return "\(path): architecture '\(architecture)' is not supported. hellotune runs 'llama' and 'qwen2' models (SmolLM2, Llama 3.x, Qwen2.5)."
        case let .invalidHyperparameter(path, key, reason):
            return "\(path): '\(key)' \(reason). The file is corrupt; download or convert it again."
        case let .nonFiniteTensor(path, tensor):
            return "\(path): tensor '\(tensor)' holds NaN or infinite values; the file is damaged. Fetch or convert the model again."
        }
    }
}
