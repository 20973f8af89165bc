import Foundation
import Support
import ModelCore
import Training
import Store

/// Fine-tunes the local model with LoRA, as a `FineTuner`. The job's row holds a `TrainingJobSpec`, and a worker
/// process (`hellotune worker --job ID`, in a session of its own) trains it, so closing the terminal loses nothing;
/// this process follows the worker through the store. Without a worker binary it trains in this process.
public final class LocalFineTuner: FineTuner {
    public let backendName = "local"
    public let store: Store
    /// The GGUF to fine-tune.
    public let modelPath: String
    /// Every job's hyperparameters; each request's seed replaces `options.seed`.
    public let options: TrainingOptions
    /// The `hellotune` binary that runs training workers (nil: train in this process).
    public let workerBinary: URL?
    /// The environment a worker starts with, over this process's own (HELLOTUNE_HOME, for one on another store).
    public var workerEnvironment: [String: String] = [:]
    /// One line when a run follows a worker another run started.
    public var log: ((String) -> Void)?
    /// The workers this process started, by job: `follow` tells a worker that ended without a word from a live one.
    private var workers: [Int64: SessionProcess] = [:]

    public init(store: Store, modelPath: String, options: TrainingOptions, workerBinary: URL?) {
        self.store = store
        self.modelPath = modelPath
        self.options = options
        self.workerBinary = workerBinary
    }

    /// The options of one request's job.
    public func options(seed: UInt64) -> TrainingOptions {
        var o = options
        o.seed = seed
        return o
    }

    public func submit(_ request: FineTuneRequest, progress: (FineTuneProgress) -> Void) throws -> FineTuneSubmission {
        let folder = request.folder
        // A finished adapter is reused.
        if let summary = try? JSONDecoder().decode(TrainingSummary.self, from: Data(contentsOf: folder.appendingPathComponent("training.json"))),
           !summary.cancelled, FileManager.default.fileExists(atPath: folder.appendingPathComponent(AdapterIO.peftWeightsFile).path) {
            return .finished(FineTuneOutcome(result: .adapter(folder)))
        }
        let spec = TrainingJobSpec(model: modelPath, data: try request.dataCopy().path, outputDirectory: folder.path,
                                   options: options(seed: request.seed))
        let existing = try request.experimentID.flatMap { id in
            try store.jobs(experimentID: id).last { $0.kind == "train" && $0.outputDir == folder.path && $0.status != .succeeded }
        }
        var job = try existing ?? store.createJob(experimentID: request.experimentID, kind: "train", backend: backendName,
                                                  config: spec.json(), outputDir: folder.path)
        let deadWorker = job.status == .running && !(job.pid.map(ProcessLiveness.isAlive) ?? false)
        if deadWorker || job.isAbandoned {
            // Queued again for the new worker: until it claims the job, its old ending is not this attempt's.
            job = try store.updateJob(job.id) {
                $0.status = .queued
                $0.error = nil
                $0.pid = nil
            }
        }
        guard let binary = workerBinary else { return .submitted(jobID: job.id) }
        let logURL = folder.appendingPathComponent("worker.log")
        // A run stopped during training leaves its worker going: the same command run again follows that worker
        // instead of starting a second one on the same checkpoint.
        if job.status == .running, let pid = job.pid, ProcessLiveness.isAlive(pid) {
            log?("training job \(job.id) is already running in worker pid \(pid); following it (its log is \(logURL.path))")
        } else {
            // Its own session: it outlives this process and the terminal.
            workers[job.id] = try SessionProcess.start(binary.path, ["worker", "--job", String(job.id)], appendingTo: logURL,
                                                        environment: workerEnvironment)
        }
        return .submitted(jobID: job.id)
    }

    public func follow(jobID: Int64, cancel: CancellationFlag, progress: (FineTuneProgress) -> Void) throws -> FineTuneOutcome {
        guard let job = try store.job(jobID) else { throw FineTuneError.noSuchJob(jobID) }
        let folder = URL(fileURLWithPath: job.outputDir ?? "", isDirectory: true)
        guard workerBinary != nil else {
            try TrainingWorker(store: store, jobID: jobID).run()
            return FineTuneOutcome(result: .adapter(folder))
        }
        let logURL = folder.appendingPathComponent("worker.log")
        let worker = workers[jobID]
        defer { if worker?.hasExited ?? false { workers[jobID] = nil } }
        while true {
            if cancel.isSet { throw FineTuneError.trainingStopped(job: jobID, log: logURL.path) }
            Thread.sleep(forTimeInterval: 0.2)
            // Asked before the store is read: a worker that records its result and then ends is not taken for dead.
            let workerEnded = worker?.hasExited ?? false
            guard var now = try store.job(jobID) else { throw FineTuneError.noSuchJob(jobID) }
            if let worker, workerEnded, now.status == .queued || (now.status == .running && now.pid == worker.pid) {
                now = try recordWorkerEnd(worker, jobID: jobID)
            }
            if let step = now.step, let total = now.totalSteps {
                progress(FineTuneProgress(step: step, totalSteps: total,
                                          message: String(format: "loss %.4f  %.0f tok/s", now.loss ?? 0, now.tokensPerSecond ?? 0)))
            }
            switch now.status {
            case .succeeded?: return FineTuneOutcome(result: .adapter(folder))
            case .failed?, .cancelled?, .interrupted?:
                throw FineTuneError.workerFailed(job: jobID, status: now.statusText, error: now.error, log: logURL.path)
            default:
                // a worker that died without a word (kill -9) leaves its job "running" with a dead pid
                if now.status == .running, let pid = now.pid, !ProcessLiveness.isAlive(pid) {
                    _ = try store.markInterruptedJobs()
                }
            }
        }
    }

    /// A worker that ended while its job was still queued (killed before it claimed the job, or it failed to
    /// start) or running (killed before it recorded a result) leaves the job interrupted, saying so; a rerun of
    /// the experiment starts a new worker on it.
    func recordWorkerEnd(_ worker: SessionProcess, jobID: Int64) throws -> JobRecord {
        try store.updateJob(jobID) {
            // Running under another pid: another worker took the job over; `submit`'s check of the recorded pid follows it.
            guard $0.status == .queued || ($0.status == .running && $0.pid == worker.pid) else { return }
            let claimed = $0.status == .running
            $0.status = .interrupted
            $0.error = "its worker (pid \(worker.pid)) \(worker.ending ?? "ended") "
                + (claimed ? "without recording a result" : "before it started the job")
            $0.pid = nil
        }
    }

    public func cancel(jobID: Int64) throws -> JobRecord {
        try JobCancel.cancel(jobID: jobID, store: store).job
    }

    public func resume(jobID: Int64) throws -> String {
        guard let job = try store.job(jobID) else { throw FineTuneError.noSuchJob(jobID) }
        guard let binary = workerBinary else { throw TrainingJobResume.Refusal.noWorker(job: jobID) }
        let started = try TrainingJobResume.start(job, executable: binary.path, environment: workerEnvironment, requeueIn: store)
        workers[jobID] = started.process
        return started.message
    }
}
