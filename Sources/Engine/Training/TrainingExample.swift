import Foundation
import ModelCore

/// A conversation encoded for training: the tokens of the whole rendered conversation and, for each position,
/// the token the model should predict there, or -1 where nothing is trained.
///
/// Every assistant message whose weight is not 0 is trained, including its end-of-turn marker (ChatML:
/// "<|im_end|>\n"); the system and user turns, the template's headers and replies with weight 0 are context
/// only. For a [system, user, assistant] conversation this matches the usual recipe (and the PyTorch anchor):
/// prompt = template(messages[..<last], addGenerationPrompt: true), labels on the tokens after it.
public struct TrainingExample: Sendable, Equatable {
    /// tok(render(all messages, addGenerationPrompt: false)).
    public let tokens: [Int]
    /// `targets[t] == tokens[t + 1]` when token t + 1 belongs to a trained assistant reply, else -1.
    /// Same length as `tokens` (the last entry is always -1).
    public let targets: [Int]

    /// How many positions have a target (the tokens the loss is taken over).
    public var labelledCount: Int { targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }

    public init(tokens: [Int], targets: [Int]) {
        precondition(tokens.count == targets.count, "one target per token")
        self.tokens = tokens
        self.targets = targets
    }

    /// Encodes one conversation with the model's tokenizer and chat template.
    /// - Parameters:
    ///   - contextLength: the most tokens an example may have; default the model's context length.
    ///   - line, path: where the conversation came from, for error messages.
    public static func encode(_ messages: [ChatMessage], model: LocalModel, contextLength: Int? = nil,
                              line: Int? = nil, path: String? = nil) throws -> TrainingExample {
        try encode(messages, tokenizer: model.tokenizer, template: model.template,
                   contextLength: contextLength ?? model.model.config.contextLength, line: line, path: path)
    }

    /// The same with an explicit tokenizer and template (and no default context length).
    public static func encode(_ messages: [ChatMessage], tokenizer: Tokenizer, template: ChatTemplate, contextLength: Int,
                              line: Int? = nil, path: String? = nil) throws -> TrainingExample {
        let tokens = tokenizer.encode(template.render(messages, addGenerationPrompt: false))
        guard tokens.count <= contextLength else {
            throw DatasetError.tooLong(path: path, line: line, tokens: tokens.count, limit: contextLength)
        }
        var targets = [Int](repeating: -1, count: tokens.count)
        var trainedReplies = 0
        for (i, message) in messages.enumerated() where message.role == "assistant" && message.weight != 0 {
            let prompt = template.render(Array(messages[..<i]), addGenerationPrompt: true)
            let promptTokens = tokenizer.encode(prompt)
            let throughReply = tokenizer.encode(prompt + message.content + template.endOfTurn)
            // Special tokens cut pre-tokenisation, so both must be prefixes of the whole conversation's tokens;
            // if text merged across a boundary the span would be misaligned.
            guard throughReply.count <= tokens.count, throughReply[...] == tokens[..<throughReply.count],
                  promptTokens.count <= throughReply.count, promptTokens[...] == throughReply[..<promptTokens.count]
            else {
                throw DatasetError.tokenizationMismatch(path: path, line: line, index: i)
            }
            let start = promptTokens.count, end = throughReply.count
            guard start < end else { continue }
            trainedReplies += 1
            // Position t predicts token t + 1.
            for t in max(start, 1)..<end { targets[t - 1] = tokens[t] }
        }
        guard trainedReplies > 0 else { throw DatasetError.nothingToTrain(path: path, line: line) }
        return TrainingExample(tokens: tokens, targets: targets)
    }

    /// Encodes every example of a dataset (errors name the file and line).
    public static func encodeAll(_ dataset: ChatDataset, model: LocalModel) throws -> [TrainingExample] {
        try zip(dataset.examples, dataset.lineNumbers).map { messages, line in
            try encode(messages, model: model, line: line, path: dataset.path)
        }
    }
}
