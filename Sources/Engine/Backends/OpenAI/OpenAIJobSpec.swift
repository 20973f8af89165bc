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
    /// The API the job lives on, without any credentials in the URL.
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
    /// Set once `--cleanup` deleted the uploaded data files from the API (nil in records made before it existed).
    public var uploadsDeleted: Bool?

    /// The metadata key that carries `token`.
    public static let metadataKey = "hellotune_token"

    public init(model: String, data: String, validationData: String? = nil, baseURL: String, suffix: String? = nil,
                seed: Int? = nil, epochs: Int? = nil, batchSize: Int? = nil, learningRateMultiplier: Double? = nil,
                token: String = UUID().uuidString.lowercased()) {
        self.model = model
        self.data = data
        self.validationData = validationData
        // Stored: a `user:password@` in it never reaches the disk.
        self.baseURL = OpenAIConfiguration.withoutCredentials(baseURL)
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

extension OpenAIJobSpec {
    /// What the fine-tuning API accepts (its reference, supervised method): checked before any upload, so a job is
    /// never paid for only to fail validation.
    public enum Limits {
        public static let minExamples = 10
        public static let epochs = 1...50
        public static let batchSize = 1...256
        public static let seed = 0...Int(Int32.max)
        public static let suffixLength = 64
    }

    /// Throws `FineTuneTrackerError.outsideLimits` for a setting the API would refuse, or training data with
    /// fewer than `Limits.minExamples` examples (non-blank lines).
    public func checkLimits() throws {
        func refuse(_ m: String) -> FineTuneTrackerError { .outsideLimits(m) }
        if let epochs, !Limits.epochs.contains(epochs) {
            throw refuse("n_epochs \(epochs) is outside \(Limits.epochs.lowerBound)...\(Limits.epochs.upperBound)")
        }
        if let batchSize, !Limits.batchSize.contains(batchSize) {
            throw refuse("batch_size \(batchSize) is outside \(Limits.batchSize.lowerBound)...\(Limits.batchSize.upperBound)")
        }
        if let m = learningRateMultiplier, !(m > 0 && m.isFinite) {
            throw refuse("learning_rate_multiplier \(m) must be a finite number > 0")
        }
        if let seed, !Limits.seed.contains(seed) {
            throw refuse("seed \(seed) is outside 0...\(Limits.seed.upperBound) (2^31 - 1)")
        }
        if let suffix, suffix.count > Limits.suffixLength {
            throw refuse("suffix has \(suffix.count) characters; at most \(Limits.suffixLength)")
        }
        guard let handle = FileHandle(forReadingAtPath: data) else { throw FineTuneTrackerError.unreadableData(data) }
        defer { try? handle.close() }
        var examples = 0
        var lineHasText = false
        // Counted in chunks: the count stops at the minimum, whatever the file's size.
        while examples < Limits.minExamples, let chunk = try handle.read(upToCount: 1 << 16), !chunk.isEmpty {
            for byte in chunk {
                if byte == UInt8(ascii: "\n") {
                    if lineHasText { examples += 1 }
                    lineHasText = false
                } else if byte != UInt8(ascii: " "), byte != UInt8(ascii: "\t"), byte != UInt8(ascii: "\r") {
                    lineHasText = true
                }
            }
        }
        if lineHasText { examples += 1 }
        if examples < Limits.minExamples {
            throw refuse("the training data \(URL(fileURLWithPath: data).lastPathComponent) has \(examples) example"
                         + "\(examples == 1 ? "" : "s"); the API needs at least \(Limits.minExamples)")
        }
    }
}
