import Foundation
import Support
import ModelCore
import Store

// The fine-tune half of the seam: what an experiment asks of whatever trains its model, the local engine (a detached
// worker process) or a hosted API. Each job is a row in the store, so any process can follow, cancel or resume it.

/// Fine-tunes a model on a chat dataset as a job recorded in the store. `LocalFineTuner` trains a LoRA adapter in a
/// worker process; `OpenAIFineTuner` runs a remote fine-tuning job. The experiment runner asks only this protocol.
public protocol FineTuner: AnyObject {
    /// The job rows' backend name ("local", "openai").
    var backendName: String { get }
    /// Records the job for `request` in the store and starts it, or finds the one an earlier, stopped run of the same
    /// request left (a rerun re-attaches to it instead of starting a second). A request whose job has finished is
    /// `.finished` with its result.
    func submit(_ request: FineTuneRequest, progress: (FineTuneProgress) -> Void) throws -> FineTuneSubmission
    /// Follows a submitted job until it ends, reporting its steps; returns its result, or throws `FineTuneError` when
    /// it failed, was cancelled, or `cancel` was set (the job itself goes on).
    func follow(jobID: Int64, cancel: CancellationFlag, progress: (FineTuneProgress) -> Void) throws -> FineTuneOutcome
    /// Stops the job: it ends cancelled (a local worker after its current step; a remote job when the API says so).
    @discardableResult
    func cancel(jobID: Int64) throws -> JobRecord
    /// Starts a stopped job again where it stopped: a local worker from its checkpoint, a remote job's unfinished
    /// submission. Says what it started.
    func resume(jobID: Int64) throws -> String
}

extension FineTuner {
    /// Submits `request` and follows its job to the end.
    public func fineTune(_ request: FineTuneRequest, cancel: CancellationFlag,
                         progress: (FineTuneProgress) -> Void) throws -> FineTuneOutcome {
        switch try submit(request, progress: progress) {
        case let .finished(outcome): return outcome
        case let .submitted(jobID): return try follow(jobID: jobID, cancel: cancel, progress: progress)
        }
    }
}

/// One fine-tune, in the terms every backend shares; how to train (hyperparameters, base model) is the fine-tuner's.
public struct FineTuneRequest: Sendable, Equatable {
    /// The training data, chat JSONL. A copy goes into `folder` (data.jsonl), which the job trains on.
    public var data: URL
    /// The run's folder: the data's copy, the job's logs and, for a local job, the adapter.
    public var folder: URL
    public var seed: UInt64
    /// Names the result where the backend shows a name (a remote model's suffix, e.g. "akewo-s1").
    public var suffix: String
    /// The experiment the job belongs to, and whose jobs a rerun searches for it.
    public var experimentID: Int64?

    public init(data: URL, folder: URL, seed: UInt64, suffix: String, experimentID: Int64?) {
        self.data = data
        self.folder = folder
        self.seed = seed
        self.suffix = suffix
        self.experimentID = experimentID
    }

    /// The data's copy in the run folder; copied there the first time.
    func dataCopy() throws -> URL {
        let copy = folder.appendingPathComponent("data.jsonl")
        if !FileManager.default.fileExists(atPath: copy.path) { try FileManager.default.copyItem(at: data, to: copy) }
        return copy
    }
}

/// What a fine-tune made.
public enum FineTuneResult: Sendable, Equatable {
    /// A LoRA adapter folder (PEFT files) for the local model.
    case adapter(URL)
    /// A fine-tuned model's name on the remote API.
    case remoteModel(String)
}

/// A finished fine-tune: its result and what the backend says about it for the report.
public struct FineTuneOutcome: Sendable, Equatable {
    public var result: FineTuneResult
    /// One line for the report's setup ("OpenAI fine-tuning job ftjob-1 (hellotune job 3) made ft:..."); nil when the
    /// backend has nothing to add.
    public var summary: String?

    public init(result: FineTuneResult, summary: String? = nil) {
        self.result = result
        self.summary = summary
    }
}

/// What `submit` did.
public enum FineTuneSubmission: Sendable, Equatable {
    /// The job runs (or was found running); follow it.
    case submitted(jobID: Int64)
    /// The request's job had finished already.
    case finished(FineTuneOutcome)
}

/// A fine-tune's progress, for progress displays.
public struct FineTuneProgress: Sendable, Equatable {
    public var step: Int
    public var totalSteps: Int
    public var message: String

    public init(step: Int, totalSteps: Int, message: String) {
        self.step = step
        self.totalSteps = totalSteps
        self.message = message
    }
}

extension JobRecord {
    /// A job that will not finish by itself any more: its run needs a new attempt.
    public var isAbandoned: Bool { status == .failed || status == .cancelled || status == .interrupted }
}
