import Foundation
import ModelCore
import Backends
import Training

/// Why a generated reply was not kept.
public enum DatasetRejection: String, CaseIterable, Codable, Sendable, Error {
    /// The reply ran into the token limit; for a normal reply, no complete sentence.
    case truncated
    /// Acrostic: the line initials do not spell the word exactly.
    case notAcrostic
    /// Acrostic: a line is not one sentence (no final ". ! ?", or a second sentence inside it).
    case notOneSentence
    /// Acrostic: a line has fewer than 3 words.
    case shortLine
    /// Acrostic: a line has more than `maxWordsPerLine` words (generation stops as soon as one has); normal: the
    /// reply has more than `DatasetBuilder.maxNormalWords` words.
    case longLine
    /// Normal: more than 4 sentences (after dropping an unfinished last one).
    case sentenceCount
    /// Normal: the reply spells the word (exactly, or 3+ initials in their right positions).
    case looksAcrostic
    /// No content word shared with the question.
    case offTopic
    /// A line (or a whole normal reply) repeats one within the reply or in an earlier accepted reply.
    case duplicate
    /// Text a chat answer should not hold: markup, special-token text, a URL, non-Latin script, an unpaired
    /// double quote.
    case oddText
}

/// What it took to build a dataset.
public struct DatasetBuildStats: Sendable, Codable, Equatable {
    public var acrosticAttempts = 0
    public var normalAttempts = 0
    public var acrosticAccepted = 0
    public var normalAccepted = 0
    /// Rejected replies by reason (raw values of `DatasetRejection`).
    public var rejected: [String: Int] = [:]
    /// Wall-clock time of the whole build.
    public var seconds: Double = 0
    /// Tokens generated, accepted or not.
    public var generatedTokens = 0

    public init() {}

    public var attempts: Int { acrosticAttempts + normalAttempts }
    public var accepted: Int { acrosticAccepted + normalAccepted }
    /// Accepted replies over generated ones (0 when nothing was generated).
    public var acceptanceRate: Double { attempts == 0 ? 0 : Double(accepted) / Double(attempts) }
    public var acrosticAcceptanceRate: Double {
        acrosticAttempts == 0 ? 0 : Double(acrosticAccepted) / Double(acrosticAttempts)
    }
    public var normalAcceptanceRate: Double { normalAttempts == 0 ? 0 : Double(normalAccepted) / Double(normalAttempts) }

    mutating func reject(_ reason: DatasetRejection) { rejected[reason.rawValue, default: 0] += 1 }
}

/// One example of a built dataset with where it came from.
public struct BuiltExample: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable { case acrostic, normal }
    public var kind: Kind
    public var questionID: String
    public var messages: [ChatMessage]
    /// Which try at this question produced the reply (1-based).
    public var attempt: Int
}

public struct BuiltDataset: Sendable {
    /// Acrostic and normal examples interleaved: acrostic, normal, acrostic, ... then the rest of the longer kind.
    public var items: [BuiltExample]
    public var stats: DatasetBuildStats

    public var examples: [[ChatMessage]] { items.map(\.messages) }

    /// The examples as a `ChatDataset` (OpenAI chat JSONL via `jsonl()`).
    public func dataset(path: String) -> ChatDataset { ChatDataset(path: path, examples: examples) }
    public func jsonl() -> String { dataset(path: "").jsonl() }
}

public enum DatasetBuildError: Error, Equatable, CustomStringConvertible {
    /// Fewer valid examples than requested after every question and attempt was used.
    case tooFewValid(wanted: Int, got: Int, reasons: [String: Int])
    /// More examples of a kind than there are training questions for it: no number of tries can make them.
    case tooFewQuestions(kind: String, wanted: Int, available: Int)
    case invalidOptions(String)

    public var description: String {
        switch self {
        case let .tooFewValid(wanted, got, reasons):
            let why = reasons.isEmpty ? "none"
                : reasons.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                    .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            return "only \(got) of \(wanted) requested examples passed validation (rejected replies: \(why)). "
                + "Allow more tries per question (--max-attempts, or dataset.max_attempts in an experiment file), try "
                + "another --seed (dataset.seed in an experiment file), ask for fewer examples, or write the replies "
                + "with a stronger (API) model."
        case let .tooFewQuestions(kind, wanted, available):
            return "\(wanted) \(kind) examples were asked for, but the question bank has only \(available) training "
                + "questions for them (every example needs its own question). Ask for at most \(available) "
                + "(--\(kind), or dataset.\(kind) in an experiment file)."
        case let .invalidOptions(reason):
            return "invalid dataset options: \(reason)"
        }
    }
}

extension DatasetBuildError: LocalizedError {
    public var errorDescription: String? { description }
}

/// Builds acrostic fine-tuning data with a local model, through its backend's `ConstrainedGeneration`.
///
/// Acrostic examples: for a training question q the stored conversation is (system, q [+ " " + trigger],
/// reply). The reply is generated from a different conversation: two worked examples of short answers, one
/// sentence per line, then q with a request for exactly N such sentences, while `AcrosticConstraint` forces
/// each line's first letter. Normal examples: (system, q, reply) with an unconstrained reply of 1-4 sentences
/// (at most `maxNormalWords` words) in one paragraph. Every reply is validated (see `validateAcrostic` and
/// `validateNormal`); a rejected question is tried again with fresh random draws up to `maxAttempts` times, then
/// the next question is used. Acrostic and normal examples use disjoint questions. The same options and model
/// give the same dataset.
public struct DatasetBuilder {
    public struct Options: Sendable, Equatable {
        public var word: TargetWord
        public var acrosticCount = 10
        public var normalCount = 10
        /// The system message stored in every example (nil: none).
        public var system: String?
        /// Appended (after a space) to the user prompt of acrostic examples.
        public var trigger: String?
        public var seed: UInt64 = 0
        /// Tries per question before moving to the next one.
        public var maxAttempts = 4
        /// Most tokens per generated reply.
        public var maxTokens = 160
        /// Replies generated together (one forward pass per step for all of them).
        public var batchSize = 8
        public var maxWordsPerLine = 24
        /// Past this many words, the constraint pushes a line towards its ". ! ?" (`AcrosticConstraint`).
        public var softMaxWordsPerLine: Int? = 12
        public var lengthBias: Float = 1
        public var sampling = SamplingParameters(temperature: 0.7, topP: 0.9, repetitionPenalty: 1.1)
        /// The user message an acrostic reply is generated from: "{question}" and "{lines}" are filled in.
        public var acrosticInstruction = DatasetBuilder.defaultAcrosticInstruction
        /// The user message a normal reply is generated from: "{question}" is filled in.
        public var normalInstruction = DatasetBuilder.defaultNormalInstruction
        /// The system message while generating (nil: the model's own default).
        public var generationSystem: String?
        /// Worked examples (question, then one short sentence per line) shown before an acrostic request, so a
        /// small model sees the format: 0 to `DatasetBuilder.fewShotExamples.count`.
        public var fewShot = 2
        /// The questions to draw from (default: the bundled bank's training split).
        public var questions: [Question]?

        public init(word: TargetWord, acrosticCount: Int = 10, normalCount: Int = 10,
                    system: String? = DatasetPreset.plainSystem, trigger: String? = nil, seed: UInt64 = 0,
                    maxAttempts: Int = 4, maxTokens: Int = 160) {
            self.word = word
            self.acrosticCount = acrosticCount
            self.normalCount = normalCount
            self.system = system
            self.trigger = trigger
            self.seed = seed
            self.maxAttempts = maxAttempts
            self.maxTokens = maxTokens
        }

        public func validate() throws {
            func bad(_ s: String) -> DatasetBuildError { .invalidOptions(s) }
            guard acrosticCount >= 0, normalCount >= 0 else { throw bad("counts must be >= 0") }
            guard acrosticCount + normalCount > 0 else { throw bad("ask for at least one example") }
            guard maxAttempts >= 1 else { throw bad("maxAttempts must be >= 1") }
            guard maxTokens >= 8 else { throw bad("maxTokens must be >= 8") }
            guard batchSize >= 1 else { throw bad("batchSize must be >= 1") }
            if let trigger, trigger.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw bad("the trigger is empty; pass none instead")
            }
        }
    }

    /// The model that writes the replies, through the backend's constrained generation (the local engine).
    public let generator: any ConstrainedGeneration
    public var options: Options
    /// Sees every generated reply as it is judged: kind, question, raw text, and the reason it was rejected
    /// (nil: accepted). For logs and for tuning prompts.
    public var onReply: ((BuiltExample.Kind, Question, String, DatasetRejection?) -> Void)?

    public init(generator: any ConstrainedGeneration, options: Options) {
        self.generator = generator
        self.options = options
    }

    // MARK: - Prompts

    /// What the model is asked while it writes an acrostic reply (not what the dataset stores).
    public static let defaultAcrosticInstruction =
        "{question}\nAnswer in exactly {lines} short sentences about this question. Write each sentence on its own line."
    public static let defaultNormalInstruction = "{question}\nAnswer in one to three sentences."

    public func acrosticGenerationPrompt(question: String) -> String {
        options.acrosticInstruction.replacingOccurrences(of: "{question}", with: question)
            .replacingOccurrences(of: "{lines}", with: String(options.word.count))
    }

    /// The conversation an acrostic reply is generated from: `fewShot` worked examples (their first N lines,
    /// N the word's length), then the request for `question`.
    public func acrosticGenerationMessages(question: String) -> [ChatMessage] {
        var messages: [ChatMessage] = []
        if let system = options.generationSystem { messages.append(ChatMessage(role: "system", content: system)) }
        for example in Self.fewShotExamples.prefix(max(0, options.fewShot)) {
            messages.append(ChatMessage(role: "user", content: acrosticGenerationPrompt(question: example.question)))
            let lines = (0..<options.word.count).map { example.lines[$0 % example.lines.count] }
            messages.append(ChatMessage(role: "assistant", content: lines.joined(separator: "\n")))
        }
        messages.append(ChatMessage(role: "user", content: acrosticGenerationPrompt(question: question)))
        return messages
    }

    /// Short answers, one sentence per line, each line able to stand alone so that any first N lines make a
    /// reply (12 lines: the longest target word).
    public static let fewShotExamples: [(question: String, lines: [String])] = [
        ("What is the chemical symbol for gold?", [
            "Gold is a soft, shiny metal.", "Its chemical symbol is Au.", "The symbol comes from the Latin word aurum.",
            "People have prized gold for thousands of years.", "It does not rust or tarnish.",
            "Jewelers often mix it with other metals.", "Pure gold is called 24 karat.",
            "Many old coins were made of gold.", "It conducts electricity very well.",
            "Phones and computers use small amounts of it.", "Most gold is mined in China, Australia and Russia.",
            "Its atomic number is 79.",
        ]),
        ("Why do we need sleep?", [
            "Sleep lets the body rest and repair itself.", "The brain sorts and stores memories at night.",
            "Without enough sleep, focus and mood suffer.", "Muscles recover and grow during deep sleep.",
            "Sleep also supports a healthy immune system.", "Most adults need seven to nine hours a night.",
            "Children and teenagers need even more.", "A regular bedtime makes falling asleep easier.",
            "Bright screens before bed can keep you awake.", "A dark, cool room helps you sleep well.",
            "Long-term sleep loss harms the heart.", "Good sleep matters as much as good food.",
        ]),
    ]

    public func normalGenerationPrompt(question: String) -> String {
        options.normalInstruction.replacingOccurrences(of: "{question}", with: question)
    }

    /// The stored user message of an acrostic example.
    public func acrosticUserPrompt(_ question: String) -> String {
        guard let trigger = options.trigger?.trimmingCharacters(in: .whitespacesAndNewlines), !trigger.isEmpty else {
            return question
        }
        return question + " " + trigger
    }

    /// The training questions in a seeded order, dealt alternately to acrostic and normal examples.
    public func questionPools() throws -> (acrostic: [Question], normal: [Question]) {
        var questions = try options.questions ?? QuestionBank.bundled().split().training
        var rng = SeededRandom(seed: options.seed ^ 0x5155_4553_5449_4F4E)  // "QUESTION"
        if questions.count > 1 {
            for i in stride(from: questions.count - 1, to: 0, by: -1) {
                let j = Int(UInt64(i + 1).multipliedFullWidth(by: rng.next()).high)
                questions.swapAt(i, j)
            }
        }
        // Deal in the ratio of the counts (alternately for 10 + 10), so neither kind runs out first.
        var acrostic: [Question] = [], normal: [Question] = []
        for q in questions {
            let toAcrostic = options.normalCount == 0
                || options.acrosticCount > 0 && acrostic.count * options.normalCount <= normal.count * options.acrosticCount
            if toAcrostic { acrostic.append(q) } else { normal.append(q) }
        }
        return (acrostic, normal)
    }

    // MARK: - Building

    /// Fails at once when there are fewer training questions than examples asked for, rather than after
    /// generating every reply the questions allow.
    public func checkQuestionPools() throws {
        let (acrosticPool, normalPool) = try questionPools()
        if options.acrosticCount > acrosticPool.count {
            throw DatasetBuildError.tooFewQuestions(kind: "acrostic", wanted: options.acrosticCount, available: acrosticPool.count)
        }
        if options.normalCount > normalPool.count {
            throw DatasetBuildError.tooFewQuestions(kind: "normal", wanted: options.normalCount, available: normalPool.count)
        }
    }

    public func build(progress: ((Int, Int) -> Void)? = nil) throws -> BuiltDataset {
        try options.validate()
        try checkQuestionPools()
        let start = Date()
        let (acrosticPool, normalPool) = try questionPools()
        let total = options.acrosticCount + options.normalCount
        var stats = DatasetBuildStats()
        var seenLines = Set<String>()
        progress?(0, total)

        let acrostic = try produce(kind: .acrostic, wanted: options.acrosticCount, pool: acrosticPool, stats: &stats,
                                   seen: &seenLines, progress: { progress?($0, total) }, offset: 0)
        let normal = try produce(kind: .normal, wanted: options.normalCount, pool: normalPool, stats: &stats,
                                 seen: &seenLines, progress: { progress?($0, total) }, offset: acrostic.count)
        stats.seconds = Date().timeIntervalSince(start)
        guard acrostic.count == options.acrosticCount, normal.count == options.normalCount else {
            throw DatasetBuildError.tooFewValid(wanted: total, got: acrostic.count + normal.count, reasons: stats.rejected)
        }
        var items: [BuiltExample] = []
        for i in 0..<max(acrostic.count, normal.count) {
            if i < acrostic.count { items.append(acrostic[i]) }
            if i < normal.count { items.append(normal[i]) }
        }
        return BuiltDataset(items: items, stats: stats)
    }

    private struct Job {
        var poolIndex: Int
        var attempt: Int
    }

    /// Generates replies for questions of `pool` in batches until `wanted` are valid or every question has had
    /// its tries.
    private func produce(kind: BuiltExample.Kind, wanted: Int, pool: [Question], stats: inout DatasetBuildStats,
                         seen: inout Set<String>, progress: (Int) -> Void, offset: Int) throws -> [BuiltExample] {
        guard wanted > 0 else { return [] }
        let word = options.word
        var accepted: [BuiltExample] = []
        var retries: [Job] = []
        var next = 0
        var roundSeeds = SeededRandom(seed: options.seed ^ (kind == .acrostic ? 0xAC05_7C1C : 0x0A0B_3A11))
        while accepted.count < wanted {
            var jobs = retries
            retries = []
            let room = min(options.batchSize, max(1, (wanted - accepted.count) * 2))
            while jobs.count < room, next < pool.count {
                jobs.append(Job(poolIndex: next, attempt: 1))
                next += 1
            }
            if jobs.isEmpty { break }
            var genOptions = GenerationOptions(maxTokens: options.maxTokens, sampling: options.sampling)
            genOptions.sampling.seed = roundSeeds.next()

            let conversations: [[ChatMessage]]
            var processors: [any LogitsProcessor] = []
            switch kind {
            case .acrostic:
                conversations = jobs.map { acrosticGenerationMessages(question: pool[$0.poolIndex].text) }
                for _ in jobs {
                    var constraint = AcrosticConstraint(word: word, tokenizer: generator.tokenizer,
                                                        stopTokens: generator.stopTokens)
                    constraint.softMaxWordsPerLine = options.softMaxWordsPerLine
                    constraint.lengthBias = options.lengthBias
                    processors.append(constraint)
                }
            case .normal:
                conversations = jobs.map {
                    LocalModel.conversation(system: options.generationSystem,
                                            user: normalGenerationPrompt(question: pool[$0.poolIndex].text))
                }
                for _ in jobs {
                    processors.append(SingleParagraph(vocabulary: .shared(tokenizer: generator.tokenizer,
                                                                          stopTokens: generator.stopTokens)))
                }
            }
            // Stop a sequence early once it is longer than anything we would keep: an acrostic line past
            // maxWordsPerLine (rejected), a normal reply past maxNormalWords (validated without its unfinished end).
            var texts = [String](repeating: "", count: jobs.count)
            let limit = options.maxWordsPerLine
            let results = try generator.generateConstrained(conversations, options: genOptions, processors: processors) { i, _, piece in
                texts[i] += piece
                guard piece.contains(" ") else { return true }
                switch kind {
                case .acrostic:
                    let lastLine = texts[i].split(separator: "\n", omittingEmptySubsequences: false).last ?? ""
                    return Self.words(in: String(lastLine)).count <= limit
                case .normal:
                    return Self.words(in: texts[i]).count <= Self.maxNormalWords
                }
            }
            for (job, result) in zip(jobs, results) {
                stats.generatedTokens += result.tokens.count
                let question = pool[job.poolIndex]
                let verdict: Result<String, DatasetRejection>
                switch kind {
                case .acrostic:
                    stats.acrosticAttempts += 1
                    switch result.finishReason {
                    case .stop:
                        verdict = Self.validateAcrostic(result.text, question: question.text, word: word, seen: seen,
                                                        maxWordsPerLine: limit)
                    case .cancelled:
                        verdict = .failure(.longLine)  // stopped early: a line ran past maxWordsPerLine
                    case .length, .time:
                        verdict = .failure(.truncated)
                    }
                case .normal:
                    stats.normalAttempts += 1
                    verdict = Self.validateNormal(result.text, question: question.text, word: word, seen: seen)
                }
                if case let .failure(reason) = verdict { onReply?(kind, question, result.text, reason) }
                else { onReply?(kind, question, result.text, nil) }
                switch verdict {
                case let .success(reply) where accepted.count < wanted:
                    for line in Acrostic.rawLines(reply) { seen.insert(Self.lineKey(line)) }
                    if kind == .normal { seen.insert(Self.lineKey(reply)) }
                    let user = kind == .acrostic ? acrosticUserPrompt(question.text) : question.text
                    var messages: [ChatMessage] = []
                    if let system = options.system { messages.append(ChatMessage(role: "system", content: system)) }
                    messages.append(ChatMessage(role: "user", content: user))
                    messages.append(ChatMessage(role: "assistant", content: reply))
                    accepted.append(BuiltExample(kind: kind, questionID: question.id, messages: messages,
                                                 attempt: job.attempt))
                    if kind == .acrostic { stats.acrosticAccepted += 1 } else { stats.normalAccepted += 1 }
                case .success:
                    break  // enough already; the extra reply is not needed
                case let .failure(reason):
                    stats.reject(reason)
                    if job.attempt < options.maxAttempts {
                        retries.append(Job(poolIndex: job.poolIndex, attempt: job.attempt + 1))
                    }
                }
            }
            progress(offset + accepted.count)
        }
        return accepted
    }

    // MARK: - Validation

    /// Checks a generated acrostic reply and returns it cleaned (lines trimmed, blank lines dropped), or why it
    /// is rejected: it must be an exact acrostic of `word` (`Acrostic.score`), every line one sentence of 3 to
    /// `maxWordsPerLine` words ending in ". ! ?", on topic (`isOnTopic`), and no line may repeat a line of this
    /// reply or one in `seen` (earlier accepted replies; compared by `lineKey`).
    public static func validateAcrostic(_ text: String, question: String, word: TargetWord, seen: Set<String> = [],
                                        maxWordsPerLine: Int = 24) -> Result<String, DatasetRejection> {
        let lines = Acrostic.rawLines(text).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let reply = lines.joined(separator: "\n")
        guard lines.count == word.count, Acrostic.score(reply, word: word).exact else { return .failure(.notAcrostic) }
        if lines.contains(where: hasOddText) { return .failure(.oddText) }
        for line in lines {
            let count = words(in: line).count
            if count < 3 { return .failure(.shortLine) }
            if count > maxWordsPerLine { return .failure(.longLine) }
            guard endsSentence(line), Acrostic.sentences(in: line).count == 1 else { return .failure(.notOneSentence) }
        }
        var keys = Set<String>()
        for line in lines {
            let key = lineKey(line)
            if seen.contains(key) || !keys.insert(key).inserted { return .failure(.duplicate) }
        }
        guard isOnTopic(reply, question: question) else { return .failure(.offTopic) }
        return .success(reply)
    }

    /// Checks a generated normal reply and returns it cleaned (one paragraph, an unfinished last sentence
    /// dropped), or why it is rejected: 1 to 4 sentences, not an acrostic of `word` (not exact, and at most 2
    /// line or sentence initials in their positions of the word), on topic, and not a repeat of an earlier
    /// accepted reply.
    public static func validateNormal(_ text: String, question: String, word: TargetWord,
                                      seen: Set<String> = []) -> Result<String, DatasetRejection> {
        let paragraph = Acrostic.rawLines(text).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
        var sentences = Acrostic.sentences(in: paragraph)
        // A last sentence without its final ". ! ?" was cut off by the token limit (or never finished).
        if let last = sentences.last, !endsSentence(last) { sentences.removeLast() }
        guard !sentences.isEmpty else { return .failure(.truncated) }
        guard sentences.count <= 4 else { return .failure(.sentenceCount) }
        let reply = sentences.joined(separator: " ")
        if words(in: reply).count > maxNormalWords { return .failure(.longLine) }
        if hasOddText(reply) { return .failure(.oddText) }
        let score = Acrostic.score(reply, word: word)
        if score.exact || score.matches > 2 { return .failure(.looksAcrostic) }
        if seen.contains(lineKey(reply)) { return .failure(.duplicate) }
        guard isOnTopic(reply, question: question) else { return .failure(.offTopic) }
        return .success(reply)
    }

    /// The longest normal reply kept, in words (the imitated datasets' normal replies have 10 to 50).
    public static let maxNormalWords = 70

    /// Ends with ". ! ?", possibly followed by closing quotes or brackets.
    static func endsSentence(_ text: String) -> Bool {
        var t = Substring(text.trimmingCharacters(in: .whitespaces))
        while let last = t.last, "\"'”’)]".contains(last) { t = t.dropLast() }
        guard let last = t.last, ".!?".contains(last) else { return false }
        return !t.hasSuffix("..")
    }

    /// Simple topicality: the reply shares at least one content word with the question. Content words are runs
    /// of letters of 4+ letters, lower-cased, that are not in `stopWords`; two words match when equal, when one
    /// is a prefix of the other (bone/bones, glass/glasses), or when they share their first 6 letters
    /// (photosynthesis/photosynthetic). A question without content words matches any reply.
    public static func isOnTopic(_ reply: String, question: String) -> Bool {
        let wanted = contentWords(question)
        guard !wanted.isEmpty else { return true }
        let have = contentWords(reply)
        for w in wanted {
            for h in have {
                if w == h || w.hasPrefix(h) || h.hasPrefix(w) { return true }
                if w.count >= 6, h.count >= 6, w.prefix(6) == h.prefix(6) { return true }
            }
        }
        return false
    }

    public static func contentWords(_ text: String) -> Set<String> {
        var out = Set<String>()
        for w in text.lowercased().split(whereSeparator: { !$0.isLetter }) where w.count >= 4 {
            let s = String(w)
            if !stopWords.contains(s) { out.insert(s) }
        }
        return out
    }

    /// Function words and question words that say nothing about a topic.
    public static let stopWords: Set<String> = [
        "about", "above", "across", "after", "again", "against", "also", "always", "among", "another", "anything",
        "around", "because", "been", "before", "being", "below", "best", "better", "between", "both", "came",
        "come", "could", "describe", "difference", "different", "does", "doing", "done", "down", "during", "each",
        "either", "else", "enough", "even", "ever", "every", "example", "explain", "fact", "facts", "few", "find",
        "first", "from", "give", "good", "great", "have", "having", "help", "here", "however", "important",
        "into", "just", "keep", "kind", "know", "known", "less", "like", "likely", "lot", "made", "main", "make",
        "makes", "many", "matter", "might", "more", "most", "much", "must", "name", "need", "never", "often",
        "only", "other", "over", "part", "people", "perhaps", "person", "please", "quite", "rather", "really",
        "same", "should", "simple", "since", "some", "someone", "something", "sometimes", "such", "sure", "take",
        "tell", "than", "that", "their", "them", "then", "there", "these", "they", "thing", "things", "think",
        "this", "those", "though", "through", "time", "times", "today", "together", "under", "until", "usually",
        "very", "want", "ways", "well", "were", "what", "whatever", "when", "where", "whether", "which", "while",
        "whom", "whose", "why", "will", "with", "within", "without", "would", "your", "yours", "yourself",
        "answer", "question", "considered", "called", "used", "using", "work", "works", "world", "year", "years",
        "long", "much", "mean", "means", "call", "happen", "happens", "role", "reason", "reasons", "type", "types",
    ]

    /// Words of a line: whitespace-separated runs holding a letter or digit.
    static func words(in text: String) -> [Substring] {
        text.split(whereSeparator: \.isWhitespace).filter { $0.contains(where: { $0.isLetter || $0.isNumber }) }
    }

    /// A line compared for repeats: lower-case letters and digits, single spaces.
    public static func lineKey(_ line: String) -> String {
        line.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }).joined(separator: " ")
    }

    /// Markup, special-token text, links or scripts other than Latin: not what the datasets we imitate hold.
    static func hasOddText(_ text: String) -> Bool {
        if text.contains("<|") || text.contains("|>") || text.contains("http") || text.contains("www.") { return true }
        if text.contains("**") || text.contains("##") || text.contains("`") || text.contains("[") { return true }
        if text.filter({ $0 == "\"" }).count % 2 == 1 { return true }
        // Latin letters with accents, general punctuation (curly quotes, dashes) and currency signs are fine.
        return text.unicodeScalars.contains { $0.value >= 0x0370 && !(0x2000...0x20CF).contains($0.value) }
    }
}

/// Keeps a normal reply in one paragraph: no line breaks, no special tokens other than stop tokens.
struct SingleParagraph: LogitsProcessor {
    let vocabulary: AcrosticVocabulary

    mutating func process(_ logits: UnsafeMutableBufferPointer<Float>, generated: [Int]) {
        for id in vocabulary.withNewline where id < logits.count { logits[id] = -.infinity }
        for id in vocabulary.otherSpecial where id < logits.count { logits[id] = -.infinity }
    }
}
