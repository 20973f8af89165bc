import Foundation
import Store

/// One fine-tuning job as the Jobs screen lists it. Its status is the store's vocabulary (`JobStatus`) for every
/// kind of job, store records and run folders alike; nil is a status this build does not know.
public struct JobSummary: Equatable, Sendable, Identifiable {
    /// Stable id: the run folder's name for local runs, `#N` for jobs in the store.
    public var id: String
    public var name: String
    /// "train", "generate", "evaluate" (store jobs) or "run" (a `hellotune run` started from here); nil when unknown.
    public var kind: String?
    /// "local" or "openai"; nil when unknown.
    public var backend: String?
    public var status: JobStatus?
    public var step: Int
    public var totalSteps: Int
    public var loss: Double?
    public var tokensPerSecond: Double?
    public var etaSeconds: Double?
    /// Folder holding the adapter (for the playground), when one has been written.
    public var adapterPath: String?
    /// Folder of the run, when it has one.
    public var folder: String?
    /// Why it failed or other one-line detail.
    public var note: String?
    /// The experiment in the store it belongs to, when known (a store job's, or the one a run's log names).
    public var experimentID: Int64?
    /// A run's own jobs (its training jobs in the store), shown as its detail rather than as rows of their own.
    public var parts: [JobSummary] = []

    public init(id: String, name: String? = nil, kind: String? = nil, backend: String? = nil, status: JobStatus?, step: Int = 0,
                totalSteps: Int = 0, loss: Double? = nil, tokensPerSecond: Double? = nil, etaSeconds: Double? = nil,
                adapterPath: String? = nil, folder: String? = nil, note: String? = nil, experimentID: Int64? = nil) {
        self.id = id
        self.name = name ?? id
        self.kind = kind
        self.backend = backend
        self.status = status
        self.step = step
        self.totalSteps = totalSteps
        self.loss = loss
        self.tokensPerSecond = tokensPerSecond
        self.etaSeconds = etaSeconds
        self.adapterPath = adapterPath
        self.folder = folder
        self.note = note
        self.experimentID = experimentID
    }

    public var progress: Double { totalSteps > 0 ? min(1, Double(step) / Double(totalSteps)) : (status == .succeeded ? 1 : 0) }
}
