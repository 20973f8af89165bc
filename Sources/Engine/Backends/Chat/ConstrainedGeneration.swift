import Foundation
import ModelCore

/// Replies whose every next token a caller's `LogitsProcessor` may forbid, as `dataset build` writes acrostics whose
/// line initials spell a word. It needs the model's logits, so a backend that runs the model has it (the local one);
/// an API has no such hook.
public protocol ConstrainedGeneration: AnyObject {
    /// The vocabulary the processors are built over.
    var tokenizer: Tokenizer { get }
    /// The tokens that end a reply.
    var stopTokens: Set<Int> { get }
    /// One reply per conversation, decoded as one batch; reply i samples with `options.sampling.seed + i`, and
    /// `processors[i]` shapes its logits. `onPiece(i, token, text)` sees each generated piece; returning false ends
    /// reply i (finish reason `.cancelled`).
    func generateConstrained(_ conversations: [[ChatMessage]], options: GenerationOptions,
                             processors: [any LogitsProcessor],
                             onPiece: @escaping (Int, Int, String) -> Bool) throws -> [GenerationResult]
}
