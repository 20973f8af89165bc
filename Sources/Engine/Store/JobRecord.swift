import Foundation

/// One unit of work (training, generation or evaluation) on one backend, with its latest progress.
public struct JobRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var experimentID: Int64?
    /// "train", "generate" or "evaluate".
    public var kind: String
    /// "local" or "openai".
    public var backend: String
    /// The status exactly as stored. Kept as text so that a status this build does not know never fails a read.
    public var statusText: String
    /// JSON text.
    public var config: String
    public var outputDir: String?
    /// The OpenAI fine-tuning job id.
    public var externalID: String?
    /// Where to resume reading OpenAI's event list.
    public var cursor: String?
    public var step: Int?
    public var totalSteps: Int?
    public var loss: Double?
    public var tokensPerSecond: Double?
    public var etaSeconds: Double?
    /// The local worker process, for noticing when it died without recording a result.
    public var pid: Int32?
    public var error: String?
    public var createdAt: Date
    public var updatedAt: Date

    /// `statusText` parsed; nil for a status this build does not know. Setting it rewrites `statusText`,
    /// so the two can never disagree (setting nil leaves the text as it is).
    public var status: JobStatus? {
        get { JobStatus(rawValue: statusText) }
        set { if let newValue { statusText = newValue.rawValue } }
    }

    public init(id: Int64, experimentID: Int64?, kind: String, backend: String, statusText: String, config: String,
                outputDir: String? = nil, externalID: String? = nil, cursor: String? = nil, step: Int? = nil,
                totalSteps: Int? = nil, loss: Double? = nil, tokensPerSecond: Double? = nil, etaSeconds: Double? = nil,
                pid: Int32? = nil, error: String? = nil, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.experimentID = experimentID
        self.kind = kind
        self.backend = backend
        self.statusText = statusText
        self.config = config
        self.outputDir = outputDir
        self.externalID = externalID
        self.cursor = cursor
        self.step = step
        self.totalSteps = totalSteps
        self.loss = loss
        self.tokensPerSecond = tokensPerSecond
        self.etaSeconds = etaSeconds
        self.pid = pid
        self.error = error
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
