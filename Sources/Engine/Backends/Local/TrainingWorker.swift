import Foundation
import Support
import ModelCore
import Training
import Store

/// Runs one training job in this process and mirrors its progress into the store and into
/// `log.jsonl` in the run folder (which the Jobs screen and `hellotune jobs` read). Resumes from
/// the folder's checkpoint when there is one, so a killed worker just gets started again.
public final class TrainingWorker: @unchecked Sendable {
    public let store: Store
    public let jobID: Int64
    private var trainer: Trainer?
    private let lock = NSLock()

    public init(store: Store, jobID: Int64) {
        self.store = store
        self.jobID = jobID
    }

    /// Asks the job to stop after its current step (it saves a checkpoint first).
    public func cancel() {
        lock.lock()
        defer { lock.unlock() }
        trainer?.cancel()
    }

    @discardableResult
    public func run(log: (String) -> Void = { _ in }) throws -> TrainingSummary {
        guard let job = try store.job(jobID) else { throw FineTuneError.noSuchJob(jobID) }
        let spec = try TrainingJobSpec.decode(job.config)
        _ = try store.updateJob(jobID) {
            // Checked and claimed in one transaction: of two workers started on one job, one trains.
            if $0.status == .running, let other = $0.pid, other != getpid(), ProcessLiveness.isAlive(other) {
                throw FineTuneError.jobAlreadyRunning(job: jobID, pid: other)
            }
            if $0.status == .succeeded { throw FineTuneError.jobAlreadyFinished(job: jobID, folder: $0.outputDir) }
            $0.status = .running
            $0.statusText = JobStatus.running.rawValue
            $0.pid = getpid()
            $0.error = nil
        }
        do {
            let model = try LocalModel(path: spec.model)
            let examples = try TrainingExample.encodeAll(ChatDataset.load(path: spec.data), model: model)
            let out = URL(fileURLWithPath: spec.outputDirectory)
            let t = try Trainer(model: TrainableModel(base: model.model), examples: examples, options: spec.options,
                                outputDirectory: out, modelPath: spec.model)
            lock.lock()
            trainer = t
            lock.unlock()
            let resume = FileManager.default.fileExists(atPath: t.checkpointURL.path)
            // The log lives in the output folder, which the trainer would only create once it starts.
            do { try Paths.ensureDirectory(out) } catch {
                throw TrainingError.outputNotWritable(path: out.path, reason: error.localizedDescription)
            }
            let logURL = out.appendingPathComponent("log.jsonl")
            let logFile = try AppendFile.open(logURL)
            defer { try? logFile.close() }
            // The store decides whether this job may train (a finished one was refused above), and an experiment run
            // again retrains its unfinished folders; the folder's lock still keeps a second worker out.
            let summary = try t.run(resume: resume, replacingAdapter: true) { event in
                let object = event.jsonObject
                let line = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
                logFile.write(line + Data("\n".utf8))
                let kind = object["event"] as? String ?? "event"
                // step events update the job row; every event is kept except the per-step flood
                // Training goes on when the store cannot take a record (log.jsonl has it), but says so.
                do {
                    if case let .step(s) = event {
                        try self.store.updateJob(self.jobID) {
                            $0.step = s.step
                            $0.totalSteps = s.totalSteps
                            $0.loss = s.loss
                            $0.tokensPerSecond = s.tokensPerSecond
                            $0.etaSeconds = s.etaSeconds
                        }
                    }
                    try self.store.appendEvents(jobID: self.jobID, [(kind: kind, payload: String(decoding: line, as: UTF8.self), externalID: nil)])
                } catch {
                    log("could not record the \(kind) event in the store (training goes on): \(error)")
                }
                if case let .epochEnded(epoch, loss, tps) = event {
                    log(String(format: "epoch %d: loss %.4f, %.0f tok/s", epoch, loss, tps))
                }
                if case let .validated(epoch, loss, n) = event {
                    log(String(format: "epoch %d: validation loss %.4f (%d held out)", epoch, loss, n))
                }
            }
            _ = try store.updateJob(jobID) {
                $0.status = summary.cancelled ? .cancelled : .succeeded
                $0.statusText = ($0.status ?? .succeeded).rawValue
                $0.pid = nil
            }
            return summary
        } catch {
            _ = try? store.updateJob(jobID) {
                $0.status = .failed
                $0.statusText = JobStatus.failed.rawValue
                $0.error = "\(error)"
                $0.pid = nil
            }
            throw error
        }
    }
}
