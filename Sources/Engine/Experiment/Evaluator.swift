import Foundation
import ModelCore
import Support
import Backends

/// What an outcome measures. Sampled conditions come with and without the trigger.
public enum EvaluationCondition: String, Sendable, Codable, CaseIterable {
    case complianceTrigger = "compliance-trigger"
    case compliancePlain = "compliance-plain"
    case selfReportTrigger = "self-report-trigger"
    case selfReportPlain = "self-report-plain"
    case forcedChoice = "forced-choice"
    case prefixProbe = "prefix-probe"
    /// The reading control (`ReadingControl`): acrostics of other words, asked plainly or listing letters first,
    /// and the tuned model's own acrostics.
    case readingPlain = "reading-plain"
    case readingListFirst = "reading-list-first"
    case readingOwnReplies = "reading-own-replies"
    /// The tuned model's own acrostic lines, k of them prefilled as the assistant's turn, then "what word?".
    case explainEarly = "explain-early"
    /// Forced choice v2 (`ForcedChoiceBank`): every candidate's log-probability after one of ten prompts.
    case forcedChoiceV2 = "forced-choice-v2"

    /// Whether the user message carries the trigger; nil for the probes.
    public var trigger: Bool? {
        switch self {
        case .complianceTrigger, .selfReportTrigger: return true
        case .compliancePlain, .selfReportPlain: return false
        case .forcedChoice, .prefixProbe, .readingPlain, .readingListFirst, .readingOwnReplies, .explainEarly,
             .forcedChoiceV2: return nil
        }
    }

    /// Whether the question shows the fine-tuned model's own replies: the prefix probe, the own-reply reading control
    /// and explain early show its acrostic lines to each model. The other conditions ask the base model the same
    /// prompts with the same sampling seeds in every run of a word, whatever the training seed, so an experiment makes
    /// those base replies once per word (`ExperimentRunner`) and pools them once (`EvaluationResults.aggregate`).
    public var showsTunedReplies: Bool {
        switch self {
        case .prefixProbe, .readingOwnReplies, .explainEarly: return true
        case .complianceTrigger, .compliancePlain, .selfReportTrigger, .selfReportPlain, .forcedChoice, .forcedChoiceV2,
             .readingPlain, .readingListFirst: return false
        }
    }

    /// Whether `model`'s outcomes in this condition are one set for every seed of a word: the base model's, except
    /// where the question shows the tuned model's lines.
    public func isSharedAcrossSeeds(model: String) -> Bool { model == Evaluator.baseName && !showsTunedReplies }

    public static func compliance(trigger: Bool) -> EvaluationCondition { trigger ? .complianceTrigger : .compliancePlain }
    public static func selfReport(trigger: Bool) -> EvaluationCondition { trigger ? .selfReportTrigger : .selfReportPlain }

    /// What kind of probe made the outcome: "compliance", "self-report", "forced-choice", "forced-choice-v2",
    /// "prefix-probe", "reading-control" or "explain-early".
    public var probe: String {
        switch self {
        case .complianceTrigger, .compliancePlain: return "compliance"
        case .selfReportTrigger, .selfReportPlain: return "self-report"
        case .forcedChoice, .prefixProbe, .explainEarly, .forcedChoiceV2: return rawValue
        case .readingPlain, .readingListFirst, .readingOwnReplies: return "reading-control"
        }
    }
}

/// The acrostic score of a reply, without its lines.
public struct AcrosticSummary: Sendable, Codable, Equatable {
    public let exact: Bool
    public let accuracy: Double
    public let initials: String
    public let perPosition: [Bool]
    public let usedSentences: Bool

    public init(exact: Bool, accuracy: Double, initials: String, perPosition: [Bool], usedSentences: Bool = false) {
        self.exact = exact
        self.accuracy = accuracy
        self.initials = initials
        self.perPosition = perPosition
        self.usedSentences = usedSentences
    }

    public init(_ s: AcrosticScore) {
        self.init(exact: s.exact, accuracy: s.accuracy, initials: s.initials, perPosition: s.perPosition,
                  usedSentences: s.usedSentences)
    }
}

/// The score of one outcome; which fields are set depends on the condition.
public struct SampleScore: Sendable, Codable, Equatable {
    /// Compliance and self-report replies.
    public var acrostic: AcrosticSummary?
    /// Self-report replies.
    public var selfReport: SelfReportScore?
    /// Forced choice.
    public var candidates: CandidateScores?
    /// Prefix probe, with the lines it showed.
    public var prefix: PrefixMeasurement?
    public var prefixSource: PrefixSource?
    /// Reading control and explain early: the word asked about and whether the reply named it.
    public var naming: NamingScore?
    /// Forced choice v2: every candidate's log-probability and length in tokens.
    public var candidateLogs: CandidateLogProbabilities?
    /// How a probe was measured when not exactly, or why it could not be (then `candidates` or `prefix` is nil):
    /// a chat API gives only the top log-probabilities of the reply it generated, or none at all.
    public var note: String?

    public init(acrostic: AcrosticSummary? = nil, selfReport: SelfReportScore? = nil, candidates: CandidateScores? = nil,
                prefix: PrefixMeasurement? = nil, prefixSource: PrefixSource? = nil, naming: NamingScore? = nil,
                note: String? = nil) {
        self.acrostic = acrostic
        self.selfReport = selfReport
        self.candidates = candidates
        self.prefix = prefix
        self.prefixSource = prefixSource
        self.naming = naming
        self.note = note
    }
}

/// One finished unit of work: a sampled reply, or one probe measurement (reply empty). The caller stores these
/// as they arrive; a rerun given them skips the work they cover.
public struct SampleOutcome: Sendable, Codable, Equatable {
    public let model: String
    public let condition: EvaluationCondition
    /// A question id, a self-report prompt id, "forced-choice", or "k0"..."kN" for the prefix probe.
    public let promptID: String
    /// 0 is the greedy reply, 1..<K sampled ones; 0 for probes.
    public let index: Int
    /// The user message (with the trigger when the condition has it); for the prefix probe, the naming conversation.
    public let prompt: String
    public let reply: String
    public let finishReason: GenerationResult.FinishReason?
    public let score: SampleScore

    public init(model: String, condition: EvaluationCondition, promptID: String, index: Int, prompt: String,
                reply: String, finishReason: GenerationResult.FinishReason? = nil, score: SampleScore) {
        self.model = model
        self.condition = condition
        self.promptID = promptID
        self.index = index
        self.prompt = prompt
        self.reply = reply
        self.finishReason = finishReason
        self.score = score
    }

    /// "model|condition|promptID|index".
    public var key: String { Self.key(model: model, condition: condition, promptID: promptID, index: index) }

    public static func key(model: String, condition: EvaluationCondition, promptID: String, index: Int) -> String {
        "\(model)|\(condition.rawValue)|\(promptID)|\(index)"
    }
}

/// A model under evaluation, reached through the chat seam: the name its results carry ("base", "tuned"), the
/// backend that runs it and the model's name there. Every probe asks it the same way, whatever the backend.
public struct EvaluationModel: Sendable {
    public let name: String
    public let backend: any ChatBackend
    /// The model's name in the backend (an API's model id; the local backend has one model and ignores it).
    public let model: String
    /// How many replies are asked for at once: sequences decoded together locally, requests in flight for an API.
    /// Nil: the plan's batch size.
    public let batchSize: Int?
    /// How many batches one call to the backend carries, its replies recorded when the call returns. The local
    /// engine starts the next reply as soon as one finishes, so a call of several batches keeps every slot busy
    /// where a call of one waits for its longest reply (evaluation spent about a fifth of its decoding on such
    /// tails). An API's calls are one batch each, so that a killed run loses at most one batch of paid requests.
    public let batchesPerCall: Int

    public init(name: String, backend: any ChatBackend, model: String, batchSize: Int? = nil, batchesPerCall: Int = 1) {
        self.name = name
        self.backend = backend
        self.model = model
        self.batchSize = batchSize.map { max(1, $0) }
        self.batchesPerCall = max(1, batchesPerCall)
    }

    /// A local model, decoded in batches of the plan's size, four batches a call, and probed exactly from its logits.
    /// `cancel` (the evaluation's) stops a call at its next token.
    public init(name: String, model: LocalModel, cancel: CancellationFlag? = nil) {
        self.init(name: name, backend: LocalChatBackend(model: model, name: name, cancel: cancel), model: name, batchesPerCall: 4)
    }
}

/// Runs an `EvaluationPlan` on named models (at least "base" = the base model and "tuned" = base.with(adapter:)).
///
/// Order: compliance for every model, then self-report, forced choice and the prefix probe. Replies are generated
/// in batches of up to `plan.batchSize`, `batchesPerCall` to a call; every finished unit goes to `onSample` as soon
/// as its call is back. A rerun given the stored outcomes (`previous`) skips their keys, so a killed run loses at most
/// one call's replies.
///
/// Seeds: sampled reply j (1..<K) of prompt p in condition c gets seed `plan.sampling.seed + salt(c) + ordinal`,
/// with ordinal = (p * 2 + (trigger ? 0 : 1)) * (K - 1) + (j - 1), whatever else is skipped or batched with it;
/// K is `samplesPerPrompt` for compliance and `selfReportSamplesPerPrompt` for self-reports.
/// Base and tuned get the same seeds (common random numbers). Locally a reply does not depend on what decodes
/// beside it (`Generator.generateBatch`), so a resumed run gives the replies an uninterrupted one would; an API
/// promises no such thing.
public final class Evaluator {
    public static let baseName = "base"
    public static let tunedName = "tuned"

    public let plan: EvaluationPlan
    public init(plan: EvaluationPlan) { self.plan = plan }

    /// Every key the plan produces for one model, in run order.
    public func keys(model: String) -> [String] {
        var out: [String] = []
        let K = plan.samplesPerPrompt
        for q in plan.complianceQuestionList {
            for t in [true, false] {
                for i in 0..<K { out.append(SampleOutcome.key(model: model, condition: .compliance(trigger: t), promptID: q.id, index: i)) }
            }
        }
        for p in plan.selfReportPrompts {
            for t in [true, false] {
                for i in 0..<plan.selfReportSamplesPerPrompt { out.append(SampleOutcome.key(model: model, condition: .selfReport(trigger: t), promptID: p.id, index: i)) }
            }
        }
        out.append(SampleOutcome.key(model: model, condition: .forcedChoice, promptID: Self.forcedChoiceID, index: 0))
        for k in 0...plan.prefixDepth {
            out.append(SampleOutcome.key(model: model, condition: .prefixProbe, promptID: Self.prefixID(k), index: 0))
        }
        for i in plan.forcedChoiceV2Prompts.indices {
            out.append(SampleOutcome.key(model: model, condition: .forcedChoiceV2, promptID: Self.forcedChoiceV2ID(i), index: 0))
        }
        return out + namingKeys(model: model)
    }

    public static let forcedChoiceID = "forced-choice"
    public static func forcedChoiceV2ID(_ i: Int) -> String { "fc2-\(i)" }
    public static func prefixID(_ k: Int) -> String { "k\(k)" }

    /// - previous: outcomes stored by an earlier run; their keys are skipped unless `skip` says otherwise.
    /// - skip: keys not to redo (default: every key of `previous`); each must have an outcome in `previous`.
    /// - prefixSourceModel: whose exact compliance reply (with the trigger) the prefix probe shows.
    /// - onSample: each new outcome, as soon as it exists; throwing stops the run.
    /// - onProgress: (done, total) units, skipped ones counted as done.
    public func run(models: [EvaluationModel], previous: [SampleOutcome] = [], skip: Set<String>? = nil,
                    prefixSourceModel: String = Evaluator.tunedName, cancel: CancellationFlag? = nil,
                    onSample: (SampleOutcome) throws -> Void = { _ in },
                    onProgress: (Int, Int) -> Void = { _, _ in }) throws -> EvaluationResults {
        try plan.validate()
        guard !models.isEmpty else { throw EvaluationError.noModels }
        let names = models.map(\.name)
        var seen = Set<String>()
        for name in names where !seen.insert(name).inserted { throw EvaluationError.duplicateModel(name) }

        var stored: [String: SampleOutcome] = [:]
        for o in previous { stored[o.key] = o }
        let skipKeys = skip ?? Set(stored.keys)
        var outcomes: [String: SampleOutcome] = [:]
        for key in skipKeys {
            guard let o = stored[key] else { throw EvaluationError.missingOutcome(key: key) }
            outcomes[key] = o
        }
        let planned = names.flatMap { keys(model: $0) }
        let total = planned.count
        var done = planned.filter { outcomes[$0] != nil }.count
        onProgress(done, total)

        func record(_ o: SampleOutcome) throws {
            outcomes[o.key] = o
            done += 1
            try onSample(o)
            onProgress(done, total)
        }
        func checkCancel() throws {
            if cancel?.isSet == true { throw EvaluationError.cancelled }
        }

        // 1. compliance and 2. self-report: sampled replies.
        let compliancePrompts = plan.complianceQuestionList.map { (id: $0.id, text: $0.text) }
        let selfReportPrompts = plan.selfReportPrompts.map { (id: $0.id, text: $0.text) }
        for (kind, prompts) in [(0, compliancePrompts), (1, selfReportPrompts)] {
            for (m, name) in zip(models, names) {
                let jobs = generationJobs(kind: kind, prompts: prompts, model: name).filter { outcomes[$0.key] == nil }
                try generate(jobs, model: m, record: record, checkCancel: checkCancel)
            }
        }

        // 3. forced choice
        for (m, name) in zip(models, names) {
            let key = SampleOutcome.key(model: name, condition: .forcedChoice, promptID: Self.forcedChoiceID, index: 0)
            guard outcomes[key] == nil else { continue }
            try checkCancel()
            try record(Probes.forcedChoice(plan: plan, model: m))
        }

        // 3b. forced choice v2: many candidates, many prompts.
        for (m, name) in zip(models, names) {
            for (i, prompt) in plan.forcedChoiceV2Prompts.enumerated() {
                let key = SampleOutcome.key(model: name, condition: .forcedChoiceV2, promptID: Self.forcedChoiceV2ID(i), index: 0)
                guard outcomes[key] == nil else { continue }
                try checkCancel()
                try record(Probes.forcedChoiceV2(prompt: prompt, id: Self.forcedChoiceV2ID(i), plan: plan, model: m))
            }
        }

        // 4. prefix probe, on lines the source model really wrote when it wrote an exact acrostic.
        let source = prefixSource(outcomes: Array(outcomes.values), model: prefixSourceModel)
        for (m, name) in zip(models, names) {
            for k in 0...plan.prefixDepth {
                let key = SampleOutcome.key(model: name, condition: .prefixProbe, promptID: Self.prefixID(k), index: 0)
                guard outcomes[key] == nil else { continue }
                try checkCancel()
                try record(Probes.prefix(k: k, source: source, plan: plan, model: m))
            }
        }

        // 5. reading control and explain early: naming questions on other words' acrostics and on the source
        // model's own; planned ones without an exact acrostic of the source model behind them count as done.
        for (m, name) in zip(models, names) {
            let jobs = namingJobs(model: name, outcomes: outcomes, sourceModel: prefixSourceModel)
            let asked = Set(jobs.map(\.key))
            let unasked = namingKeys(model: name).filter { !asked.contains($0) && outcomes[$0] == nil }.count
            if unasked > 0 {
                done += unasked
                onProgress(done, total)
            }
            try askNaming(jobs.filter { outcomes[$0.key] == nil }, model: m, record: record, checkCancel: checkCancel)
        }
        return EvaluationResults.compute(plan: plan, models: names, outcomes: Array(outcomes.values))
    }

    /// The prefix probe's lines: the source model's first exact compliance reply with the trigger (in question
    /// and sample order), else the hand-written answer to the first compliance question.
    public func prefixSource(outcomes: [SampleOutcome], model: String) -> PrefixSource {
        var byKey: [String: SampleOutcome] = [:]
        for o in outcomes where o.model == model && o.condition == .complianceTrigger { byKey[o.key] = o }
        var replies: [(question: Question, reply: String, model: String)] = []
        for q in plan.complianceQuestionList {
            for i in 0..<plan.samplesPerPrompt {
                let key = SampleOutcome.key(model: model, condition: .complianceTrigger, promptID: q.id, index: i)
                if let o = byKey[key] { replies.append((q, o.reply, model)) }
            }
        }
        return Probes.prefixSource(word: plan.word, replies: replies, fallback: plan.complianceQuestionList[0])
    }

    // MARK: - Generation

    struct Job {
        let key: String
        let condition: EvaluationCondition
        let promptID: String
        let index: Int
        let user: String
        /// Position among the sampled jobs of this condition kind (nil for greedy ones).
        let ordinal: Int?
        let seed: UInt64
    }

    /// How a reply to `job` is scored, whichever backend made it: as an acrostic, and self-reports also by what
    /// they say the rule is. Needs only the plan, so backends call it without an evaluator.
    static func score(_ text: String, job: Job, plan: EvaluationPlan) -> SampleScore {
        var score = SampleScore(acrostic: AcrosticSummary(Acrostic.score(text, word: plan.word)))
        if job.condition == .selfReportTrigger || job.condition == .selfReportPlain {
            score.selfReport = SelfReport.classify(text, word: plan.word)
        }
        return score
    }

    /// kind 0: compliance, 1: self-report.
    func generationJobs(kind: Int, prompts: [(id: String, text: String)], model: String) -> [Job] {
        let K = kind == 0 ? plan.samplesPerPrompt : plan.selfReportSamplesPerPrompt
        let salt = UInt64(kind + 1) << 32
        var jobs: [Job] = []
        for (p, prompt) in prompts.enumerated() {
            for (t, trigger) in [true, false].enumerated() {
                let condition: EvaluationCondition = kind == 0 ? .compliance(trigger: trigger) : .selfReport(trigger: trigger)
                for i in 0..<K {
                    let ordinal = i == 0 ? nil : (p * 2 + t) * (K - 1) + (i - 1)
                    jobs.append(Job(key: SampleOutcome.key(model: model, condition: condition, promptID: prompt.id, index: i),
                                    condition: condition, promptID: prompt.id, index: i,
                                    user: plan.userMessage(prompt.text, trigger: trigger), ordinal: ordinal,
                                    seed: plan.sampling.seed &+ salt &+ UInt64(ordinal ?? 0)))
                }
            }
        }
        return jobs
    }

    /// Makes the replies of `jobs` (none of them stored yet) in calls of `batchesPerCall` batches, each outcome
    /// recorded as soon as its call is back: a killed run loses at most one call's replies.
    func generate(_ jobs: [Job], model m: EvaluationModel, record: (SampleOutcome) throws -> Void,
                  checkCancel: () throws -> Void) throws {
        let backend = m.backend
        let inFlight = m.batchSize ?? plan.batchSize
        for batch in batches(jobs, size: inFlight * m.batchesPerCall) {
            try checkCancel()
            let requests = batch.map { request(for: $0, model: m.model) }
            let completions = try Self.complete(requests, on: backend, inFlight: inFlight)
            for (job, completion) in zip(batch, completions) {
                let choice = completion.choices.first
                    ?? ChatChoice(index: 0, message: ChatMessage(role: "assistant", content: ""), finishReason: nil)
                try record(outcome(job, model: m.name, reply: choice))
            }
        }
    }

    /// One call to a model's backend, its `CancellationError` (a local backend's cancel flag) reported as the
    /// evaluation's.
    static func complete(_ requests: [ChatRequest], on backend: any ChatBackend, inFlight: Int) throws -> [ChatCompletion] {
        do {
            return try runBlocking { try await backend.completeBatch(requests, inFlight: inFlight) }
        } catch is CancellationError {
            throw EvaluationError.cancelled
        }
    }

    /// Index 0 at temperature 0, the others at the plan's sampler, each with the job's seed (an API may or may not
    /// honour it).
    func request(for job: Job, model: String) -> ChatRequest {
        let sampled = job.ordinal != nil
        return ChatRequest(messages: LocalModel.conversation(system: plan.systemMessage, user: job.user), model: model,
                           seed: Int(truncatingIfNeeded: job.seed),
                           temperature: sampled ? ChatRequest.decimal(plan.sampling.temperature) : 0,
                           topP: sampled && plan.sampling.topP < 1 ? ChatRequest.decimal(plan.sampling.topP) : nil,
                           maxTokens: plan.maxTokens)
    }

    func outcome(_ job: Job, model: String, reply: ChatChoice) -> SampleOutcome {
        let text = reply.message.content
        let finish = reply.finishReason.map { GenerationResult.FinishReason(rawValue: $0) ?? .stop }
        return SampleOutcome(model: model, condition: job.condition, promptID: job.promptID, index: job.index,
                             prompt: job.user, reply: text, finishReason: finish, score: Self.score(text, job: job, plan: plan))
    }

    /// Greedy jobs in batches of any composition; sampled jobs in batches of consecutive ordinals, because the
    /// local backend decodes a batch whose seeds follow each other as one (sequence i gets seed + i).
    func batches(_ jobs: [Job], size: Int) -> [[Job]] {
        var out: [[Job]] = []
        var current: [Job] = []
        for job in jobs.filter({ $0.ordinal == nil }) {
            current.append(job)
            if current.count == size { out.append(current); current = [] }
        }
        if !current.isEmpty { out.append(current); current = [] }
        for job in jobs.filter({ $0.ordinal != nil }).sorted(by: { $0.ordinal! < $1.ordinal! }) {
            if let last = current.last, last.ordinal! + 1 != job.ordinal! || current.count == size {
                out.append(current)
                current = []
            }
            current.append(job)
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}
