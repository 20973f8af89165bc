import Foundation

/// A model file ready to chat: weights, tokenizer, chat template and stop tokens together.
public final class LocalModel: @unchecked Sendable {
    public let path: String
    public let model: LlamaModel
    public let tokenizer: Tokenizer
    public let template: ChatTemplate
    /// Tokens that end a reply: the file's EOS and every end-of-turn marker the vocabulary has.
    public let stopTokens: Set<Int>

    public init(path: String, template override: String? = nil) throws {
        self.path = path
        let gguf = try GGUFFile(path: path)
        model = try LlamaModel(gguf: gguf)
        tokenizer = try Tokenizer(gguf: gguf)
        template = try ChatTemplate(gguf: gguf, override: override)
        var stops = Set<Int>()
        if let eos = tokenizer.eosID { stops.insert(eos) }
        for marker in ["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "<|im_start|>", "<|eom_id|>"] {
            if let id = tokenizer.id(of: marker), tokenizer.isSpecial(id) { stops.insert(id) }
        }
        stopTokens = stops
    }

    /// Token ids of a conversation rendered with the model's template.
    public func encode(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) -> [Int] {
        tokenizer.encode(template.render(messages, addGenerationPrompt: addGenerationPrompt))
    }

    /// The usual single-turn conversation: an optional system message and one user message.
    public static func conversation(system: String?, user: String) -> [ChatMessage] {
        var m: [ChatMessage] = []
        if let system { m.append(ChatMessage(role: "system", content: system)) }
        m.append(ChatMessage(role: "user", content: user))
        return m
    }
}
