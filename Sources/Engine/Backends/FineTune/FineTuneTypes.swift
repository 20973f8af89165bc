import Foundation

// The fine-tune protocol's vocabulary, in the shapes of the OpenAI fine-tuning API (files, jobs, events,
// checkpoints), which is the one remote service hellotune speaks.

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
    /// Why the API could not process the file, when it could not.
    public var statusDetails: String?

    public init(id: String, bytes: Int? = nil, createdAt: Int? = nil, filename: String? = nil, purpose: String? = nil,
                status: String? = nil, statusDetails: String? = nil) {
        self.id = id
        self.bytes = bytes
        self.createdAt = createdAt
        self.filename = filename
        self.purpose = purpose
        self.status = status
        self.statusDetails = statusDetails
    }

    enum CodingKeys: String, CodingKey {
        case id, bytes, createdAt = "created_at", filename, purpose, status, statusDetails = "status_details"
    }
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
