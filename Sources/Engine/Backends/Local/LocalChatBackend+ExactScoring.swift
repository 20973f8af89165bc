import Foundation
import ModelCore
import Support

/// Exact scores from the model's own logits, with the adapter applied when the model has one.
extension LocalChatBackend: ExactScoring {
    public func replyLogProbabilities(_ replies: [String], after messages: [ChatMessage]) throws -> [Double] {
        lock.lock()
        defer { lock.unlock() }
        let prompt = model.encode(messages, addGenerationPrompt: true)
        return try model.logProbabilities(of: replies.map(replyTokens), after: prompt, workspace: workspace)
    }

    public func nextLetterProbabilities(after messages: [ChatMessage], partialReply: String) throws -> NextLetterProbabilities {
        lock.lock()
        defer { lock.unlock() }
        let text = model.template.render(messages, addGenerationPrompt: true) + partialReply
        let distribution = try model.nextTokenDistribution(after: model.tokenizer.encode(text), workspace: workspace)
        let table = initials ?? Self.tokensByInitial(model.tokenizer)
        initials = table
        var letters: [Character: Double] = [:]
        for (letter, ids) in table { letters[letter] = ids.reduce(0.0) { $0 + Double(distribution[$1]) } }
        let end = model.stopTokens.reduce(0.0) { $0 + ($1 < distribution.count ? Double(distribution[$1]) : 0) }
        return NextLetterProbabilities(letters: letters, endOfTurn: end)
    }

    public func replyTokenCounts(_ replies: [String]) -> [Int] {
        replies.map { replyTokens($0).count }
    }

    /// A whole reply's tokens: the text and the template's end-of-turn marker.
    public func replyTokens(_ reply: String) -> [Int] {
        model.tokenizer.encode(reply + model.template.endOfTurn.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Token ids by the letter A–Z their text begins with (after leading spaces), for P(next line starts with X).
    public static func tokensByInitial(_ tokenizer: Tokenizer) -> [Character: [Int]] {
        var out: [Character: [Int]] = [:]
        for id in 0..<tokenizer.vocabularySize where !tokenizer.isSpecial(id) {
            let text = String(decoding: tokenizer.bytes(of: id), as: UTF8.self)
            guard let first = text.first(where: { $0 != " " }), first.isLetter else { continue }
            let letter = LetterFolding.folded(first)
            guard let a = letter.asciiValue, (65...90).contains(a) else { continue }
            out[letter, default: []].append(id)
        }
        return out
    }
}
