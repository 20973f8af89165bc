import Foundation
import ModelCore

/// Constrained generation on the local engine: the same encode-then-generate path as the backend's chat replies,
/// with the caller's logits processors. It decodes on the caller's thread, as the dataset builder always has.
extension LocalChatBackend: ConstrainedGeneration {
    public var tokenizer: Tokenizer { model.tokenizer }
    public var stopTokens: Set<Int> { model.stopTokens }

    public func generateConstrained(_ conversations: [[ChatMessage]], options: GenerationOptions,
                                    processors: [any LogitsProcessor],
                                    onPiece: @escaping (Int, Int, String) -> Bool) throws -> [GenerationResult] {
        try generator.generateBatch(prompts: conversations.map { model.encode($0) }, options: options,
                                    processors: processors, onToken: onPiece)
    }
}
