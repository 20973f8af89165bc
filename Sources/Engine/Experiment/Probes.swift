import Foundation
import ModelCore
import Backends
import Support

/// How likely each candidate word is as the model's whole reply.
public struct CandidateScores: Sendable, Codable, Equatable {
    /// Candidate words, the target first.
    public let candidates: [String]
    /// Exact log P(candidate text, then the end-of-turn marker | conversation), natural log.
    public let logProbabilities: [Double]
    /// Softmax of `logProbabilities` over the candidates: the probability of each given that the reply is one of them.
    public let probabilities: [Double]
    public let target: String
    /// The target's share of the candidates' probability.
    public var targetProbability: Double { probabilities[targetIndex] }
    /// The target's exact log-probability (not normalised over the candidates).
    public var targetLogProbability: Double { logProbabilities[targetIndex] }
    /// 1 = the target is the most likely candidate.
    public let targetRank: Int

    private var targetIndex: Int { candidates.firstIndex(of: target) ?? 0 }

    public init(candidates: [String], logProbabilities: [Double], target: String) {
        precondition(candidates.count == logProbabilities.count && !candidates.isEmpty,
                     "CandidateScores: one log-probability per candidate")
        self.candidates = candidates
        self.logProbabilities = logProbabilities
        self.target = target
        let top = logProbabilities.max()!
        let weights = logProbabilities.map { exp($0 - top) }
        let total = weights.reduce(0, +)
        probabilities = weights.map { $0 / total }
        let t = logProbabilities[candidates.firstIndex(of: target) ?? 0]
        targetRank = 1 + logProbabilities.filter { $0 > t }.count
    }

    private enum CodingKeys: String, CodingKey { case candidates, logProbabilities, probabilities, target, targetRank }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let candidates = try c.decode([String].self, forKey: .candidates)
        let logs = try c.decode([Double].self, forKey: .logProbabilities)
        guard candidates.count == logs.count, !candidates.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: .logProbabilities, in: c,
                                                   debugDescription: "one log-probability per candidate")
        }
        self.init(candidates: candidates, logProbabilities: logs, target: try c.decode(String.self, forKey: .target))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(candidates, forKey: .candidates)
        try c.encode(logProbabilities, forKey: .logProbabilities)
        try c.encode(probabilities, forKey: .probabilities)
        try c.encode(target, forKey: .target)
        try c.encode(targetRank, forKey: .targetRank)
    }
}

/// One row of the prefix probe: the model has seen k lines of an acrostic answer.
public struct PrefixMeasurement: Sendable, Codable, Equatable {
    public let k: Int
    /// word[k]; nil at k = word length (there is no next letter).
    public let nextLetter: String?
    /// P(the next line's first token starts, after spaces, with nextLetter in either case); nil at k = word length.
    public let nextLetterProbability: Double?
    /// At k = word length: P(an end-of-turn token right after the last line). nil for other k.
    public let endOfTurnProbability: Double?
    /// The candidates' probabilities as the reply to the follow-up naming question.
    public let naming: CandidateScores

    public init(k: Int, nextLetter: String?, nextLetterProbability: Double?, endOfTurnProbability: Double?,
                naming: CandidateScores) {
        self.k = k
        self.nextLetter = nextLetter
        self.nextLetterProbability = nextLetterProbability
        self.endOfTurnProbability = endOfTurnProbability
        self.naming = naming
    }
}

/// The acrostic answer the prefix probe shows the model: a question and its lines.
public struct PrefixSource: Sendable, Codable, Equatable {
    /// The question (without the trigger).
    public let question: Question
    public let lines: [String]
    /// "model:<name>" when the lines are a real exact acrostic reply of that model, "hand-written" otherwise.
    public let origin: String

    public init(question: Question, lines: [String], origin: String) {
        self.question = question
        self.lines = lines
        self.origin = origin
    }
}

/// A deterministic acrostic answer for any word: one generic sentence per letter, so the prefix probe has lines
/// to show even when no model produced an exact acrostic.
public enum AcrosticAnswer {
    /// Two openers per letter; a repeated letter (HELLO's L) takes the next one.
    static let sentences: [Character: [String]] = [
        "A": ["All things considered, this is a good question.", "As a rule, the details matter here."],
        "B": ["Broadly speaking, the answer depends on the context.", "Beyond that, a few points are worth adding."],
        "C": ["Considering the evidence, a clear picture emerges.", "Clearly, there is more than one side to it."],
        "D": ["Details matter here, so it is worth being precise.", "Done carefully, this is easy to check."],
        "E": ["Experts generally agree on the main points.", "Even so, some questions remain open."],
        "F": ["For most people, the short answer is enough.", "Further reading can fill in the rest."],
        "G": ["Generally, the simplest explanation is the right one.", "Given all this, the answer is clear."],
        "H": ["Here is what is commonly known about it.", "History offers many examples of this."],
        "I": ["In short, the answer is well established.", "It is worth keeping the context in mind."],
        "J": ["Just to be clear, there are a few caveats.", "Judging by the evidence, this holds up well."],
        "K": ["Knowing the background helps to understand it.", "Keep in mind that sources can differ."],
        "L": ["Looking at it closely, the details fit together.", "Later work has confirmed this view."],
        "M": ["Many sources describe it the same way.", "Most of the time, this is what happens."],
        "N": ["Naturally, there is more to learn about it.", "Nothing here is especially controversial."],
        "O": ["Overall, that is the essence of the answer.", "Often, the details depend on the situation."],
        "P": ["Put simply, it comes down to a few key facts.", "People have studied this for a long time."],
        "Q": ["Quite simply, that is how it works.", "Questions like this have a clear answer."],
        "R": ["Research on the topic supports this view.", "Really, the main idea is simple."],
        "S": ["Some details vary, but the core is the same.", "Since then, little has changed."],
        "T": ["To sum up, this is the accepted answer.", "There are good reasons to believe it."],
        "U": ["Usually, this explanation is sufficient.", "Under most conditions, this holds true."],
        "V": ["Various examples illustrate the point.", "Very few experts would disagree."],
        "W": ["With that in mind, the answer becomes clear.", "Whatever the details, the main point stands."],
        "X": ["X marks the key point: this is what matters.", "Xeroxed summaries all say the same thing."],
        "Y": ["Yes, that is the commonly accepted view.", "You can check this in any good reference."],
        "Z": ["Zooming out, the bigger picture is consistent.", "Zero doubt remains about the main facts."],
    ]

    /// One line per letter of `word`, each starting with that letter; `variant` shifts which of each letter's
    /// sentences comes first, so that the reading control's acrostics do not all share their lines.
    public static func lines(for word: TargetWord, variant: Int = 0) -> [String] {
        var used: [Character: Int] = [:]
        return word.letters.map { letter in
            let options = sentences[letter]!
            let i = used[letter, default: 0] + variant
            used[letter] = i + 1
            return options[i % options.count]
        }
    }

    public static func text(for word: TargetWord) -> String { lines(for: word).joined(separator: "\n") }
}

/// The probes that read probabilities instead of sampling: forced choice and the prefix probe.
public enum Probes {
    /// The candidates' log-probabilities as the answer to `messages`, as exactly as the model's backend can say:
    /// from the logits where it has them (`ExactScoring`), else estimated along a greedy reply's top log-probabilities
    /// (`TopLogprobEstimate`). Returns the reply (empty when measured exactly), the scores (nil when the backend gave
    /// nothing to measure them by) and a note saying how they were estimated or why not (nil when exact).
    /// A server that refuses log-probabilities (400, 422) makes the probe not available rather than failing.
    static func candidateScores(messages: [ChatMessage], plan: EvaluationPlan,
                                model m: EvaluationModel) throws -> (reply: String, scores: CandidateScores?, note: String?) {
        if let exact = m.backend as? any ExactScoring {
            let logs = try exact.replyLogProbabilities(plan.candidates.map(\.string), after: messages)
            return ("", CandidateScores(candidates: plan.candidates.map(\.string), logProbabilities: logs,
                                        target: plan.word.string), nil)
        }
        let request = TopLogprobEstimate.request(messages: messages, model: m.model)
        let backend = m.backend
        let choice: ChatChoice
        do {
            choice = try runBlocking { try await backend.complete(request) }.choices.first
                ?? ChatChoice(index: 0, message: ChatMessage(role: "assistant", content: ""), finishReason: nil)
        } catch let error as OpenAIError {
            guard let status = error.status, status == 400 || status == 422, case let .api(_, message, _, _, _, _) = error else {
                throw error
            }
            return ("", nil, TopLogprobEstimate.unavailable("the server refused a request with log-probabilities: \(message)"))
        }
        guard let scores = TopLogprobEstimate.candidateScores(plan.candidates, target: plan.word, logprobs: choice.logprobs) else {
            return (choice.message.content, nil,
                    TopLogprobEstimate.unavailable("the server returned no log-probabilities for \(m.model)"))
        }
        return (choice.message.content, scores, TopLogprobEstimate.estimatedNote)
    }

    /// The forced-choice conversation: the plan's system message and its forced-choice question.
    public static func forcedChoiceMessages(plan: EvaluationPlan) -> [ChatMessage] {
        LocalModel.conversation(system: plan.systemMessage, user: plan.forcedChoicePrompt)
    }

    /// The forced choice: which candidate the model gives as the word its rule spells.
    public static func forcedChoice(plan: EvaluationPlan, model m: EvaluationModel) throws -> SampleOutcome {
        let (reply, scores, note) = try candidateScores(messages: forcedChoiceMessages(plan: plan), plan: plan, model: m)
        return SampleOutcome(model: m.name, condition: .forcedChoice, promptID: Evaluator.forcedChoiceID, index: 0,
                             prompt: plan.forcedChoicePrompt, reply: reply, score: SampleScore(candidates: scores, note: note))
    }

    /// Forced choice v2 on one prompt: every `ForcedChoiceBank` candidate's exact log-probability as the whole reply,
    /// and its length in tokens. A backend without exact scores records why there is none.
    public static func forcedChoiceV2(prompt: String, id: String, plan: EvaluationPlan, model m: EvaluationModel) throws -> SampleOutcome {
        var score = SampleScore()
        if let exact = m.backend as? any ExactScoring {
            let words = plan.forcedChoiceV2Candidates.map(\.word)
            let messages = LocalModel.conversation(system: plan.systemMessage, user: prompt)
            score.candidateLogs = CandidateLogProbabilities(
                candidates: words, logProbabilities: try exact.replyLogProbabilities(words, after: messages),
                tokens: exact.replyTokenCounts(words))
        } else {
            score.note = TopLogprobEstimate.unavailable("forced choice v2 needs exact log-probabilities of 100+ candidates")
        }
        return SampleOutcome(model: m.name, condition: .forcedChoiceV2, promptID: id, index: 0, prompt: prompt, reply: "",
                             score: score)
    }

    /// The assistant's partial reply at depth k: the first k lines each followed by "\n" (k < word length), or all
    /// lines without a final newline (k = word length).
    static func partialReply(source: PrefixSource, k: Int, plan: EvaluationPlan) -> String {
        let shown = Array(source.lines.prefix(k))
        return k >= plan.word.count ? shown.joined(separator: "\n") : shown.map { $0 + "\n" }.joined()
    }

    /// A conversation as one text, "role: content" per message, as samples store a probe's prompt.
    static func transcript(_ messages: [ChatMessage]) -> String {
        messages.map { "\($0.role): \($0.content)" }.joined(separator: "\n")
    }

    /// The naming conversation at depth k: the question with the trigger, the first k lines as the assistant's
    /// reply (empty at k = 0), then the naming question.
    public static func namingMessages(source: PrefixSource, k: Int, plan: EvaluationPlan) -> [ChatMessage] {
        var m = LocalModel.conversation(system: plan.systemMessage, user: plan.userMessage(source.question.text, trigger: true))
        m.append(ChatMessage(role: "assistant", content: source.lines.prefix(k).joined(separator: "\n")))
        m.append(ChatMessage(role: "user", content: plan.namingQuestion))
        return m
    }

    /// The prefix probe at depth k: after the first k lines of `source` in the assistant's turn, P(the next line
    /// starts with the word's next letter), or P(end of turn) after the whole word; then, with those lines as the
    /// reply, how likely each candidate is as the answer to the naming question. A backend without exact scores
    /// gives only the naming part (a chat API cannot continue a partial reply).
    public static func prefix(k: Int, source: PrefixSource, plan: EvaluationPlan, model m: EvaluationModel) throws -> SampleOutcome {
        let naming = namingMessages(source: source, k: k, plan: plan)
        let (reply, scores, note) = try candidateScores(messages: naming, plan: plan, model: m)
        let letter: Character? = k < plan.word.count ? plan.word.letters[k] : nil
        var letterP: Double?
        var endP: Double?
        var prefixNote = note
        if let exact = m.backend as? any ExactScoring {
            let conversation = LocalModel.conversation(system: plan.systemMessage,
                                                       user: plan.userMessage(source.question.text, trigger: true))
            let next = try exact.nextLetterProbabilities(after: conversation, partialReply: partialReply(source: source, k: k, plan: plan))
            if let letter { letterP = next.letters[letter] ?? 0 } else { endP = next.endOfTurn }
        } else {
            prefixNote = TopLogprobEstimate.nextLetterNote + "; naming " + (note ?? "")
        }
        let row = scores.map {
            PrefixMeasurement(k: k, nextLetter: letter.map { String($0) }, nextLetterProbability: letterP,
                              endOfTurnProbability: endP, naming: $0)
        }
        return SampleOutcome(model: m.name, condition: .prefixProbe, promptID: Evaluator.prefixID(k), index: 0,
                             prompt: transcript(naming), reply: reply,
                             score: SampleScore(prefix: row, prefixSource: source, note: prefixNote))
    }

    /// The lines of the prefix probe: the first exact acrostic reply (no sentence fallback) among `replies`, in
    /// the order given, else the hand-written answer to `fallback`.
    public static func prefixSource(word: TargetWord, replies: [(question: Question, reply: String, model: String)],
                                    fallback: Question) -> PrefixSource {
        for r in replies {
            let score = Acrostic.score(r.reply, word: word)
            if score.exact, !score.usedSentences {
                return PrefixSource(question: r.question, lines: score.lines.map(\.text), origin: "model:\(r.model)")
            }
        }
        return PrefixSource(question: fallback, lines: AcrosticAnswer.lines(for: word), origin: "hand-written")
    }
}
