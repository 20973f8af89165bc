import Foundation

/// A remote fine-tuning job as stored in its job row's config: what was asked for, and what became known on the
/// way (the uploaded files, the fine-tuned model), so that any later process can re-attach to the job. It never
/// holds the API key.
public struct OpenAIJobSpec: Codable, Sendable, Equatable {
    /// The base model to fine-tune.
    public var model: String
    /// The training data (chat JSONL) on this machine.
    public var data: String
    public var validationData: String?
    /// The API the job lives on.
    public var baseURL: String
    public var suffix: String?
    public var seed: Int?
    /// nil: "auto".
    public var epochs: Int?
    public var batchSize: Int?
    public var learningRateMultiplier: Double?
    /// Sent as the job's metadata: finds the remote job again when a process died between creating it and storing
    /// its id.
    public var token: String
    public var trainingFile: String?
    public var validationFile: String?
    /// Set just before the create request, after which a remote job may exist without its id stored.
    public var submitted: Bool
    public var fineTunedModel: String?

    /// The metadata key that carries `token`.
    public static let metadataKey = "hellotune_token"

    public init(model: String, data: String, validationData: String? = nil, baseURL: String, suffix: String? = nil,
                seed: Int? = nil, epochs: Int? = nil, batchSize: Int? = nil, learningRateMultiplier: Double? = nil,
                token: String = UUID().uuidString.lowercased()) {
        self.model = model
        self.data = data
        self.validationData = validationData
        self.baseURL = baseURL
        self.suffix = suffix
        self.seed = seed
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRateMultiplier = learningRateMultiplier
        self.token = token
        self.submitted = false
    }

    /// The create request, once the training file is uploaded.
    public var request: FineTuneJobRequest? {
        guard let trainingFile else { return nil }
        return FineTuneJobRequest(
            model: model, trainingFile: trainingFile, validationFile: validationFile, suffix: suffix, seed: seed,
            metadata: [Self.metadataKey: token],
            hyperparameters: FineTuneHyperparameters(nEpochs: epochs.map { .value($0) } ?? .auto,
                                                     batchSize: batchSize.map { .value($0) } ?? .auto,
                                                     learningRateMultiplier: learningRateMultiplier.map { .value($0) } ?? .auto))
    }

    public func json() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }

    public static func decode(_ json: String) throws -> OpenAIJobSpec {
        try JSONDecoder().decode(OpenAIJobSpec.self, from: Data(json.utf8))
    }
}
