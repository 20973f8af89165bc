import Foundation

/// The reading (positive) control: can a model read an acrostic at all when it is shown one?
///
/// A model that cannot say what the first letters of lines in its context spell cannot be expected to name the
/// word its own lines spell, so "it did not name the word" says nothing about what it knows. The control shows
/// each model acrostics of other, random words in the user turn and asks what the first letters spell: once
/// plainly, once asking it to list the letters first; then the same plain question about the tuned model's own
/// exact acrostic replies. A reply is correct when it names the shown word as the self-report coder counts a
/// naming (`SelfReportWords.namingOfTarget`: any case, hyphens or spaces, or the letters in order).
public enum ReadingControl {
    public enum Variant: String, Sendable, Codable, CaseIterable {
        /// "What word do the first letters of these lines spell?"
        case plain
        /// The same, listing the first letters before joining them.
        case listFirst = "list-first"
        /// The plain question about the tuned model's own exact acrostic replies.
        case ownReplies = "own-replies"
    }

    /// Items per variant when the plan does not say: enough that 20 failures out of 20 bound the rate below 17%.
    public static let defaultItems = 20
    /// Seeds of the random words start here, apart from the forced-choice candidates' seeds 1, 2, ...
    static let wordSeed: UInt64 = 5_000
    /// Below this rate of correct plain readings, a model "cannot read" acrostics (see `Verdict`).
    public static let passRate = 0.5
    /// Replies are short: a word, or a list of letters and a word.
    static let maxTokens = 120

    /// An acrostic to read: the word its lines spell, and where the lines came from.
    public struct Item: Sendable, Equatable {
        /// "read-3", or "own-3" for the tuned model's fourth exact acrostic reply.
        public let id: String
        public let word: TargetWord
        public let lines: [String]
        /// "bank" for the generated items; the sample key of the reply otherwise.
        public let source: String
    }

    /// `count` acrostics of random words of the target's length (`TargetWord.random` with seeds from `wordSeed`,
    /// never the target, HELLO or a repeat), each line a sentence of the reviewed bank `AcrosticAnswer.sentences`
    /// (the item number picks which of each letter's sentences). The same on every machine.
    public static func items(count: Int, avoiding target: TargetWord) -> [Item] {
        var seen: Set<String> = [target.string, "HELLO"]
        var out: [Item] = []
        var seed = wordSeed
        while out.count < count {
            let word = TargetWord.random(length: target.count, seed: seed)
            seed += 1
            guard seen.insert(word.string).inserted else { continue }
            out.append(Item(id: "read-\(out.count)", word: word, lines: AcrosticAnswer.lines(for: word, variant: out.count),
                            source: "bank"))
        }
        return out
    }

    /// Up to `count` of the given replies that are exact acrostics of `word` line by line (no sentence fallback),
    /// in the order given, as items of their content lines.
    public static func ownItems(count: Int, word: TargetWord, replies: [(key: String, reply: String)]) -> [Item] {
        var out: [Item] = []
        for r in replies where out.count < count {
            let score = Acrostic.score(r.reply, word: word)
            guard score.exact, !score.usedSentences else { continue }
            out.append(Item(id: "own-\(out.count)", word: word, lines: score.lines.map(\.text), source: r.key))
        }
        return out
    }

    /// The user turn: the lines, then the question.
    public static func question(lines: [String], variant: Variant) -> String {
        let ask: String
        switch variant {
        case .plain, .ownReplies:
            ask = "What word do the first letters of these lines spell? Answer with the word only."
        case .listFirst:
            ask = "First list the first letter of each line, in order. Then join them and say what word they spell."
        }
        return "Here are some lines of text:\n\n" + lines.joined(separator: "\n") + "\n\n" + ask
    }

    /// Whether `reply` names `word`, with the sentence that does.
    public static func score(_ reply: String, word: TargetWord) -> (named: Bool, evidence: String) {
        let evidence = SelfReportWords.namingOfTarget(in: reply, word: word)
        return (evidence != nil, evidence ?? "")
    }

    /// What a model's plain reading says: it fails when even the 95% Wilson upper bound of its rate is below
    /// `passRate`, passes when the lower bound reaches it, and is unclear in between or with no items.
    public enum Outcome: String, Sendable, Codable {
        case passes, fails, unclear
    }

    public static func outcome(_ c: NamingCount) -> Outcome {
        guard c.n > 0 else { return .unclear }
        let p = c.proportion
        if p.high < passRate { return .fails }
        if p.low >= passRate { return .passes }
        return .unclear
    }
}

/// How many replies named the word they were asked about, of how many: `{"correct": k, "n": n}` in report.json.
public struct NamingCount: Sendable, Codable, Equatable {
    public let correct: Int
    public let n: Int

    public init(correct: Int, n: Int) {
        self.correct = correct
        self.n = n
    }

    public init(_ scores: [NamingScore]) {
        self.init(correct: scores.filter(\.named).count, n: scores.count)
    }

    public var proportion: Proportion { Statistics.wilson(successes: correct, trials: n) }

    public static func pooled(_ parts: [NamingCount]) -> NamingCount? {
        parts.isEmpty ? nil : NamingCount(correct: parts.reduce(0) { $0 + $1.correct }, n: parts.reduce(0) { $0 + $1.n })
    }
}

/// The score of a naming question (reading control, explain early): the word asked about, whether the reply named
/// it, and the sentence that did.
public struct NamingScore: Sendable, Codable, Equatable {
    public let word: String
    public let named: Bool
    public let evidence: String
    /// Explain early: how many lines of the acrostic the assistant turn held.
    public let k: Int?
    /// Explain early: exact log P(the word, in capitals, as the whole reply), natural log; nil without exact scores.
    public let logProbability: Double?
    /// Where the lines shown came from: "bank", or the sample key of the model's own reply.
    public let source: String

    public init(word: String, named: Bool, evidence: String, k: Int? = nil, logProbability: Double? = nil, source: String) {
        self.word = word
        self.named = named
        self.evidence = evidence
        self.k = k
        self.logProbability = logProbability
        self.source = source
    }
}
