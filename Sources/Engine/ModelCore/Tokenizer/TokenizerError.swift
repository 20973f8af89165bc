/// Why a model's tokenizer cannot be built. Each message names the offending metadata and says what to do.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// `tokenizer.ggml.model` is not "gpt2" (byte-level BPE).
    case unsupportedModel(String)
    /// `tokenizer.ggml.pre` names a pre-tokenizer hellotune does not implement.
    case unknownPreTokenizer(String)
    /// A tokenizer array or id is inconsistent; `index` is the offending element, when there is one.
    case malformed(key: String, index: Int?, reason: String)

    public var description: String {
        switch self {
        case let .unsupportedModel(model):
            return "tokenizer model '\(model)' (tokenizer.ggml.model) is not supported: hellotune only runs byte-level BPE "
                + "tokenizers ('gpt2'), as used by SmolLM2, Llama 3 and Qwen2. Use a model with such a tokenizer."
        case let .unknownPreTokenizer(name):
            return "pre-tokenizer '\(name)' (tokenizer.ggml.pre) is not supported; supported: "
                + PreTokenizer.supportedNames.joined(separator: ", ")
                + ". Use a model whose GGUF names one of these."
        case let .malformed(key, index, reason):
            let at = index.map { "\(key)[\($0)]" } ?? key
            return "tokenizer metadata '\(at)' \(reason). The model file is corrupt or badly converted; "
                + "download it again or re-convert it with a current llama.cpp."
        }
    }
}
