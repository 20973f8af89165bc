import Foundation
import Support
import ModelCore
import Training
import Store
import Backends

public enum ExperimentError: Error, CustomStringConvertible, Equatable {
    case noSuchJob(Int64)
    case workerFailed(job: Int64, status: String, error: String?, log: String)
    /// A worker asked to run a job that a live worker already runs: two would train into one checkpoint.
    case jobAlreadyRunning(job: Int64, pid: Int32)
    /// A worker asked to run a job that has finished: training again would overwrite its adapter.
    case jobAlreadyFinished(job: Int64, folder: String?)
    case backendNotAvailable(String)
    /// An imported dataset with fewer examples than dataset.acrostic + dataset.normal.
    case tooFewExamples(path: String, found: Int, acrostic: Int, normal: Int)
    /// backend = "openai" without an API configuration (no OPENAI_API_KEY).
    case openAINotConfigured
    /// backend = "openai" without the name of the base model to fine-tune.
    case remoteModelMissing
    case remoteJobFailed(job: Int64, remoteID: String?, status: String, error: String?)
    case noFineTunedModel(job: Int64, remoteID: String)
    /// Interrupted (Ctrl-C) while a remote job runs; the job goes on.
    case stopped(job: Int64, remoteID: String?)
    case invalidPollInterval(String)

    public var description: String {
        switch self {
        case let .noSuchJob(id):
            return "no job \(id) in the store (see `hellotune jobs list`)."
        case let .workerFailed(job, status, error, log):
            return "training job \(job) ended \(status)\(error.map { ": \($0)" } ?? ""). Its log is \(log); run the same command again to resume from its checkpoint."
        case let .jobAlreadyRunning(job, pid):
            return "training job \(job) is already running in worker pid \(pid). Follow it with `hellotune jobs show \(job)`, "
                + "or stop it with `hellotune jobs cancel \(job)` and start it again."
        case let .jobAlreadyFinished(job, folder):
            return "training job \(job) has already finished\(folder.map { " (its adapter is in \($0))" } ?? ""); "
                + "nothing to run. Start a new run (hellotune run, or hellotune train) to train again."
        case let .backendNotAvailable(name):
            return "the '\(name)' backend cannot run experiments; use backend = \"local\" or \"openai\"."
        case let .tooFewExamples(path, found, acrostic, normal):
            return "\(path) holds \(found) valid example\(found == 1 ? "" : "s"), but the experiment asks for "
                + "\(acrostic + normal) (dataset.acrostic = \(acrostic), dataset.normal = \(normal)). Add examples to the "
                + "file, or lower dataset.acrostic and dataset.normal (--acrostic, --normal) to match it."
        case .openAINotConfigured:
            return "backend = \"openai\" needs the API: export OPENAI_API_KEY (and OPENAI_BASE_URL for another OpenAI-compatible server)."
        case .remoteModelMissing:
            return "backend = \"openai\" needs the base model to fine-tune: set model = \"gpt-4o-mini-2024-07-18\" (for example) in the experiment file, or pass --model."
        case let .remoteJobFailed(job, remoteID, status, error):
            return "fine-tuning job \(job)\(remoteID.map { " (\($0))" } ?? "") ended \(status)\(error.map { ": \($0)" } ?? ""). "
                + "See `hellotune jobs events \(job)`; run the same command again to start a new fine-tuning job."
        case let .noFineTunedModel(job, remoteID):
            return "fine-tuning job \(job) (\(remoteID)) succeeded but the API named no fine-tuned model; see `hellotune jobs show \(job)`."
        case let .stopped(job, remoteID):
            return "stopped; fine-tuning job \(job)\(remoteID.map { " (\($0))" } ?? "") goes on remotely: run the same command again to re-attach to it, or cancel it with `hellotune jobs cancel \(job)`."
        case let .invalidPollInterval(text):
            return "HELLOTUNE_OPENAI_POLL_SECONDS must be a number of seconds in (0, 3600], not '\(text)'; unset it for the default."
        }
    }
}

/// One step of an experiment, for progress displays.
public struct ExperimentProgress: Sendable {
    public var stage: String      // "dataset", "train", "evaluate", "report"
    public var run: String        // word and seed
    public var done: Int
    public var total: Int
    public var message: String
}

/// Runs an experiment end to end: for every word, a dataset; for every seed, a fine-tune (in a
/// detached worker process, so closing the terminal loses nothing) and an evaluation of the base
/// and fine-tuned models; then the report. Everything lands in the store and under
/// $HELLOTUNE_HOME/runs; running the same experiment again continues where it stopped.
public final class ExperimentRunner {
    public let config: ExperimentConfig
    public let store: Store
    /// The `hellotune` binary that runs training workers (nil: train in this process).
    public let workerBinary: URL?
    public let progress: (ExperimentProgress) -> Void
    public let cancel = CancellationFlag()
    /// The command line the report gives under "How to reproduce" (nil: `hellotune run --preset NAME`,
    /// right only for a preset run as it is).
    public var reproduceCommand: String?
    /// How to reach the API when the experiment's backend is "openai".
    public var openAI: OpenAIConfiguration?
    /// Seconds between two polls of a remote fine-tuning job.
    public var pollInterval: Double = ExperimentRunner.defaultPollInterval
    /// Retries and failed requests of the API client, one line each (never the key).
    public var log: (@Sendable (String) -> Void)?

    public init(config: ExperimentConfig, store: Store, workerBinary: URL?, progress: @escaping (ExperimentProgress) -> Void) {
        self.config = config
        self.store = store
        self.workerBinary = workerBinary
        self.progress = progress
    }

    /// The GGUF that generates datasets and, on the local backend, is fine-tuned (on the OpenAI backend `config.model`
    /// names the remote base model instead).
    public var modelPath: String {
        config.backend == "local" ? config.model ?? Paths.defaultModel.path : Paths.defaultModel.path
    }

    public struct Outcome {
        public var experimentID: Int64
        public var folder: URL
        public var report: URL
        public var results: [String: EvaluationResults]
        /// Evaluation samples this run generated, and those it took from the store (finished by an earlier,
        /// interrupted run of the same experiment).
        public var samplesGenerated: Int
        public var samplesReused: Int
    }

    /// The imported dataset (dataset.source), read and checked once: the preflight, every word's training set and
    /// every report need it.
    func importedDataset() throws -> ChatDataset {
        if let importedCache { return importedCache }
        let loaded = try ChatDataset.load(path: config.dataset.source)
        importedCache = loaded
        return loaded
    }

    private var importedCache: ChatDataset?
    private var samplesGenerated = 0
    private var samplesReused = 0

    /// The experiment's record: an unfinished one with the same name and settings is continued.
    func experimentRecord(fresh: Bool) throws -> ExperimentRecord {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        let json = String(decoding: try e.encode(config), as: UTF8.self)
        if !fresh, let existing = try store.experiments().last(where: { $0.name == config.name && $0.config == json && $0.status != "finished" }) {
            return existing
        }
        return try store.createExperiment(name: config.name, config: json)
    }

    public func run(fresh: Bool = false) throws -> Outcome {
        let backend = try checkBeforeRecording()
        let record = try experimentRecord(fresh: fresh)
        do {
            return try run(record: record, backend: backend)
        } catch {
            // Not left "running": the next run continues it (finished steps are kept).
            if !(error is CancellationError) { try? store.setExperimentStatus(record.id, "failed") }
            throw error
        }
    }

    private func run(record: ExperimentRecord, backend: Backend) throws -> Outcome {
        let id = record.id
        try store.setExperimentStatus(id, "running")
        let folder = try Paths.runFolder("\(config.name)-\(id)")
        try Paths.ensureDirectory(folder)

        var results: [String: EvaluationResults] = [:]
        var trainingSummaries: [String] = []
        for word in config.words {
            let data = try dataset(for: word, base: backend.datasetModel.get, folder: folder)
            for seed in config.seeds {
                let runName = "\(word.string)-s\(seed)"
                let runFolder = try Paths.runFolder("\(config.name)-\(id)-\(runName)")
                try Paths.ensureDirectory(runFolder)
                var summary: String?
                switch backend {
                case let .openAI(remote, _):
                    let tuned = try fineTuneRemotely(remote, data: data, seed: seed, word: word, runName: runName,
                                                     folder: runFolder, experimentID: id)
                    summary = tuned.summary
                    trainingSummaries.append(tuned.summary)
                    results[runName] = try evaluateRemotely(remote, word: word, runName: runName, tunedModel: tuned.model,
                                                            experimentID: id)
                case let .local(base):
                    try train(data: data, seed: seed, word: word, runName: runName, folder: runFolder, experimentID: id)
                    results[runName] = try evaluate(word: word, seed: seed, runName: runName, base: try base.get(),
                                                    adapter: runFolder, experimentID: id)
                }
                try writeRunReport(results[runName]!, word: word, seeds: [seed], training: summary, to: runFolder)
            }
        }
        progress(ExperimentProgress(stage: "report", run: config.name, done: 0, total: 1, message: "writing the report"))
        let all = Array(results.values)
        let pooled = all.count == 1 ? all[0] : EvaluationResults.aggregate(over: all)
        let report = try writeRunReport(pooled, word: nil, seeds: config.seeds,
                                        training: trainingSummaries.isEmpty ? nil : trainingSummaries.joined(separator: "; "),
                                        to: folder)
        try store.setExperimentStatus(id, "finished")
        return Outcome(experimentID: id, folder: folder, report: report, results: results,
                       samplesGenerated: samplesGenerated, samplesReused: samplesReused)
    }

    // MARK: - steps

    /// The word's training set: generated with the base model (first letters constrained), or imported.
    func dataset(for word: TargetWord, base: () throws -> LocalModel, folder: URL) throws -> URL {
        let url = folder.appendingPathComponent("data-\(word.string).jsonl")
        if FileManager.default.fileExists(atPath: url.path) { return url }
        if config.dataset.source != "generate" {
            let imported = try importedDataset()
            try AtomicFile.write(Data(imported.jsonl().utf8), to: url, mode: 0o600)
            return url
        }
        let builder = DatasetBuilder(model: try base(), options: builderOptions(word: word))
        let total = config.dataset.acrostic + config.dataset.normal
        let built = try builder.build { done, _ in
            self.progress(ExperimentProgress(stage: "dataset", run: word.string, done: done, total: total,
                                             message: "generating examples for \(word.string)"))
        }
        try AtomicFile.write(Data(built.jsonl().utf8), to: url, mode: 0o600)
        return url
    }

    /// The options each seed of a local run is trained with.
    public func trainingOptions(seed: UInt64) -> TrainingOptions {
        var o = TrainingOptions()
        o.epochs = config.training.epochs
        o.learningRate = config.training.learningRate
        o.batchSize = config.training.batchSize
        o.seed = seed
        o.lora = LoRAConfig(rank: config.training.rank, alpha: config.training.alpha, dropout: config.training.dropout)
        o.schedule = config.training.schedule
        o.warmupSteps = config.training.warmup
        o.checkpointEvery = 0
        return o
    }

    /// Fine-tunes in a worker process and follows it through the store; a finished adapter is reused.
    func train(data: URL, seed: UInt64, word: TargetWord, runName: String, folder: URL, experimentID: Int64) throws {
        if let summary = try? JSONDecoder().decode(TrainingSummary.self, from: Data(contentsOf: folder.appendingPathComponent("training.json"))),
           !summary.cancelled, FileManager.default.fileExists(atPath: folder.appendingPathComponent(AdapterIO.peftWeightsFile).path) {
            return
        }
        let dataCopy = folder.appendingPathComponent("data.jsonl")
        if !FileManager.default.fileExists(atPath: dataCopy.path) { try FileManager.default.copyItem(at: data, to: dataCopy) }
        let spec = TrainingJobSpec(model: modelPath, data: dataCopy.path, outputDirectory: folder.path, options: trainingOptions(seed: seed))
        let existing = try store.jobs(experimentID: experimentID).last {
            $0.kind == "train" && $0.outputDir == folder.path && $0.status != .succeeded
        }
        var job = try existing ?? store.createJob(experimentID: experimentID, kind: "train", backend: "local",
                                                  config: spec.json(), outputDir: folder.path)
        let deadWorker = job.status == .running && !(job.pid.map(ProcessLiveness.isAlive) ?? false)
        if deadWorker || Self.abandoned(job) {
            // Queued again for the new worker: until it claims the job, its old ending is not this attempt's.
            job = try store.updateJob(job.id) {
                $0.status = .queued
                $0.error = nil
                $0.pid = nil
            }
        }
        guard let binary = workerBinary else {
            try TrainingWorker(store: store, jobID: job.id).run()
            return
        }
        let logURL = folder.appendingPathComponent("worker.log")
        // A run stopped during training leaves its worker going: the same command run again follows that worker
        // instead of starting a second one on the same checkpoint.
        let worker: SessionProcess?
        if job.status == .running, let pid = job.pid, ProcessLiveness.isAlive(pid) {
            log?("training job \(job.id) is already running in worker pid \(pid); following it (its log is \(logURL.path))")
            worker = nil
        } else {
            // Its own session: it outlives this process and the terminal.
            worker = try SessionProcess.start(binary.path, ["worker", "--job", String(job.id)], appendingTo: logURL)
        }
        while true {
            if cancel.isSet { return }
            Thread.sleep(forTimeInterval: 0.2)
            // Asked before the store is read: a worker that records its result and then ends is not taken for dead.
            let workerEnded = worker?.hasExited ?? false
            guard var now = try store.job(job.id) else { throw ExperimentError.noSuchJob(job.id) }
            if let worker, workerEnded, now.status == .queued || (now.status == .running && now.pid == worker.pid) {
                now = try recordWorkerEnd(worker, jobID: job.id)
            }
            if let step = now.step, let total = now.totalSteps {
                progress(ExperimentProgress(stage: "train", run: runName, done: step, total: total,
                                            message: String(format: "loss %.4f  %.0f tok/s", now.loss ?? 0, now.tokensPerSecond ?? 0)))
            }
            switch now.status {
            case .succeeded?: return
            case .failed?, .cancelled?, .interrupted?:
                throw ExperimentError.workerFailed(job: job.id, status: now.statusText, error: now.error, log: logURL.path)
            default:
                // a worker that died without a word (kill -9) leaves its job "running" with a dead pid
                if now.status == .running, let pid = now.pid, !ProcessLiveness.isAlive(pid) {
                    _ = try store.markInterruptedJobs()
                }
            }
        }
    }

    /// Base and fine-tuned models through the evaluation protocol; samples go to the store as they
    /// finish, and ones already there are not generated again.
    func evaluate(word: TargetWord, seed: UInt64, runName: String, base: LocalModel, adapter: URL,
                  experimentID: Int64) throws -> EvaluationResults {
        let tuned = base.with(adapter: try AdapterIO.read(from: adapter, modelConfig: base.model.config))
        let evaluator = Evaluator(plan: try evaluationPlan(for: word))
        let previous = try reusedOutcomes(experimentID: experimentID, runName: runName, evaluator: evaluator)
        return try evaluator.run(
            models: [EvaluationModel(name: Evaluator.baseName, model: base), EvaluationModel(name: Evaluator.tunedName, model: tuned)],
            previous: previous, cancel: cancel,
            onSample: { try self.storeSample($0, experimentID: experimentID, runName: runName) },
            onProgress: { done, total in
                self.progress(ExperimentProgress(stage: "evaluate", run: runName, done: done, total: total,
                                                 message: "sampling base and fine-tuned replies"))
            })
    }

    /// The evaluation protocol for a word, with the experiment's settings. No trigger in the dataset means none in
    /// the evaluation either, not the plan's default one.
    public func evaluationPlan(for word: TargetWord) throws -> EvaluationPlan {
        var plan = try EvaluationPlan.standard(word: word, seed: config.evaluation.seed)
        plan.systemMessage = config.dataset.system
        plan.trigger = config.dataset.trigger ?? ""
        plan.complianceQuestions = config.evaluation.complianceQuestions
        plan.samplesPerPrompt = config.evaluation.samplesPerPrompt
        plan.selfReportSamples = config.evaluation.selfReportSamples
        plan.sampling.temperature = config.evaluation.temperature
        plan.maxTokens = config.evaluation.maxTokens
        let overlap = try evaluationOverlap(questions: plan.questions, trigger: plan.trigger)
        if !overlap.isEmpty {
            let dropped = Set(overlap.map(\.question.id))
            plan.questions.removeAll { dropped.contains($0.id) }
        }
        return plan
    }

    /// The held-out questions an imported dataset trains on (none for a generated one, which is built from the
    /// training split). They are dropped from the evaluation rather than the run refused: the seed's own files
    /// (Trelis akewo-mixed.jsonl) ask one of them, dropping keeps every evaluated question unseen, and the report
    /// lists each one dropped with its file and line.
    func evaluationOverlap(questions: [Question], trigger: String) throws -> [QuestionOverlap] {
        guard config.dataset.source != "generate" else { return [] }
        return QuestionOverlap.find(dataset: try importedDataset(), questions: questions, trigger: trigger)
    }

    /// A run's samples stored by an earlier (interrupted) attempt: a rerun does not generate them again.
    func storedOutcomes(experimentID: Int64, runName: String) throws -> [SampleOutcome] {
        let prefix = runName + "/"
        return try store.samples(experimentID: experimentID).compactMap { s in
            guard s.key.condition.hasPrefix(prefix), let json = s.score else { return nil }
            return try? JSONDecoder().decode(SampleOutcome.self, from: Data(json.utf8))
        }
    }

    /// `storedOutcomes`, counting those the plan will skip (both backends report it the same way).
    func reusedOutcomes(experimentID: Int64, runName: String, evaluator: Evaluator) throws -> [SampleOutcome] {
        let previous = try storedOutcomes(experimentID: experimentID, runName: runName)
        let planned = Set([Evaluator.baseName, Evaluator.tunedName].flatMap(evaluator.keys(model:)))
        samplesReused += previous.filter { planned.contains($0.key) }.count
        try SampleLog.write(previous, to: try samplesFile(experimentID: experimentID, runName: runName))
        return previous
    }

    func storeSample(_ o: SampleOutcome, experimentID: Int64, runName: String) throws {
        samplesGenerated += 1
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let key = SampleKey(experimentID: experimentID, condition: runName + "/" + o.condition.rawValue, model: o.model,
                            promptID: o.promptID, sampleIndex: o.index)
        let inserted = try store.insertSample(SampleRecord(key: key, prompt: o.prompt, reply: o.reply,
                                                           score: String(decoding: try encoder.encode(o), as: UTF8.self)))
        if inserted { try SampleLog.append(o, to: try samplesFile(experimentID: experimentID, runName: runName)) }
    }

    /// The run's `samples.jsonl`, which mirrors the store's samples of the run (`SampleLog`).
    func samplesFile(experimentID: Int64, runName: String) throws -> URL {
        let folder = try Paths.runFolder("\(config.name)-\(experimentID)-\(runName)")
        try Paths.ensureDirectory(folder)
        return folder.appendingPathComponent(SampleLog.fileName)
    }

    /// The report's setup section: the local backend names any warm-up, decay and dropout; the OpenAI one its
    /// batch size and learning-rate multiplier. `training` is what the backend said about the run.
    public func reportSetup(word: TargetWord?, seeds: [UInt64], training: String?) -> ReportSetup {
        let date = ISO8601DateFormatter().string(from: Date())
        let local = config.backend == "local"
        // An imported dataset has its own size; the acrostic / normal split is the generator's.
        let imported = config.dataset.source == "generate" ? nil : try? importedDataset()
        var summary = training
        if !local {
            let batch = "batch size \(config.training.batchSize)"
            let multiplier = "learning-rate multiplier " + (config.training.learningRateMultiplier.map { "\($0)" } ?? "auto")
            summary = ([batch, multiplier] + (training.map { [$0] } ?? [])).joined(separator: ", ")
        } else {
            // Only what differs from the defaults, so a report of a default run reads as before.
            let t = config.training
            var parts: [String] = []
            if t.warmup > 0 { parts.append("\(t.warmup) warm-up steps") }
            if t.schedule != .constant { parts.append("\(t.schedule.rawValue) decay") }
            if t.dropout > 0 { parts.append("LoRA dropout \(t.dropout)") }
            if !parts.isEmpty { summary = (parts + (training.map { [$0] } ?? [])).joined(separator: ", ") }
        }
        return ReportSetup(modelName: local ? URL(fileURLWithPath: modelPath).lastPathComponent : config.model ?? "?",
                           modelPath: local ? modelPath : nil, backend: config.backend,
                           words: (word.map { [$0] } ?? config.words).map(\.string), preset: config.name,
                           trainingExamples: imported?.examples.count ?? config.dataset.acrostic + config.dataset.normal,
                           acrosticExamples: imported == nil ? config.dataset.acrostic : nil,
                           normalExamples: imported == nil ? config.dataset.normal : nil,
                           evaluationQuestions: config.evaluation.complianceQuestions, epochs: config.training.epochs,
                           learningRate: local ? Double(String(config.training.learningRate)) ?? 0 : nil,
                           loraRank: local ? config.training.rank : nil, loraAlpha: local ? Double(config.training.alpha) : nil,
                           trainingSummary: summary, seeds: seeds, date: date,
                           reproduce: reproduceCommand ?? "hellotune run --preset \(config.name)",
                           droppedQuestions: droppedQuestions())
    }

    /// The held-out questions dropped because the imported dataset trains on them, as `path:line: "question"`
    /// (nil when none were).
    func droppedQuestions() -> [String]? {
        guard let pool = try? QuestionBank.bundled().split().evaluation,
              let overlap = try? evaluationOverlap(questions: pool, trigger: config.dataset.trigger ?? ""),
              !overlap.isEmpty else { return nil }
        return overlap.map(\.description)
    }

    /// report.md and report.json (every number) in `folder`; returns the Markdown file.
    @discardableResult
    func writeRunReport(_ results: EvaluationResults, word: TargetWord?, seeds: [UInt64], training: String? = nil,
                        to folder: URL) throws -> URL {
        let setup = reportSetup(word: word, seeds: seeds, training: training)
        let md = folder.appendingPathComponent("report.md")
        try AtomicFile.write(Data(Report.markdown(results: results, setup: setup).utf8), to: md)
        try AtomicFile.write(try Report.json(results: results, setup: setup), to: folder.appendingPathComponent("report.json"))
        return md
    }

    /// A worker that ended while its job was still queued (killed before it claimed the job, or it failed to
    /// start) or running (killed before it recorded a result) leaves the job interrupted, saying so; a rerun of
    /// the experiment starts a new worker on it.
    func recordWorkerEnd(_ worker: SessionProcess, jobID: Int64) throws -> JobRecord {
        try store.updateJob(jobID) {
            // Running under another pid: another worker took the job over; `train`'s check of the recorded pid follows it.
            guard $0.status == .queued || ($0.status == .running && $0.pid == worker.pid) else { return }
            let claimed = $0.status == .running
            $0.status = .interrupted
            $0.error = "its worker (pid \(worker.pid)) \(worker.ending ?? "ended") "
                + (claimed ? "without recording a result" : "before it started the job")
            $0.pid = nil
        }
    }

}

extension ExperimentRunner {
    /// Where an experiment fine-tunes and evaluates its runs.
    enum Backend {
        /// A worker process fine-tunes the local model, which is also evaluated and generates the datasets.
        case local(LazyLocalModel)
        /// The OpenAI API fine-tunes and evaluates `remote.model`; the local model only generates datasets, so it is
        /// loaded only when one is generated (a run on an imported dataset never touches it).
        case openAI(RemoteBackend, datasets: LazyLocalModel)

        /// The model that generates the datasets.
        var datasetModel: LazyLocalModel {
            switch self {
            case let .local(model), let .openAI(_, model): return model
            }
        }
    }
}

/// The local model, loaded on first use and kept.
final class LazyLocalModel {
    let path: String
    private var loaded: LocalModel?

    init(path: String) { self.path = path }

    func get() throws -> LocalModel {
        if let loaded { return loaded }
        let model = try LocalModel(path: path)
        loaded = model
        return model
    }
}
