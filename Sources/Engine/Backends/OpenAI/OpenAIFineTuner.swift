import Foundation
import Support
import ModelCore
import Store

/// Fine-tunes a model on the OpenAI API, as a `FineTuner`: the dataset is uploaded and trained by a remote job, which
/// `FineTuneJobTracker` follows through the store (its row holds the remote id and the events cursor), so a rerun
/// re-attaches to the same job instead of starting another.
public final class OpenAIFineTuner: FineTuner {
    public let store: Store
    public let client: OpenAIClient
    /// The base model to fine-tune.
    public let model: String
    /// nil: chosen by the API ("auto").
    public let epochs: Int?
    public let batchSize: Int?
    public let learningRateMultiplier: Double?
    /// Seconds between two polls of the remote job.
    public var pollInterval: Double
    /// One line when a run re-attaches to a job an earlier run submitted.
    public var log: ((String) -> Void)?
    let tracker: FineTuneJobTracker

    public var backendName: String { tracker.backendName }

    public init(store: Store, client: OpenAIClient, model: String, epochs: Int?, batchSize: Int?,
                learningRateMultiplier: Double?, pollInterval: Double) {
        self.store = store
        self.client = client
        self.model = model
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRateMultiplier = learningRateMultiplier
        self.pollInterval = pollInterval
        tracker = FineTuneJobTracker(store: store, backend: client)
    }

    public func submit(_ request: FineTuneRequest, progress: (FineTuneProgress) -> Void) throws -> FineTuneSubmission {
        let folder = request.folder
        let dataCopy = try request.dataCopy()
        let existing = try request.experimentID.flatMap { id in
            try store.jobs(experimentID: id).last {
                $0.kind == "train" && $0.backend == backendName && $0.outputDir == folder.path && !$0.isAbandoned
            }
        }
        var job: JobRecord
        if let existing {
            job = existing
        } else {
            let spec = OpenAIJobSpec(model: model, data: dataCopy.path, baseURL: client.configuration.baseURL.absoluteString,
                                     suffix: request.suffix, seed: Int(truncatingIfNeeded: request.seed), epochs: epochs,
                                     batchSize: batchSize, learningRateMultiplier: learningRateMultiplier)
            job = try tracker.record(spec, experimentID: request.experimentID, outputDir: folder.path)
        }
        let jobID = job.id
        if job.status == .succeeded, let model = try OpenAIJobSpec.decode(job.config).fineTunedModel {
            return .finished(outcome(job: jobID, remoteID: job.externalID, model: model))
        }
        if let remoteID = job.externalID { log?("re-attaching to fine-tuning job \(jobID) (\(remoteID))") }
        progress(FineTuneProgress(step: 0, totalSteps: 1,
                                  message: job.externalID.map { "re-attaching to \($0)" } ?? "uploading the dataset"))
        job = try runBlocking { [tracker] in try await tracker.submit(jobID: jobID) }.job
        guard job.externalID != nil else {
            throw FineTuneError.remoteJobFailed(job: jobID, remoteID: nil, status: job.statusText, error: job.error)
        }
        return .submitted(jobID: jobID)
    }

    public func follow(jobID: Int64, cancel: CancellationFlag, progress: (FineTuneProgress) -> Void) throws -> FineTuneOutcome {
        guard let job = try store.job(jobID) else { throw FineTuneError.noSuchJob(jobID) }
        guard let remoteID = job.externalID else {
            throw FineTuneError.remoteJobFailed(job: jobID, remoteID: nil, status: job.statusText, error: job.error)
        }
        var wasPaused = false
        while true {
            let sync = try runBlocking { [tracker] in try await tracker.sync(jobID: jobID) }
            let now = sync.job
            let loss = now.loss.map { String(format: "  loss %.4f", $0) } ?? ""
            // A paused job is followed on (the API or the user resumes it), said once in plain words, not polled silently.
            let paused = sync.remote.status == .paused
            if paused != wasPaused {
                log?(paused ? FineTuneJobTracker.pausedAdvice(jobID: jobID, remoteID: remoteID)
                            : "\(remoteID) (hellotune job \(jobID)) was resumed; following it on")
                wasPaused = paused
            }
            progress(FineTuneProgress(step: now.step ?? 0, totalSteps: now.totalSteps ?? 0,
                                      message: paused ? "\(remoteID) paused: `hellotune jobs resume \(jobID)` resumes it\(loss)"
                                                      : "\(remoteID) \(sync.remote.status)\(loss)"))
            switch sync.remote.status {
            case .succeeded:
                guard let model = sync.remote.fineTunedModel else {
                    throw FineTuneError.noFineTunedModel(job: jobID, remoteID: remoteID)
                }
                return outcome(job: jobID, remoteID: remoteID, model: model)
            case .failed, .cancelled:
                throw FineTuneError.remoteJobFailed(job: jobID, remoteID: remoteID, status: sync.remote.status.rawValue,
                                                    error: sync.remote.error?.message ?? now.error)
            default:
                let until = Date().addingTimeInterval(pollInterval)
                while Date() < until {
                    if cancel.isSet { throw FineTuneError.stopped(job: jobID, remoteID: remoteID) }
                    Thread.sleep(forTimeInterval: min(0.1, max(0, until.timeIntervalSinceNow)))
                }
            }
        }
    }

    func outcome(job: Int64, remoteID: String?, model: String) -> FineTuneOutcome {
        FineTuneOutcome(result: .remoteModel(model),
                        summary: "OpenAI fine-tuning job \(remoteID ?? "?") (hellotune job \(job)) made \(model)")
    }

    /// Cancels the remote job now; one not yet submitted is marked cancelled and never will be.
    public func cancel(jobID: Int64) throws -> JobRecord {
        try runBlocking { [tracker] in try await tracker.cancel(jobID: jobID) }
    }

    /// Finishes a submission a stopped process left halfway (the upload or the create request), or runs a job the API
    /// paused again; any other submitted job goes on by itself, and `follow` re-attaches to it.
    public func resume(jobID: Int64) throws -> String {
        if let job = try store.job(jobID), let remoteID = job.externalID,
           try runBlocking({ [tracker] in try await tracker.sync(jobID: jobID) }).remote.status == .paused {
            let resumed = try runBlocking { [tracker] in try await tracker.resume(jobID: jobID) }
            return "job \(jobID): resumed \(remoteID) through the API (now \(resumed.statusText)); "
                + "follow it with `hellotune jobs show \(jobID)`"
        }
        let submission = try runBlocking { [tracker] in try await tracker.submit(jobID: jobID) }
        guard let remoteID = submission.job.externalID else {
            return "job \(jobID) is \(submission.job.statusText); nothing was submitted"
        }
        return submission.remote == nil
            ? "job \(jobID) was submitted already (\(remoteID)); follow it with `hellotune jobs show \(jobID)`"
            : "job \(jobID) submitted as \(remoteID); follow it with `hellotune jobs show \(jobID)`"
    }
}
