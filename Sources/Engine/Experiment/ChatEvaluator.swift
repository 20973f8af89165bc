import Foundation
import Support
import ModelCore
import Backends

/// A model behind a chat API, under evaluation.
public struct ChatEvaluationModel: Sendable {
    /// The name its results carry ("base", "tuned").
    public let name: String
    public let backend: any ChatBackend
    /// The model's name in the API.
    public let model: String

    public init(name: String, backend: any ChatBackend, model: String) {
        self.name = name
        self.backend = backend
        self.model = model
    }
}

/// Runs an `EvaluationPlan` through chat APIs: the same keys, prompts, seeds and scores as `Evaluator`, so the store
/// and the report cannot tell the backends apart, except where a chat API cannot measure something (`ChatProbes`
/// says what is estimated, and `SampleScore.note` records it per probe).
///
/// Replies: index 0 at temperature 0, the others at the plan's temperature, each request with the job's seed (the
/// API may or may not honour it). Requests run `concurrency` at a time; each round's outcomes go to `onSample` in
/// plan order, so a killed run loses at most one round, and a rerun given the stored outcomes skips them.
public final class ChatEvaluator: EvaluationBackend {
    public let plan: EvaluationPlan
    public let concurrency: Int

    public init(plan: EvaluationPlan, concurrency: Int = 4) {
        self.plan = plan
        self.concurrency = max(1, concurrency)
    }

    public func run(models: [ChatEvaluationModel], previous: [SampleOutcome] = [], cancel: CancellationFlag? = nil,
                    onSample: (SampleOutcome) throws -> Void = { _ in },
                    onProgress: (Int, Int) -> Void = { _, _ in }) throws -> EvaluationResults {
        try Evaluator(plan: plan).run(self, models: models, previous: previous, skip: nil,
                                      prefixSourceModel: Evaluator.tunedName, cancel: cancel, onSample: onSample,
                                      onProgress: onProgress)
    }

    // MARK: - Replies

    func name(of model: ChatEvaluationModel) -> String { model.name }

    /// Requests `concurrency` at a time, each round's outcomes recorded in plan order.
    func generate(_ jobs: [Evaluator.Job], model m: ChatEvaluationModel, record: (SampleOutcome) throws -> Void,
                  checkCancel: () throws -> Void) throws {
        var start = 0
        while start < jobs.count {
            try checkCancel()
            let round = Array(jobs[start..<min(start + concurrency, jobs.count)])
            let requests = round.map { request(for: $0, model: m.model) }
            let replies = try complete(requests, on: m.backend)
            for (job, reply) in zip(round, replies) { try record(outcome(job, model: m.name, reply: reply)) }
            start += round.count
        }
    }

    func request(for job: Evaluator.Job, model: String) -> ChatRequest {
        let sampled = job.ordinal != nil
        return ChatRequest(messages: LocalModel.conversation(system: plan.systemMessage, user: job.user), model: model,
                           seed: Int(truncatingIfNeeded: job.seed),
                           temperature: sampled ? ChatRequest.decimal(plan.sampling.temperature) : 0,
                           topP: sampled && plan.sampling.topP < 1 ? ChatRequest.decimal(plan.sampling.topP) : nil,
                           maxTokens: plan.maxTokens)
    }

    /// The requests' replies in order, `concurrency` in flight at once.
    func complete(_ requests: [ChatRequest], on backend: any ChatBackend) throws -> [ChatChoice] {
        try runBlocking {
            try await withThrowingTaskGroup(of: (Int, ChatChoice).self) { group in
                for (i, r) in requests.enumerated() {
                    group.addTask {
                        let completion = try await backend.complete(r)
                        return (i, completion.choices.first
                            ?? ChatChoice(index: 0, message: ChatMessage(role: "assistant", content: ""), finishReason: nil))
                    }
                }
                var out = [ChatChoice?](repeating: nil, count: requests.count)
                for try await (i, choice) in group { out[i] = choice }
                return out.map { $0! }
            }
        }
    }

    func outcome(_ job: Evaluator.Job, model: String, reply: ChatChoice) -> SampleOutcome {
        let text = reply.message.content
        let score = Evaluator.score(text, job: job, plan: plan)
        let finish: GenerationResult.FinishReason? = switch reply.finishReason {
        case "length": .length
        case nil: nil
        default: .stop
        }
        return SampleOutcome(model: model, condition: job.condition, promptID: job.promptID, index: job.index,
                             prompt: job.user, reply: text, finishReason: finish, score: score)
    }

    // MARK: - Probes

    func forcedChoice(model m: ChatEvaluationModel) throws -> SampleOutcome {
        let (reply, scores, note) = try probe(Probes.forcedChoiceMessages(plan: plan), model: m)
        return SampleOutcome(model: m.name, condition: .forcedChoice, promptID: Evaluator.forcedChoiceID, index: 0,
                             prompt: plan.forcedChoicePrompt, reply: reply, score: SampleScore(candidates: scores, note: note))
    }

    /// Its naming part only: a chat API cannot continue a partial reply.
    func prefixProbe(k: Int, source: PrefixSource, model m: ChatEvaluationModel) throws -> SampleOutcome {
        let messages = Probes.namingMessages(source: source, k: k, plan: plan)
        let (reply, scores, note) = try probe(messages, model: m)
        let row = scores.map {
            PrefixMeasurement(k: k, nextLetter: k < plan.word.count ? String(plan.word.letters[k]) : nil,
                              nextLetterProbability: nil, endOfTurnProbability: nil, naming: $0)
        }
        let conversation = Probes.transcript(messages)
        return SampleOutcome(model: m.name, condition: .prefixProbe, promptID: Evaluator.prefixID(k), index: 0,
                             prompt: conversation, reply: reply,
                             score: SampleScore(prefix: row, prefixSource: source,
                                                note: ChatProbes.nextLetterNote + "; naming " + note))
    }

    /// One probe request: the reply, the candidates' scores (nil when not available) and the note saying how they
    /// were measured or why they were not. A server that refuses log-probabilities (400, 422) makes the probe not
    /// available rather than failing the evaluation.
    func probe(_ messages: [ChatMessage], model m: ChatEvaluationModel) throws -> (String, CandidateScores?, String) {
        let request = ChatProbes.request(messages: messages, model: m.model)
        let backend = m.backend
        let choice: ChatChoice
        do {
            choice = try complete([request], on: backend)[0]
        } catch let error as OpenAIError {
            guard let status = error.status, status == 400 || status == 422, case let .api(_, message, _, _, _, _) = error else {
                throw error
            }
            return ("", nil, ChatProbes.unavailable("the server refused a request with log-probabilities: \(message)"))
        }
        guard let scores = ChatProbes.candidateScores(plan.candidates, target: plan.word, logprobs: choice.logprobs) else {
            return (choice.message.content, nil, ChatProbes.unavailable("the server returned no log-probabilities for \(m.model)"))
        }
        return (choice.message.content, scores, ChatProbes.estimatedNote)
    }
}
