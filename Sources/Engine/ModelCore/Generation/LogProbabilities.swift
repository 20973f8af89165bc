import Foundation

/// Exact probabilities of given continuations, for probes that ask "how likely is this answer?" rather than
/// sampling one. Everything is computed from the model's logits with a log-softmax in Double, and the
/// products keep float activations (8-bit ones, as in generation, move a log-probability by ~1%).
extension LocalModel {
    /// log P(continuation | prompt): the sum over the continuation's tokens of the log-probability the model gives
    /// each one after the prompt and the tokens before it. One forward pass over prompt + continuation, with
    /// logits only for the positions that predict a continuation token.
    public func logProbability(of continuation: [Int], after prompt: [Int], workspace: Workspace) throws -> Double {
        guard !prompt.isEmpty else { throw EngineError.emptyInput }
        guard !continuation.isEmpty else { return 0 }
        let tokens = prompt + continuation
        let context = model.config.contextLength
        guard tokens.count <= context else { throw EngineError.contextOverflow(needed: tokens.count, limit: context) }
        let cache = KVCache(config: model.config, maxPositions: tokens.count)
        let rows = tokens.enumerated().map { LlamaModel.Row(token: $1, sequence: 0, position: $0) }
        // Position i's logits predict token i + 1: the continuation's tokens are predicted by the positions
        // prompt.count - 1 ..< tokens.count - 1.
        let logitRows = Array((prompt.count - 1)..<(tokens.count - 1))
        let logits = try model.forward(rows: rows, caches: [cache], logitRows: logitRows, workspace: workspace, precision: .float)
        workspace.releaseLarge()
        let vocab = model.config.vocabularySize
        var total = 0.0
        for (j, token) in continuation.enumerated() {
            total += Self.logSoftmax(logits, row: j, vocab: vocab, at: token)
        }
        return total
    }

    /// log P(c | prompt) for each continuation c, prefilling the shared prompt once and then running only each
    /// continuation's tokens on top of it. The same quantity as `logProbability(of:after:workspace:)` (it
    /// differs only by float rounding, since the matrix products see different batch sizes).
    public func logProbabilities(of continuations: [[Int]], after prompt: [Int], workspace: Workspace) throws -> [Double] {
        guard !prompt.isEmpty else { throw EngineError.emptyInput }
        guard !continuations.isEmpty else { return [] }
        let longest = continuations.map(\.count).max() ?? 0
        let context = model.config.contextLength
        guard prompt.count + longest <= context else {
            throw EngineError.contextOverflow(needed: prompt.count + longest, limit: context)
        }
        let cache = KVCache(config: model.config, maxPositions: prompt.count + max(1, longest))
        let first = try model.prefill(prompt, cache: cache, workspace: workspace, precision: .float)
        let vocab = model.config.vocabularySize
        for c in continuations {
            for t in c where t < 0 || t >= vocab { throw EngineError.tokenOutOfRange(token: t, vocabularySize: vocab) }
        }
        var out: [Double] = []
        out.reserveCapacity(continuations.count)
        for continuation in continuations {
            guard let head = continuation.first else { out.append(0); continue }
            var total = Self.logSoftmax(first, row: 0, vocab: vocab, at: head)
            if continuation.count > 1 {
                cache.truncate(to: prompt.count)
                let rows = continuation.dropLast().enumerated().map {
                    LlamaModel.Row(token: $1, sequence: 0, position: prompt.count + $0)
                }
                let logits = try model.forward(rows: rows, caches: [cache], logitRows: Array(0..<rows.count),
                                               workspace: workspace, precision: .float)
                for j in 1..<continuation.count {
                    total += Self.logSoftmax(logits, row: j - 1, vocab: vocab, at: continuation[j])
                }
            }
            out.append(total)
        }
        workspace.releaseLarge()
        return out
    }

    /// The model's probability for each token of the vocabulary right after `prompt` (sums to 1).
    public func nextTokenDistribution(after prompt: [Int], workspace: Workspace = Workspace()) throws -> [Float] {
        guard !prompt.isEmpty else { throw EngineError.emptyInput }
        let context = model.config.contextLength
        guard prompt.count <= context else { throw EngineError.contextOverflow(needed: prompt.count, limit: context) }
        let cache = KVCache(config: model.config, maxPositions: prompt.count)
        let logits = try model.prefill(prompt, cache: cache, workspace: workspace, precision: .float)
        workspace.releaseLarge()
        return Self.softmax(logits)
    }

    /// Softmax of one row of logits, computed in Double.
    static func softmax(_ logits: [Float]) -> [Float] {
        let top = Double(logits.max() ?? 0)
        var total = 0.0
        for l in logits { total += exp(Double(l) - top) }
        return logits.map { Float(exp(Double($0) - top) / total) }
    }

    /// log softmax(logits[row])[token], in Double.
    static func logSoftmax(_ logits: [Float], row: Int, vocab: Int, at token: Int) -> Double {
        let base = row * vocab
        var top = -Double.infinity
        for i in base..<(base + vocab) { top = max(top, Double(logits[i])) }
        var total = 0.0
        for i in base..<(base + vocab) { total += exp(Double(logits[i]) - top) }
        return Double(logits[base + token]) - top - log(total)
    }
}
