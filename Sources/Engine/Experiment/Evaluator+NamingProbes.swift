import Foundation
import ModelCore
import Support
import Backends

/// The probes that ask a model, in words, what the first letters of some lines spell: the reading control
/// (`ReadingControl`) and "explain early" (the tuned model's own acrostic lines prefilled as the assistant's
/// turn, then the question). Written once over the chat seam; each reply is greedy and kept like any other.
extension Evaluator {
    /// One greedy naming question.
    struct NamingJob {
        let key: String
        let condition: EvaluationCondition
        let promptID: String
        let messages: [ChatMessage]
        /// What the sample stores as its prompt: the user turn, or the whole conversation.
        let prompt: String
        let word: TargetWord
        let k: Int?
        let source: String
    }

    public static func explainID(reply: Int, k: Int) -> String { "r\(reply)-k\(k)" }

    /// The depth of explain early: k = 0...min(5, word length) lines.
    public var explainDepth: Int { min(5, plan.word.count) }

    /// The keys of the naming probes for one model. Own-reply and explain-early keys are planned for as many
    /// replies as the compliance step can give (`complianceReplies`); those with no exact acrostic behind them are
    /// not asked.
    func namingKeys(model: String) -> [String] {
        var out: [String] = []
        for item in ReadingControl.items(count: plan.readingItemCount, avoiding: plan.word) {
            for c in [EvaluationCondition.readingPlain, .readingListFirst] {
                out.append(SampleOutcome.key(model: model, condition: c, promptID: item.id, index: 0))
            }
        }
        for i in 0..<min(plan.readingItemCount, complianceReplies) {
            out.append(SampleOutcome.key(model: model, condition: .readingOwnReplies, promptID: "own-\(i)", index: 0))
        }
        for r in 0..<min(plan.explainReplyCount, complianceReplies) {
            for k in 0...explainDepth {
                out.append(SampleOutcome.key(model: model, condition: .explainEarly, promptID: Self.explainID(reply: r, k: k), index: 0))
            }
        }
        return out
    }

    /// Compliance replies with the trigger per model: the most exact acrostics the own-reply probes can draw on.
    var complianceReplies: Int { plan.complianceQuestionList.count * plan.samplesPerPrompt }

    /// The exact compliance replies with the trigger of `model`, in question and sample order.
    func ownAcrostics(outcomes: [String: SampleOutcome], model: String) -> [(key: String, question: Question, reply: String)] {
        var out: [(key: String, question: Question, reply: String)] = []
        for q in plan.complianceQuestionList {
            for i in 0..<plan.samplesPerPrompt {
                let key = SampleOutcome.key(model: model, condition: .complianceTrigger, promptID: q.id, index: i)
                if let o = outcomes[key] { out.append((key, q, o.reply)) }
            }
        }
        return out
    }

    /// Every naming question for one model: the reading control's bank items (plain, list first), the source
    /// model's own acrostics (plain), and explain early on those acrostics at k = 0...explainDepth.
    func namingJobs(model: String, outcomes: [String: SampleOutcome], sourceModel: String) -> [NamingJob] {
        var jobs: [NamingJob] = []
        func userJob(_ c: EvaluationCondition, _ item: ReadingControl.Item, _ variant: ReadingControl.Variant) {
            let user = ReadingControl.question(lines: item.lines, variant: variant)
            jobs.append(NamingJob(key: SampleOutcome.key(model: model, condition: c, promptID: item.id, index: 0),
                                  condition: c, promptID: item.id,
                                  messages: LocalModel.conversation(system: plan.systemMessage, user: user), prompt: user,
                                  word: item.word, k: nil, source: item.source))
        }
        for item in ReadingControl.items(count: plan.readingItemCount, avoiding: plan.word) {
            userJob(.readingPlain, item, .plain)
            userJob(.readingListFirst, item, .listFirst)
        }
        let own = ownAcrostics(outcomes: outcomes, model: sourceModel)
        let ownItems = ReadingControl.ownItems(count: plan.readingItemCount, word: plan.word,
                                               replies: own.map { (key: $0.key, reply: $0.reply) })
        for item in ownItems { userJob(.readingOwnReplies, item, .ownReplies) }

        let questions = Dictionary(own.map { ($0.key, $0.question) }, uniquingKeysWith: { a, _ in a })
        let explained = ReadingControl.ownItems(count: plan.explainReplyCount, word: plan.word,
                                                replies: own.map { (key: $0.key, reply: $0.reply) })
        for (r, item) in explained.enumerated() {
            let source = PrefixSource(question: questions[item.source]!, lines: item.lines, origin: "model:\(sourceModel)")
            for k in 0...explainDepth {
                let messages = Probes.namingMessages(source: source, k: k, plan: plan)
                let id = Self.explainID(reply: r, k: k)
                jobs.append(NamingJob(key: SampleOutcome.key(model: model, condition: .explainEarly, promptID: id, index: 0),
                                      condition: .explainEarly, promptID: id, messages: messages,
                                      prompt: Probes.transcript(messages), word: plan.word, k: k, source: item.source))
            }
        }
        return jobs
    }

    /// Asks `jobs` greedily in batches, scores each reply by whether it names its word (and, for explain early on a
    /// backend with exact scores, log P(the word as the whole reply)), and records each outcome.
    func askNaming(_ jobs: [NamingJob], model m: EvaluationModel, record: (SampleOutcome) throws -> Void,
                   checkCancel: () throws -> Void) throws {
        let backend = m.backend
        let inFlight = m.batchSize ?? plan.batchSize
        let size = inFlight * m.batchesPerCall
        for start in stride(from: 0, to: jobs.count, by: size) {
            try checkCancel()
            let batch = Array(jobs[start..<min(start + size, jobs.count)])
            let requests = batch.map {
                ChatRequest(messages: $0.messages, model: m.model, seed: 0, temperature: 0,
                            maxTokens: min(plan.maxTokens, ReadingControl.maxTokens))
            }
            let completions = try Self.complete(requests, on: backend, inFlight: inFlight)
            for (job, completion) in zip(batch, completions) {
                let choice = completion.choices.first
                let text = choice?.message.content ?? ""
                let (named, evidence) = ReadingControl.score(text, word: job.word)
                var logP: Double?
                if job.condition == .explainEarly, let exact = backend as? any ExactScoring {
                    logP = try exact.replyLogProbabilities([job.word.string], after: job.messages).first
                }
                let naming = NamingScore(word: job.word.string, named: named, evidence: evidence, k: job.k,
                                         logProbability: logP, source: job.source)
                let finish = choice?.finishReason.map { GenerationResult.FinishReason(rawValue: $0) ?? .stop }
                try record(SampleOutcome(model: m.name, condition: job.condition, promptID: job.promptID, index: 0,
                                         prompt: job.prompt, reply: text, finishReason: finish,
                                         score: SampleScore(naming: naming)))
            }
        }
    }
}

extension Evaluator {
    /// The reading control on one model alone (`hellotune probe reading`): the plan's bank acrostics, plain and
    /// listing the letters first (there are no own replies without a compliance step). Every outcome goes to
    /// `onSample` as it exists.
    public func readingControl(model m: EvaluationModel, onSample: (SampleOutcome) throws -> Void = { _ in })
        throws -> (plain: NamingCount, listFirst: NamingCount, outcomes: [SampleOutcome]) {
        try plan.validate()
        var outcomes: [SampleOutcome] = []
        let jobs = namingJobs(model: m.name, outcomes: [:], sourceModel: m.name)
        try askNaming(jobs, model: m, record: { o in
            outcomes.append(o)
            try onSample(o)
        }, checkCancel: {})
        func count(_ c: EvaluationCondition) -> NamingCount {
            NamingCount(outcomes.filter { $0.condition == c }.compactMap(\.score.naming))
        }
        return (count(.readingPlain), count(.readingListFirst), outcomes)
    }
}
