import Foundation

/// A model file ready to chat: weights, tokenizer, chat template and stop tokens together.
public final class LocalModel: @unchecked Sendable {
    public let path: String
    public let model: LlamaModel
    public let tokenizer: Tokenizer
    public let template: ChatTemplate
    /// Tokens that end a reply: the file's EOS and every end-of-turn marker the vocabulary has.
    public let stopTokens: Set<Int>

    /// - adapter: a folder written by `hellotune train` (PEFT files or adapter.gguf), applied at run time.
    public init(path: String, template override: String? = nil, adapter: URL? = nil, contextLength: Int? = nil) throws {
        self.path = path
        let gguf = try GGUFFile(path: path)
        let base = try LlamaModel(gguf: gguf, contextLength: contextLength)
        model = try adapter.map { base.with(adapter: try AdapterIO.read(from: $0, modelConfig: base.config)) } ?? base
        tokenizer = try Tokenizer(gguf: gguf)
        template = try ChatTemplate(gguf: gguf, override: override)
        var stops = Set<Int>()
        if let eos = tokenizer.eosID { stops.insert(eos) }
        for marker in ["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "<|im_start|>", "<|eom_id|>"] {
            if let id = tokenizer.id(of: marker), tokenizer.isSpecial(id) { stops.insert(id) }
        }
        stopTokens = stops
    }

    private init(path: String, model: LlamaModel, tokenizer: Tokenizer, template: ChatTemplate, stopTokens: Set<Int>) {
        self.path = path
        self.model = model
        self.tokenizer = tokenizer
        self.template = template
        self.stopTokens = stopTokens
    }

    /// The same model with another adapter (or none), sharing the mapped weights and the tokenizer.
    public func with(adapter: LoRAParameters?) -> LocalModel {
        LocalModel(path: path, model: model.with(adapter: adapter), tokenizer: tokenizer, template: template, stopTokens: stopTokens)
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
