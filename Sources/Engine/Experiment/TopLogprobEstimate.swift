import Foundation
import ModelCore
import Backends

/// How the probes measure a model behind a chat API without exact scores (`ExactScoring`). A chat API gives log-probabilities only for the tokens of
/// the reply it generated, with the most likely alternatives at each (`top_logprobs`, at most 20 on OpenAI), so a
/// candidate's log P(reply starts with the candidate) is estimated along the greedy reply:
/// - while the reply's tokens spell the start of the candidate (case aside, leading spaces ignored), their
///   log-probabilities add up: exact for the word the model wrote;
/// - where the reply leaves the candidate, the best listed alternative that continues it adds its log-probability
///   and the rest counts as certain: an upper bound;
/// - where no listed alternative continues it, the candidate's token is less likely than every listed one and than
///   what they leave over: the lesser of the two is added, again an upper bound.
/// The end-of-turn marker is not included (a chat API does not report it).
public enum TopLogprobEstimate {
    /// The most alternatives OpenAI reports per token.
    public static let topLogprobs = 20
    /// Enough tokens for any candidate word.
    public static let maxTokens = 8

    public static let estimatedNote = "estimated from the chat API's top-\(topLogprobs) log-probabilities along the greedy "
        + "reply: exact for the word the model wrote, an upper bound for the others; the end-of-turn marker is not included"
    public static let nextLetterNote = "P(next letter) and P(end of turn) need the next-token distribution after a partial "
        + "reply, which a chat API does not give"

    /// "not available: ..." for a reply without log-probabilities.
    public static func unavailable(_ reason: String) -> String { "not available: \(reason)" }

    /// Greedy, with log-probabilities and the top alternatives of every token.
    public static func request(messages: [ChatMessage], model: String) -> ChatRequest {
        ChatRequest(messages: messages, model: model, temperature: 0, maxTokens: maxTokens, logprobs: true,
                    topLogprobs: topLogprobs)
    }

    /// The candidates' estimated log-probabilities; nil when the reply carries none.
    public static func candidateScores(_ candidates: [TargetWord], target: TargetWord,
                                       logprobs: [TokenLogprob]?) -> CandidateScores? {
        guard let tokens = logprobs, !tokens.isEmpty else { return nil }
        return CandidateScores(candidates: candidates.map(\.string),
                               logProbabilities: candidates.map { estimate($0.string, along: tokens) },
                               target: target.string)
    }

    /// log P(the reply starts with `candidate`), estimated along `tokens` as the type's comment describes.
    public static func estimate(_ candidate: String, along tokens: [TokenLogprob]) -> Double {
        var remaining = Substring(candidate.lowercased())
        var total = 0.0
        var started = false
        for t in tokens {
            func piece(_ text: String) -> Substring {
                let lower = Substring(text.lowercased())
                return started ? lower : lower.drop(while: \.isWhitespace)
            }
            func continues(_ text: String) -> Bool {
                let p = piece(text)
                guard !p.isEmpty else { return false }
                if remaining.hasPrefix(p) { return true }
                return p.hasPrefix(remaining) && !p.dropFirst(remaining.count).contains(where: \.isLetter)
            }
            if !started, piece(t.token).isEmpty {
                total += t.logprob  // spaces before the reply
                continue
            }
            if continues(t.token) {
                total += t.logprob
                remaining = remaining.dropFirst(piece(t.token).count)
                started = true
                if remaining.isEmpty { return total }
                continue
            }
            if let alternative = t.topLogprobs.filter({ continues($0.token) }).max(by: { $0.logprob < $1.logprob }) {
                return total + alternative.logprob
            }
            return total + unlistedBound(t)
        }
        return total  // the reply ended inside the candidate
    }

    /// An upper bound on the log-probability of a token not among `t`'s listed ones.
    static func unlistedBound(_ t: TokenLogprob) -> Double {
        var listed: [String: Double] = [t.token: t.logprob]
        for a in t.topLogprobs { listed[a.token] = max(listed[a.token] ?? -.infinity, a.logprob) }
        let smallest = listed.values.min() ?? t.logprob
        let leftOver = 1 - listed.values.reduce(0) { $0 + exp($1) }
        return leftOver > 0 ? min(smallest, log(leftOver)) : smallest
    }
}
