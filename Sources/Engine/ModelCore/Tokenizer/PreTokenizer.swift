/// How text is cut into words before BPE, chosen by the GGUF's `tokenizer.ggml.pre`. Each variant matches
/// the Hugging Face pre-tokenizer of the same model exactly; BPE never merges across the cuts.
enum PreTokenizer {
    case gpt2
    /// StarCoder-style: every digit is a word of its own, then the GPT-2 pattern runs over the rest.
    case smollm
    case llamaStyle(LlamaStyleSplit)

    static let supportedNames = ["gpt2", "smollm", "qwen2", "llama-bpe"]

    init(name: String) throws {
        switch name {
        case "gpt2": self = .gpt2
        case "smollm": self = .smollm
        case "qwen2": self = .llamaStyle(LlamaStyleSplit(maxDigits: 1))
        case "llama-bpe": self = .llamaStyle(LlamaStyleSplit(maxDigits: 3))
        default: throw TokenizerError.unknownPreTokenizer(name)
        }
    }

    func split(_ text: ScalarText, _ range: Range<Int>, into pieces: inout [Range<Int>]) {
        switch self {
        case .gpt2:
            GPT2Split.split(text, range, into: &pieces)
        case let .llamaStyle(splitter):
            splitter.split(text, range, into: &pieces)
        case .smollm:
            // The pattern sees each digit-free stretch as a whole text, so its lookahead stops at a digit.
            var runStart = range.lowerBound
            for i in range where text.classes[i] == .number {
                if runStart < i { GPT2Split.split(text, runStart..<i, into: &pieces) }
                pieces.append(i..<(i + 1))
                runStart = i + 1
            }
            if runStart < range.upperBound { GPT2Split.split(text, runStart..<range.upperBound, into: &pieces) }
        }
    }
}
