import Foundation

// The two things an experiment needs from a backend, whether it is the local engine or the hosted
// OpenAI API: chat completions (to evaluate a model) and fine-tuning jobs (to make one).

// MARK: - Chat

/// Generates chat replies. `LocalChatBackend` runs the local engine; `OpenAIClient` calls the API.
public protocol ChatBackend: Sendable {
    func complete(_ request: ChatRequest) async throws -> ChatCompletion
    /// Replies as they are generated; the last chunk carries usage where the backend reports it.
    func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatChunk, Error>
}

/// One chat completion request, in the OpenAI API's terms. Nil fields are left to the backend's defaults.
public struct ChatRequest: Sendable, Equatable {
    public var messages: [ChatMessage]
    public var model: String
    /// How many replies to generate.
    public var n: Int?
    public var seed: Int?
    public var temperature: Double?
    public var topP: Double?
    /// The older limit; `maxCompletionTokens` is the newer name (reasoning models accept only that one).
    public var maxTokens: Int?
    public var maxCompletionTokens: Int?
    public var logprobs: Bool?
    /// 0...20 alternatives per token; needs `logprobs`.
    public var topLogprobs: Int?
    public var stop: [String]?

    public init(messages: [ChatMessage], model: String, n: Int? = nil, seed: Int? = nil, temperature: Double? = nil,
                topP: Double? = nil, maxTokens: Int? = nil, maxCompletionTokens: Int? = nil, logprobs: Bool? = nil,
                topLogprobs: Int? = nil, stop: [String]? = nil) {
        self.messages = messages
        self.model = model
        self.n = n
        self.seed = seed
        self.temperature = temperature
        self.topP = topP
        self.maxTokens = maxTokens
        self.maxCompletionTokens = maxCompletionTokens
        self.logprobs = logprobs
        self.topLogprobs = topLogprobs
        self.stop = stop
    }

    /// The most tokens a reply may have, whichever limit was given.
    public var tokenLimit: Int? { maxCompletionTokens ?? maxTokens }

    /// The Double that prints as `x` does (0.7, not 0.699999988): a temperature written in a file or a flag as 0.7
    /// reaches the API as 0.7.
    public static func decimal(_ x: Float) -> Double { Double("\(x)") ?? Double(x) }
}

public struct ChatUsage: Codable, Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int

    public init(promptTokens: Int, completionTokens: Int, totalTokens: Int? = nil) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.totalTokens = totalTokens ?? promptTokens + completionTokens
    }

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        promptTokens = try c.decodeIfPresent(Int.self, forKey: .promptTokens) ?? 0
        completionTokens = try c.decodeIfPresent(Int.self, forKey: .completionTokens) ?? 0
        totalTokens = try c.decodeIfPresent(Int.self, forKey: .totalTokens) ?? promptTokens + completionTokens
    }
}

/// One alternative token and its log probability.
public struct TopLogprob: Codable, Sendable, Equatable {
    public var token: String
    public var logprob: Double
    public var bytes: [Int]?

    public init(token: String, logprob: Double, bytes: [Int]? = nil) {
        self.token = token
        self.logprob = logprob
        self.bytes = bytes
    }
}

/// A generated token, its log probability and the most likely alternatives at its position.
public struct TokenLogprob: Codable, Sendable, Equatable {
    public var token: String
    public var logprob: Double
    public var bytes: [Int]?
    public var topLogprobs: [TopLogprob]

    public init(token: String, logprob: Double, bytes: [Int]? = nil, topLogprobs: [TopLogprob] = []) {
        self.token = token
        self.logprob = logprob
        self.bytes = bytes
        self.topLogprobs = topLogprobs
    }

    enum CodingKeys: String, CodingKey { case token, logprob, bytes, topLogprobs = "top_logprobs" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        token = try c.decode(String.self, forKey: .token)
        logprob = try c.decode(Double.self, forKey: .logprob)
        bytes = try c.decodeIfPresent([Int].self, forKey: .bytes)
        topLogprobs = try c.decodeIfPresent([TopLogprob].self, forKey: .topLogprobs) ?? []
    }
}

public struct ChatChoice: Sendable, Equatable {
    public var index: Int
    public var message: ChatMessage
    /// "stop", "length", "content_filter", ... as the backend says it.
    public var finishReason: String?
    /// Per generated token, when requested and supported.
    public var logprobs: [TokenLogprob]?

    public init(index: Int, message: ChatMessage, finishReason: String?, logprobs: [TokenLogprob]? = nil) {
        self.index = index
        self.message = message
        self.finishReason = finishReason
        self.logprobs = logprobs
    }
}

public struct ChatCompletion: Sendable, Equatable {
    public var id: String
    public var model: String
    public var created: Int?
    public var choices: [ChatChoice]
    public var usage: ChatUsage?
    public var systemFingerprint: String?

    public init(id: String, model: String, created: Int? = nil, choices: [ChatChoice], usage: ChatUsage? = nil,
                systemFingerprint: String? = nil) {
        self.id = id
        self.model = model
        self.created = created
        self.choices = choices
        self.usage = usage
        self.systemFingerprint = systemFingerprint
    }

    /// The first reply's text ("" when there is none).
    public var text: String { choices.first?.message.content ?? "" }
}

/// A piece of a streamed reply.
public struct ChatChunkChoice: Sendable, Equatable {
    public var index: Int
    public var role: String?
    public var content: String?
    public var finishReason: String?
    public var logprobs: [TokenLogprob]?

    public init(index: Int, role: String? = nil, content: String? = nil, finishReason: String? = nil,
                logprobs: [TokenLogprob]? = nil) {
        self.index = index
        self.role = role
        self.content = content
        self.finishReason = finishReason
        self.logprobs = logprobs
    }
}

public struct ChatChunk: Sendable, Equatable {
    public var id: String
    public var model: String
    public var created: Int?
    public var choices: [ChatChunkChoice]
    /// Only in the last chunk (OpenAI: with `stream_options.include_usage`), whose `choices` is empty.
    public var usage: ChatUsage?

    public init(id: String, model: String, created: Int? = nil, choices: [ChatChunkChoice], usage: ChatUsage? = nil) {
        self.id = id
        self.model = model
        self.created = created
        self.choices = choices
        self.usage = usage
    }
}

extension Array where Element == ChatChunk {
    /// The streamed text of one choice, joined.
    public func text(choice: Int = 0) -> String {
        flatMap { $0.choices }.filter { $0.index == choice }.compactMap(\.content).joined()
    }
}

// MARK: - Fine-tuning

/// Uploads training data and runs fine-tuning jobs. `OpenAIClient` implements it for the hosted API;
/// local fine-tuning is `Trainer` (`hellotune train`), which runs in-process rather than as a remote job.
public protocol FineTuneBackend: Sendable {
    func uploadFile(_ data: Data, filename: String, purpose: String) async throws -> RemoteFile
    func createJob(_ request: FineTuneJobRequest) async throws -> FineTuneJob
    func retrieveJob(_ id: String) async throws -> FineTuneJob
    func listJobs(after: String?, limit: Int?) async throws -> ListPage<FineTuneJob>
    func cancelJob(_ id: String) async throws -> FineTuneJob
    /// One page of events as the API returns it: newest first. `after` is the id of the last (oldest)
    /// event of the previous page.
    func events(jobID: String, after: String?, limit: Int?) async throws -> ListPage<FineTuneEvent>
    func checkpoints(jobID: String, after: String?, limit: Int?) async throws -> ListPage<FineTuneCheckpoint>
}

extension FineTuneBackend {
    /// Every event newer than `knownID` (all of them when nil), reading as many pages as needed,
    /// de-duplicated by id and returned oldest first.
    public func allEvents(jobID: String, newerThan knownID: String? = nil, pageSize: Int = 100) async throws -> [FineTuneEvent] {
        var seen = Set<String>()
        var newestFirst: [FineTuneEvent] = []
        var after: String?
        pages: while true {
            let page = try await events(jobID: jobID, after: after, limit: pageSize)
            for event in page.data {
                if event.id == knownID { break pages }
                if seen.insert(event.id).inserted { newestFirst.append(event) }
            }
            guard page.hasMore, let last = page.data.last, last.id != after else { break }
            after = last.id
        }
        // Pages are newest first; keep that order for equal timestamps and reverse it.
        return newestFirst.enumerated().sorted { a, b in
            a.element.createdAt != b.element.createdAt ? a.element.createdAt < b.element.createdAt : a.offset > b.offset
        }.map(\.element)
    }
}

/// A list endpoint's page.
public struct ListPage<Element: Codable & Sendable>: Codable, Sendable {
    public var data: [Element]
    public var hasMore: Bool
    public var firstID: String?
    public var lastID: String?

    public init(data: [Element], hasMore: Bool, firstID: String? = nil, lastID: String? = nil) {
        self.data = data
        self.hasMore = hasMore
        self.firstID = firstID
        self.lastID = lastID
    }

    enum CodingKeys: String, CodingKey { case data, hasMore = "has_more", firstID = "first_id", lastID = "last_id" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        data = try c.decode([Element].self, forKey: .data)
        hasMore = try c.decodeIfPresent(Bool.self, forKey: .hasMore) ?? false
        firstID = try c.decodeIfPresent(String.self, forKey: .firstID)
        lastID = try c.decodeIfPresent(String.self, forKey: .lastID)
    }
}

extension ListPage: Equatable where Element: Equatable {}

/// An uploaded file.
public struct RemoteFile: Codable, Sendable, Equatable {
    public var id: String
    public var bytes: Int?
    public var createdAt: Int?
    public var filename: String?
    public var purpose: String?
    public var status: String?

    public init(id: String, bytes: Int? = nil, createdAt: Int? = nil, filename: String? = nil, purpose: String? = nil,
                status: String? = nil) {
        self.id = id
        self.bytes = bytes
        self.createdAt = createdAt
        self.filename = filename
        self.purpose = purpose
        self.status = status
    }

    enum CodingKeys: String, CodingKey { case id, bytes, createdAt = "created_at", filename, purpose, status }
}

/// A hyperparameter that is either chosen by the service ("auto") or given.
public enum AutoOr<Value: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    case auto
    case value(Value)

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self), s == "auto" { self = .auto; return }
        self = .value(try c.decode(Value.self))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .auto: try c.encode("auto")
        case let .value(v): try c.encode(v)
        }
    }

    public var value: Value? { if case let .value(v) = self { v } else { nil } }
}

public struct FineTuneHyperparameters: Codable, Sendable, Equatable {
    public var nEpochs: AutoOr<Int>?
    public var batchSize: AutoOr<Int>?
    public var learningRateMultiplier: AutoOr<Double>?

    public init(nEpochs: AutoOr<Int>? = .auto, batchSize: AutoOr<Int>? = .auto, learningRateMultiplier: AutoOr<Double>? = .auto) {
        self.nEpochs = nEpochs
        self.batchSize = batchSize
        self.learningRateMultiplier = learningRateMultiplier
    }

    enum CodingKeys: String, CodingKey {
        case nEpochs = "n_epochs", batchSize = "batch_size", learningRateMultiplier = "learning_rate_multiplier"
    }
}

/// POST /fine_tuning/jobs. Hyperparameters go in `method.supervised.hyperparameters`.
public struct FineTuneJobRequest: Sendable, Equatable {
    public var model: String
    public var trainingFile: String
    public var validationFile: String?
    public var suffix: String?
    public var seed: Int?
    public var metadata: [String: String]?
    public var hyperparameters: FineTuneHyperparameters

    public init(model: String, trainingFile: String, validationFile: String? = nil, suffix: String? = nil, seed: Int? = nil,
                metadata: [String: String]? = nil, hyperparameters: FineTuneHyperparameters = FineTuneHyperparameters()) {
        self.model = model
        self.trainingFile = trainingFile
        self.validationFile = validationFile
        self.suffix = suffix
        self.seed = seed
        self.metadata = metadata
        self.hyperparameters = hyperparameters
    }
}

/// A fine-tuning job's status. A status this build does not know is kept as `.other(raw)`.
public enum FineTuneStatus: Sendable, Equatable, Codable, CustomStringConvertible {
    case validatingFiles, queued, running, succeeded, failed, cancelled, paused
    case other(String)

    public init(rawValue: String) {
        switch rawValue {
        case "validating_files": self = .validatingFiles
        case "queued": self = .queued
        case "running": self = .running
        case "succeeded": self = .succeeded
        case "failed": self = .failed
        case "cancelled": self = .cancelled
        case "paused": self = .paused
        default: self = .other(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .validatingFiles: "validating_files"
        case .queued: "queued"
        case .running: "running"
        case .succeeded: "succeeded"
        case .failed: "failed"
        case .cancelled: "cancelled"
        case .paused: "paused"
        case let .other(s): s
        }
    }

    public var description: String { rawValue }
    /// No further change is expected.
    public var isFinal: Bool { self == .succeeded || self == .failed || self == .cancelled }

    public init(from decoder: Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

public struct FineTuneJobError: Codable, Sendable, Equatable {
    public var code: String?
    public var message: String?
    public var param: String?
}

public struct FineTuneMethod: Codable, Sendable, Equatable {
    public struct Supervised: Codable, Sendable, Equatable {
        public var hyperparameters: FineTuneHyperparameters?
    }
    public var type: String
    public var supervised: Supervised?
}

public struct FineTuneJob: Codable, Sendable, Equatable {
    public var id: String
    public var model: String
    public var status: FineTuneStatus
    public var createdAt: Int?
    public var finishedAt: Int?
    public var fineTunedModel: String?
    public var organizationID: String?
    public var trainingFile: String?
    public var validationFile: String?
    public var resultFiles: [String]?
    public var trainedTokens: Int?
    public var error: FineTuneJobError?
    public var seed: Int?
    public var suffix: String?
    public var estimatedFinish: Int?
    public var hyperparameters: FineTuneHyperparameters?
    public var method: FineTuneMethod?
    public var metadata: [String: String]?

    public init(id: String, model: String, status: FineTuneStatus) {
        self.id = id
        self.model = model
        self.status = status
    }

    enum CodingKeys: String, CodingKey {
        case id, model, status, seed, error, hyperparameters, method, metadata
        case createdAt = "created_at", finishedAt = "finished_at", fineTunedModel = "fine_tuned_model"
        case organizationID = "organization_id", trainingFile = "training_file", validationFile = "validation_file"
        case resultFiles = "result_files", trainedTokens = "trained_tokens", suffix = "user_provided_suffix"
        case estimatedFinish = "estimated_finish"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        model = try c.decodeIfPresent(String.self, forKey: .model) ?? ""
        status = try c.decodeIfPresent(FineTuneStatus.self, forKey: .status) ?? .other("")
        createdAt = try c.decodeIfPresent(Int.self, forKey: .createdAt)
        finishedAt = try c.decodeIfPresent(Int.self, forKey: .finishedAt)
        fineTunedModel = try c.decodeIfPresent(String.self, forKey: .fineTunedModel)
        organizationID = try c.decodeIfPresent(String.self, forKey: .organizationID)
        trainingFile = try c.decodeIfPresent(String.self, forKey: .trainingFile)
        validationFile = try c.decodeIfPresent(String.self, forKey: .validationFile)
        resultFiles = try c.decodeIfPresent([String].self, forKey: .resultFiles)
        trainedTokens = try c.decodeIfPresent(Int.self, forKey: .trainedTokens)
        // Tolerant of shapes that vary between API versions: an unexpected one is dropped, not fatal.
        error = try? c.decodeIfPresent(FineTuneJobError.self, forKey: .error)
        seed = try c.decodeIfPresent(Int.self, forKey: .seed)
        suffix = try c.decodeIfPresent(String.self, forKey: .suffix)
        estimatedFinish = try c.decodeIfPresent(Int.self, forKey: .estimatedFinish)
        hyperparameters = try? c.decodeIfPresent(FineTuneHyperparameters.self, forKey: .hyperparameters)
        method = try? c.decodeIfPresent(FineTuneMethod.self, forKey: .method)
        metadata = try? c.decodeIfPresent([String: String].self, forKey: .metadata)
    }

    /// The hyperparameters in effect: the method's, else the older top-level field.
    public var effectiveHyperparameters: FineTuneHyperparameters? { method?.supervised?.hyperparameters ?? hyperparameters }
}

/// Training metrics of a `metrics` event or a checkpoint.
public struct FineTuneMetrics: Codable, Sendable, Equatable {
    public var step: Int?
    public var totalSteps: Int?
    public var trainLoss: Double?
    public var validLoss: Double?
    public var fullValidLoss: Double?
    public var trainMeanTokenAccuracy: Double?
    public var validMeanTokenAccuracy: Double?
    public var fullValidMeanTokenAccuracy: Double?

    public init(step: Int? = nil, totalSteps: Int? = nil, trainLoss: Double? = nil, validLoss: Double? = nil,
                fullValidLoss: Double? = nil, trainMeanTokenAccuracy: Double? = nil, validMeanTokenAccuracy: Double? = nil,
                fullValidMeanTokenAccuracy: Double? = nil) {
        self.step = step
        self.totalSteps = totalSteps
        self.trainLoss = trainLoss
        self.validLoss = validLoss
        self.fullValidLoss = fullValidLoss
        self.trainMeanTokenAccuracy = trainMeanTokenAccuracy
        self.validMeanTokenAccuracy = validMeanTokenAccuracy
        self.fullValidMeanTokenAccuracy = fullValidMeanTokenAccuracy
    }

    enum CodingKeys: String, CodingKey {
        case step, totalSteps = "total_steps", trainLoss = "train_loss", validLoss = "valid_loss"
        case fullValidLoss = "full_valid_loss", trainMeanTokenAccuracy = "train_mean_token_accuracy"
        case validMeanTokenAccuracy = "valid_mean_token_accuracy", fullValidMeanTokenAccuracy = "full_valid_mean_token_accuracy"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func number(_ key: CodingKeys) -> Double? { (try? c.decodeIfPresent(Double.self, forKey: key)) ?? nil }
        step = number(.step).map { Int($0) }
        totalSteps = number(.totalSteps).map { Int($0) }
        trainLoss = number(.trainLoss)
        validLoss = number(.validLoss)
        fullValidLoss = number(.fullValidLoss)
        trainMeanTokenAccuracy = number(.trainMeanTokenAccuracy)
        validMeanTokenAccuracy = number(.validMeanTokenAccuracy)
        fullValidMeanTokenAccuracy = number(.fullValidMeanTokenAccuracy)
    }
}

public struct FineTuneEvent: Codable, Sendable, Equatable {
    public var id: String
    public var createdAt: Int
    public var level: String?
    public var message: String
    /// "message" or "metrics".
    public var type: String?
    /// Set for metrics events.
    public var metrics: FineTuneMetrics?

    public init(id: String, createdAt: Int, level: String? = "info", message: String, type: String? = "message",
                metrics: FineTuneMetrics? = nil) {
        self.id = id
        self.createdAt = createdAt
        self.level = level
        self.message = message
        self.type = type
        self.metrics = metrics
    }

    enum CodingKeys: String, CodingKey { case id, createdAt = "created_at", level, message, type, metrics = "data" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        createdAt = try c.decodeIfPresent(Int.self, forKey: .createdAt) ?? 0
        level = try c.decodeIfPresent(String.self, forKey: .level)
        message = try c.decodeIfPresent(String.self, forKey: .message) ?? ""
        type = try c.decodeIfPresent(String.self, forKey: .type)
        let m = (try? c.decodeIfPresent(FineTuneMetrics.self, forKey: .metrics)) ?? nil
        metrics = m == FineTuneMetrics() ? nil : m
    }
}

public struct FineTuneCheckpoint: Codable, Sendable, Equatable {
    public var id: String
    public var createdAt: Int?
    public var fineTunedModelCheckpoint: String?
    public var stepNumber: Int?
    public var metrics: FineTuneMetrics?
    public var jobID: String?

    enum CodingKeys: String, CodingKey {
        case id, createdAt = "created_at", fineTunedModelCheckpoint = "fine_tuned_model_checkpoint"
        case stepNumber = "step_number", metrics, jobID = "fine_tuning_job_id"
    }
}

// MARK: - Local

/// The local engine as a `ChatBackend`: the model named in a request is ignored (the backend has one).
/// Sampling maps onto `SamplingParameters` (reply i uses seed + i, as in `Generator.generateBatch`);
/// `stop` strings cut the text afterwards; log probabilities are not reported.
public final class LocalChatBackend: ChatBackend, @unchecked Sendable {
    public let generator: Generator
    public let modelName: String

    public init(model: LocalModel, name: String? = nil) {
        generator = Generator(model: model)
        modelName = name ?? URL(fileURLWithPath: model.path).lastPathComponent
    }

    func generationOptions(_ request: ChatRequest) -> GenerationOptions {
        var sampling = SamplingParameters.greedy
        sampling.temperature = Float(request.temperature ?? 0)
        sampling.topP = Float(request.topP ?? 1)
        sampling.seed = UInt64(bitPattern: Int64(request.seed ?? 0))
        return GenerationOptions(maxTokens: request.tokenLimit ?? 256, sampling: sampling)
    }

    static func cut(_ text: String, at stops: [String]?) -> (String, Bool) {
        var best: String.Index?
        for s in stops ?? [] where !s.isEmpty {
            if let r = text.range(of: s), best.map({ r.lowerBound < $0 }) ?? true { best = r.lowerBound }
        }
        return best.map { (String(text[..<$0]), true) } ?? (text, false)
    }

    public func complete(_ request: ChatRequest) async throws -> ChatCompletion {
        let prompt = generator.model.encode(request.messages)
        let n = max(1, request.n ?? 1)
        let options = generationOptions(request)
        let generator = self.generator
        let results: [GenerationResult] = try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do {
                    continuation.resume(returning: try generator.generateBatch(prompts: Array(repeating: prompt, count: n), options: options))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        let choices = results.enumerated().map { i, r in
            let (text, stopped) = Self.cut(r.text, at: request.stop)
            let reason = stopped ? "stop" : (r.finishReason == .length ? "length" : "stop")
            return ChatChoice(index: i, message: ChatMessage(role: "assistant", content: text), finishReason: reason)
        }
        let completionTokens = results.reduce(0) { $0 + $1.tokens.count }
        return ChatCompletion(id: "local-\(UUID().uuidString)", model: modelName, created: Int(Date().timeIntervalSince1970),
                              choices: choices, usage: ChatUsage(promptTokens: prompt.count, completionTokens: completionTokens))
    }

    public func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatChunk, Error> {
        let prompt = generator.model.encode(request.messages)
        let id = "local-\(UUID().uuidString)"
        let name = modelName
        let events = generator.stream(prompt: prompt, options: generationOptions(request))
        let stops = request.stop ?? []
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var text = ""
                    var sent = 0
                    continuation.yield(ChatChunk(id: id, model: name, choices: [ChatChunkChoice(index: 0, role: "assistant", content: "")]))
                    for try await event in events {
                        switch event {
                        case let .token(_, piece):
                            text += piece
                            let (kept, stopped) = Self.cut(text, at: stops)
                            // Hold back a tail that might be the start of a stop string.
                            let hold = stopped ? 0 : min(kept.count, max(0, (stops.map(\.count).max() ?? 1) - 1))
                            let ready = kept.count - hold
                            if ready > sent {
                                let delta = String(kept.dropFirst(sent).prefix(ready - sent))
                                sent = ready
                                continuation.yield(ChatChunk(id: id, model: name, choices: [ChatChunkChoice(index: 0, content: delta)]))
                            }
                            if stopped {
                                continuation.yield(ChatChunk(id: id, model: name, choices: [ChatChunkChoice(index: 0, finishReason: "stop")]))
                                continuation.finish()
                                return
                            }
                        case let .finished(result):
                            let (kept, _) = Self.cut(result.text, at: stops)
                            if kept.count > sent {
                                continuation.yield(ChatChunk(id: id, model: name, choices: [ChatChunkChoice(index: 0, content: String(kept.dropFirst(sent)))]))
                            }
                            let reason = result.finishReason == .length ? "length" : "stop"
                            continuation.yield(ChatChunk(id: id, model: name, choices: [ChatChunkChoice(index: 0, finishReason: reason)]))
                            continuation.yield(ChatChunk(id: id, model: name, choices: [],
                                                         usage: ChatUsage(promptTokens: prompt.count, completionTokens: result.tokens.count)))
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
