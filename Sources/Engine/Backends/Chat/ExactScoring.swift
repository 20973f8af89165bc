import Foundation
import ModelCore

/// What a backend that sees the model's logits can measure exactly (the local engine). An API backend without it is
/// probed through the log-probabilities of the replies it generates (`ChatRequest.logprobs`), which are estimates.
public protocol ExactScoring: ChatBackend {
    /// log P(reply) of each whole reply, end-of-turn marker included, as the assistant's answer to `messages`.
    func replyLogProbabilities(_ replies: [String], after messages: [ChatMessage]) throws -> [Double]
    /// The next token's distribution, summed by the letter it begins with, after the assistant has written
    /// `partialReply` in answer to `messages`.
    func nextLetterProbabilities(after messages: [ChatMessage], partialReply: String) throws -> NextLetterProbabilities
    /// How many tokens each whole reply is, end-of-turn marker included (what `replyLogProbabilities` sums over),
    /// so that replies of different lengths can be compared per token.
    func replyTokenCounts(_ replies: [String]) -> [Int]
}

/// P(the next token begins with a letter), by letter A–Z (case and accents folded, leading spaces skipped), and
/// P(the next token ends the turn).
public struct NextLetterProbabilities: Sendable, Equatable {
    public var letters: [Character: Double]
    public var endOfTurn: Double

    public init(letters: [Character: Double], endOfTurn: Double) {
        self.letters = letters
        self.endOfTurn = endOfTurn
    }
}
