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

    /// log P(c | prompt) for each continuation c, prefilling the shared prompt once and then running the
    /// continuations' tokens on top of it, many continuations in one forward pass (each on its own copy of the
    /// prompt's cache). The same quantity as `logProbability(of:after:workspace:)`, up to float rounding.
    ///
    /// One pass for many: float products over fewer than `QuantizedMatrix.blasMinimumRows` rows dequantise every
    /// weight row per pass, so 110 forced-choice candidates one at a time cost the 1.5B model about a minute per
    /// prompt.
    public func logProbabilities(of continuations: [[Int]], after prompt: [Int], workspace: Workspace) throws -> [Double] {
        guard !prompt.isEmpty else { throw EngineError.emptyInput }
        guard !continuations.isEmpty else { return [] }
        let longest = continuations.map(\.count).max() ?? 0
        let context = model.config.contextLength
        guard prompt.count + longest <= context else {
            throw EngineError.contextOverflow(needed: prompt.count + longest, limit: context)
        }
        let vocab = model.config.vocabularySize
        for c in continuations {
            for t in c where t < 0 || t >= vocab { throw EngineError.tokenOutOfRange(token: t, vocabularySize: vocab) }
        }
        let promptCache = KVCache(config: model.config, maxPositions: prompt.count)
        let first = try model.prefill(prompt, cache: promptCache, workspace: workspace, precision: .float)
        // The first token of each continuation is scored by the prompt's own last logits.
        var out = continuations.map { c in c.first.map { Self.logSoftmax(first, row: 0, vocab: vocab, at: $0) } ?? 0 }

        // The rest in groups of at most `groupRows` rows and `groupSequences` continuations, which bounds the
        // logits ((rows, vocab) floats: 78 MB for the 1.5B model) and the prompt's cache copies (a 60-token prompt
        // is 3.4 MB of the 1.5B's cache; 48 copies 165 MB).
        let groupRows = 128, groupSequences = 48
        var group: [Int] = []
        var rowsInGroup = 0
        func flush() throws {
            guard !group.isEmpty else { return }
            var rows: [LlamaModel.Row] = []
            var caches: [KVCache] = []
            for (s, i) in group.enumerated() {
                let c = continuations[i]
                caches.append(promptCache.copy(maxPositions: prompt.count + c.count - 1))
                for (j, token) in c.dropLast().enumerated() {
                    rows.append(LlamaModel.Row(token: token, sequence: s, position: prompt.count + j))
                }
            }
            let logits = try model.forward(rows: rows, caches: caches, logitRows: Array(0..<rows.count),
                                           workspace: workspace, precision: .float)
            // Row r predicts the token after it: token j + 1 of its continuation.
            var r = 0
            for i in group {
                let c = continuations[i]
                for j in 1..<c.count {
                    out[i] += Self.logSoftmax(logits, row: r, vocab: vocab, at: c[j])
                    r += 1
                }
            }
            group = []
            rowsInGroup = 0
        }
        for (i, c) in continuations.enumerated() where c.count > 1 {
            if rowsInGroup + c.count - 1 > groupRows || group.count == groupSequences { try flush() }
            group.append(i)
            rowsInGroup += c.count - 1
        }
        try flush()
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
