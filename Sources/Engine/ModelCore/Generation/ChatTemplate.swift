import Foundation

public struct ChatMessage: Codable, Sendable, Equatable {
    public var role: String
    public var content: String
    /// OpenAI fine-tuning: 0 excludes an assistant message from the loss.
    public var weight: Int?

    public init(role: String, content: String, weight: Int? = nil) {
        self.role = role
        self.content = content
        self.weight = weight
    }
}

public enum ChatTemplateError: Error, CustomStringConvertible, Equatable {
    case unknownTemplate(path: String, excerpt: String)
    case unknownOverride(String)

    public var description: String {
        switch self {
        case let .unknownTemplate(path, excerpt):
            return "\(path): the chat template is not one hellotune knows (it starts \"\(excerpt)\"). Pass --template chatml or --template llama3 to choose one."
        case let .unknownOverride(name):
            return "unknown chat template '\(name)'. Use one of: \(ChatTemplate.Kind.allCases.map(\.rawValue).joined(separator: ", "))."
        }
    }
}

/// The prompt format a chat model was trained with, recognised from `tokenizer.chat_template`.
/// Rendering is exact text (special tokens written out), so that training and inference tokenize
/// the same conversation to the same ids.
public struct ChatTemplate: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case chatml  // SmolLM2, Qwen2.5
        case llama3
    }

    public let kind: Kind
    /// Used when the conversation has no system message, as the model's own template does.
    public let defaultSystemPrompt: String?
    /// Llama 3.2 writes a knowledge-cutoff preamble into every system turn.
    public let llamaDatePreamble: Bool

    public init(kind: Kind, defaultSystemPrompt: String? = nil, llamaDatePreamble: Bool = false) {
        self.kind = kind
        self.defaultSystemPrompt = defaultSystemPrompt
        self.llamaDatePreamble = llamaDatePreamble
    }

    /// Recognises the template of a GGUF file; `override` ("chatml", "llama3") wins when given.
    public init(gguf: GGUFFile, override: String? = nil) throws {
        let source = gguf.metadata["tokenizer.chat_template"]?.string
        if let override {
            guard let kind = Kind(rawValue: override.lowercased()) else { throw ChatTemplateError.unknownOverride(override) }
            self.init(kind: kind, source: source)
            return
        }
        guard let source, let kind = Self.recognise(source) else {
            let excerpt = String((source ?? "(none)").prefix(60)).replacingOccurrences(of: "\n", with: "\\n")
            throw ChatTemplateError.unknownTemplate(path: gguf.path, excerpt: excerpt)
        }
        self.init(kind: kind, source: source)
    }

    init(kind: Kind, source: String?) {
        switch kind {
        case .chatml:
            self.init(kind: kind, defaultSystemPrompt: source.flatMap(Self.chatMLDefaultSystem))
        case .llama3:
            self.init(kind: kind, llamaDatePreamble: source?.contains("Cutting Knowledge Date") ?? false)
        }
    }

    static func recognise(_ source: String) -> Kind? {
        if source.contains("<|im_start|>") { return .chatml }
        if source.contains("<|start_header_id|>") { return .llama3 }
        return nil
    }

    /// The literal system text a ChatML template inserts when the first message is not a system one,
    /// e.g. SmolLM2's "You are a helpful AI assistant named SmolLM, trained by Hugging Face".
    static func chatMLDefaultSystem(_ source: String) -> String? {
        for marker in ["<|im_start|>system\n", "<|im_start|>system\\n"] {
            var searchStart = source.startIndex
            while let r = source.range(of: marker, range: searchStart..<source.endIndex) {
                searchStart = r.upperBound
                guard let end = source.range(of: "<|im_end|>", range: r.upperBound..<source.endIndex) else { break }
                let text = String(source[r.upperBound..<end.lowerBound])
                // Skip the generic "system\n' + message['content']" form: only plain text is a default.
                if !text.contains("{{") && !text.contains("'") && !text.contains("\"") && !text.contains("+") && !text.isEmpty {
                    return text.replacingOccurrences(of: "\\n", with: "\n")
                }
            }
        }
        return nil
    }

    /// The conversation as the model sees it. With `addGenerationPrompt` it ends where the
    /// assistant's reply begins.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        var out = ""
        var messages = messages
        switch kind {
        case .chatml:
            if messages.first?.role != "system", let system = defaultSystemPrompt {
                messages.insert(ChatMessage(role: "system", content: system), at: 0)
            }
            for m in messages { out += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
            if addGenerationPrompt { out += "<|im_start|>assistant\n" }
        case .llama3:
            out += "<|begin_of_text|>"
            var system = messages.first?.role == "system" ? messages.removeFirst().content : nil
            if llamaDatePreamble {
                system = "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n" + (system ?? "")
            }
            if let system { out += "<|start_header_id|>system<|end_header_id|>\n\n\(system)<|eot_id|>" }
            for m in messages { out += "<|start_header_id|>\(m.role)<|end_header_id|>\n\n\(m.content)<|eot_id|>" }
            if addGenerationPrompt { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" }
        }
        return out
    }

    /// Text that closes an assistant turn (what training appends after the reply).
    public var endOfTurn: String {
        switch kind {
        case .chatml: return "<|im_end|>\n"
        case .llama3: return "<|eot_id|>"
        }
    }
}
