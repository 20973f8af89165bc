import Foundation
import Support
import Store
import Backends

/// The OpenAI backend's steps of an experiment: the dataset is uploaded and fine-tuned by a remote job that the store
/// follows (so a rerun re-attaches to it), and the base and fine-tuned models are evaluated through the chat API.
extension ExperimentRunner {
    /// Seconds between two polls of a remote fine-tuning job unless HELLOTUNE_OPENAI_POLL_SECONDS says otherwise.
    public static let defaultPollInterval: Double = 10

    /// HELLOTUNE_OPENAI_POLL_SECONDS when set (it exists so that tests against a fake server can poll fast), else
    /// `defaultPollInterval`.
    public static func pollInterval(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Double {
        guard let text = environment["HELLOTUNE_OPENAI_POLL_SECONDS"], !text.isEmpty else { return defaultPollInterval }
        guard let seconds = Double(text), seconds > 0, seconds <= 3600 else { throw ExperimentError.invalidPollInterval(text) }
        return seconds
    }

    struct RemoteBackend {
        let client: OpenAIClient
        /// The base model to fine-tune and to compare with.
        let model: String
    }

    func remoteBackend() throws -> RemoteBackend {
        guard let openAI else { throw ExperimentError.openAINotConfigured }
        guard let model = config.model, !model.isEmpty else { throw ExperimentError.remoteModelMissing }
        return RemoteBackend(client: OpenAIClient(configuration: openAI, log: log), model: model)
    }

    /// A job that will not finish by itself any more and whose run needs a new one.
    static func abandoned(_ job: JobRecord) -> Bool {
        job.status == .failed || job.status == .cancelled || job.status == .interrupted
    }

    /// Fine-tunes remotely and waits for the job, polling it; the job row (remote id, events cursor) lets a rerun
    /// re-attach to the same job instead of starting another. Returns the fine-tuned model's name and a summary line.
    func fineTuneRemotely(_ remote: RemoteBackend, data: URL, seed: UInt64, word: TargetWord, runName: String, folder: URL,
                          experimentID: Int64) throws -> (model: String, summary: String) {
        let dataCopy = folder.appendingPathComponent("data.jsonl")
        if !FileManager.default.fileExists(atPath: dataCopy.path) { try FileManager.default.copyItem(at: data, to: dataCopy) }
        let tracker = FineTuneJobTracker(store: store, backend: remote.client)
        let existing = try store.jobs(experimentID: experimentID).last {
            $0.kind == "train" && $0.backend == tracker.backendName && $0.outputDir == folder.path && !Self.abandoned($0)
        }
        var job: JobRecord
        if let existing {
            job = existing
        } else {
            let spec = OpenAIJobSpec(model: remote.model, data: dataCopy.path, baseURL: remote.client.configuration.baseURL.absoluteString,
                                     suffix: "\(word.string.lowercased())-s\(seed)", seed: Int(truncatingIfNeeded: seed),
                                     epochs: config.training.epochs, batchSize: config.training.batchSize,
                                     learningRateMultiplier: config.training.learningRateMultiplier)
            job = try tracker.record(spec, experimentID: experimentID, outputDir: folder.path)
        }
        let jobID = job.id
        func summary(_ remoteID: String?, _ model: String) -> String {
            "OpenAI fine-tuning job \(remoteID ?? "?") (hellotune job \(jobID)) made \(model)"
        }
        if job.status == .succeeded, let model = try OpenAIJobSpec.decode(job.config).fineTunedModel {
            return (model, summary(job.externalID, model))
        }
        if let remoteID = job.externalID { log?("re-attaching to fine-tuning job \(jobID) (\(remoteID))") }
        progress(ExperimentProgress(stage: "train", run: runName, done: 0, total: 1,
                                    message: job.externalID.map { "re-attaching to \($0)" } ?? "uploading the dataset"))
        job = try runBlocking { try await tracker.submit(jobID: jobID) }.job
        guard let remoteID = job.externalID else {
            throw ExperimentError.remoteJobFailed(job: jobID, remoteID: nil, status: job.statusText, error: job.error)
        }
        while true {
            let sync = try runBlocking { try await tracker.sync(jobID: jobID) }
            let now = sync.job
            let loss = now.loss.map { String(format: "  loss %.4f", $0) } ?? ""
            progress(ExperimentProgress(stage: "train", run: runName, done: now.step ?? 0, total: now.totalSteps ?? 0,
                                        message: "\(remoteID) \(sync.remote.status)\(loss)"))
            switch sync.remote.status {
            case .succeeded:
                guard let model = sync.remote.fineTunedModel else {
                    throw ExperimentError.noFineTunedModel(job: jobID, remoteID: remoteID)
                }
                return (model, summary(remoteID, model))
            case .failed, .cancelled:
                throw ExperimentError.remoteJobFailed(job: jobID, remoteID: remoteID, status: sync.remote.status.rawValue,
                                                      error: sync.remote.error?.message ?? now.error)
            default:
                let until = Date().addingTimeInterval(pollInterval)
                while Date() < until {
                    if cancel.isSet { throw ExperimentError.stopped(job: jobID, remoteID: remoteID) }
                    Thread.sleep(forTimeInterval: min(0.1, max(0, until.timeIntervalSinceNow)))
                }
            }
        }
    }

    /// Chat requests in flight at once during an evaluation.
    static let requestsInFlight = 4

    /// The base and the fine-tuned model through the chat API; samples go to the store as they finish, and ones
    /// already there are not requested again.
    func evaluateRemotely(_ remote: RemoteBackend, word: TargetWord, runName: String, tunedModel: String,
                          experimentID: Int64) throws -> EvaluationResults {
        let plan = try evaluationPlan(for: word)
        let previous = try reusedOutcomes(experimentID: experimentID, runName: runName, evaluator: Evaluator(plan: plan))
        return try Evaluator(plan: plan).run(
            models: [EvaluationModel(name: Evaluator.baseName, backend: remote.client, model: remote.model,
                                     batchSize: Self.requestsInFlight),
                     EvaluationModel(name: Evaluator.tunedName, backend: remote.client, model: tunedModel,
                                     batchSize: Self.requestsInFlight)],
            previous: previous, cancel: cancel,
            onSample: { try self.storeSample($0, experimentID: experimentID, runName: runName) },
            onProgress: { done, total in
                self.progress(ExperimentProgress(stage: "evaluate", run: runName, done: done, total: total,
                                                 message: "asking the base and fine-tuned models"))
            })
    }
}
