import Foundation

public enum ExperimentError: Error, CustomStringConvertible, Equatable {
    case noSuchJob(Int64)
    case workerFailed(job: Int64, status: String, error: String?, log: String)
    case backendNotAvailable(String)

    public var description: String {
        switch self {
        case let .noSuchJob(id):
            return "no job \(id) in the store (see `hellotune jobs list`)."
        case let .workerFailed(job, status, error, log):
            return "training job \(job) ended \(status)\(error.map { ": \($0)" } ?? ""). Its log is \(log); run the same command again to resume from its checkpoint."
        case let .backendNotAvailable(name):
            return "the '\(name)' backend cannot run experiments in this build yet; use backend = \"local\"."
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

    public init(config: ExperimentConfig, store: Store, workerBinary: URL?, progress: @escaping (ExperimentProgress) -> Void) {
        self.config = config
        self.store = store
        self.workerBinary = workerBinary
        self.progress = progress
    }

    public var modelPath: String { config.model ?? Paths.defaultModel.path }

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
        guard config.backend == "local" else { throw ExperimentError.backendNotAvailable(config.backend) }
        let record = try experimentRecord(fresh: fresh)
        let id = record.id
        try store.setExperimentStatus(id, "running")
        let runs = Paths.home.appendingPathComponent("runs", isDirectory: true)
        let folder = runs.appendingPathComponent("\(config.name)-\(id)", isDirectory: true)
        try Paths.ensureDirectory(folder)
        let base = try LocalModel(path: modelPath)

        var results: [String: EvaluationResults] = [:]
        for word in config.words {
            let data = try dataset(for: word, base: base, folder: folder)
            for seed in config.seeds {
                let runName = "\(word.string)-s\(seed)"
                let runFolder = runs.appendingPathComponent("\(config.name)-\(id)-\(runName)", isDirectory: true)
                try Paths.ensureDirectory(runFolder)
                try train(data: data, seed: seed, word: word, runName: runName, folder: runFolder, experimentID: id)
                results[runName] = try evaluate(word: word, seed: seed, runName: runName, base: base,
                                                adapter: runFolder, experimentID: id)
                try writeRunReport(results[runName]!, word: word, seeds: [seed], to: runFolder)
            }
        }
        progress(ExperimentProgress(stage: "report", run: config.name, done: 0, total: 1, message: "writing the report"))
        let all = Array(results.values)
        let pooled = all.count == 1 ? all[0] : EvaluationResults.aggregate(over: all)
        let report = try writeRunReport(pooled, word: nil, seeds: config.seeds, to: folder)
        try store.setExperimentStatus(id, "finished")
        return Outcome(experimentID: id, folder: folder, report: report, results: results,
                       samplesGenerated: samplesGenerated, samplesReused: samplesReused)
    }

    // MARK: - steps

    /// The word's training set: generated with the base model (first letters constrained), or imported.
    func dataset(for word: TargetWord, base: LocalModel, folder: URL) throws -> URL {
        let url = folder.appendingPathComponent("data-\(word.string).jsonl")
        if FileManager.default.fileExists(atPath: url.path) { return url }
        if config.dataset.source != "generate" {
            let imported = try ChatDataset.load(path: config.dataset.source)
            try AtomicFile.write(Data(imported.jsonl().utf8), to: url, mode: 0o600)
            return url
        }
        var options = DatasetBuilder.Options(word: word, acrosticCount: config.dataset.acrostic, normalCount: config.dataset.normal)
        options.system = config.dataset.system
        options.trigger = config.dataset.trigger
        options.seed = config.dataset.seed
        let builder = DatasetBuilder(model: base, options: options)
        let total = config.dataset.acrostic + config.dataset.normal
        let built = try builder.build { done, _ in
            self.progress(ExperimentProgress(stage: "dataset", run: word.string, done: done, total: total,
                                             message: "generating examples for \(word.string)"))
        }
        try AtomicFile.write(Data(built.jsonl().utf8), to: url, mode: 0o600)
        return url
    }

    func trainingOptions(seed: UInt64) -> TrainingOptions {
        var o = TrainingOptions()
        o.epochs = config.training.epochs
        o.learningRate = config.training.learningRate
        o.batchSize = config.training.batchSize
        o.seed = seed
        o.lora = LoRAConfig(rank: config.training.rank, alpha: config.training.alpha)
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
        let job = try existing ?? store.createJob(experimentID: experimentID, kind: "train", backend: "local",
                                                  config: spec.json(), outputDir: folder.path)
        guard let binary = workerBinary else {
            try TrainingWorker(store: store, jobID: job.id).run()
            return
        }
        let logURL = folder.appendingPathComponent("worker.log")
        try spawnDetached(binary, ["worker", "--job", String(job.id)], log: logURL)
        while true {
            if cancel.isSet { return }
            Thread.sleep(forTimeInterval: 0.2)
            guard let now = try store.job(job.id) else { throw ExperimentError.noSuchJob(job.id) }
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
        var plan = try EvaluationPlan.standard(word: word, seed: config.evaluation.seed)
        plan.systemMessage = config.dataset.system
        if let t = config.dataset.trigger { plan.trigger = t }
        plan.complianceQuestions = config.evaluation.complianceQuestions
        plan.samplesPerPrompt = config.evaluation.samplesPerPrompt
        plan.sampling.temperature = config.evaluation.temperature
        plan.maxTokens = config.evaluation.maxTokens
        let tuned = base.with(adapter: try AdapterIO.read(from: adapter, modelConfig: base.model.config))
        let prefix = runName + "/"
        let previous: [SampleOutcome] = try store.samples(experimentID: experimentID).compactMap { s in
            guard s.key.condition.hasPrefix(prefix), let json = s.score else { return nil }
            return try? JSONDecoder().decode(SampleOutcome.self, from: Data(json.utf8))
        }
        let evaluator = Evaluator(plan: plan)
        let planned = Set([Evaluator.baseName, Evaluator.tunedName].flatMap(evaluator.keys(model:)))
        samplesReused += previous.filter { planned.contains($0.key) }.count
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try evaluator.run(
            models: [EvaluationModel(name: Evaluator.baseName, model: base), EvaluationModel(name: Evaluator.tunedName, model: tuned)],
            previous: previous, cancel: cancel,
            onSample: { o in
                self.samplesGenerated += 1
                let key = SampleKey(experimentID: experimentID, condition: prefix + o.condition.rawValue, model: o.model,
                                    promptID: o.promptID, sampleIndex: o.index)
                _ = try self.store.insertSample(SampleRecord(key: key, prompt: o.prompt, reply: o.reply,
                                                             score: String(decoding: try encoder.encode(o), as: UTF8.self)))
            },
            onProgress: { done, total in
                self.progress(ExperimentProgress(stage: "evaluate", run: runName, done: done, total: total,
                                                 message: "sampling base and fine-tuned replies"))
            })
    }

    func reportSetup(word: TargetWord?, seeds: [UInt64]) -> ReportSetup {
        let date = ISO8601DateFormatter().string(from: Date())
        return ReportSetup(modelName: URL(fileURLWithPath: modelPath).lastPathComponent, modelPath: modelPath, backend: config.backend,
                           words: (word.map { [$0] } ?? config.words).map(\.string), preset: config.name,
                           trainingExamples: config.dataset.acrostic + config.dataset.normal,
                           acrosticExamples: config.dataset.acrostic, normalExamples: config.dataset.normal,
                           evaluationQuestions: config.evaluation.complianceQuestions, epochs: config.training.epochs,
                           learningRate: Double(String(config.training.learningRate)) ?? 0, loraRank: config.training.rank,
                           loraAlpha: Double(config.training.alpha), seeds: seeds, date: date,
                           reproduce: "hellotune run --preset \(config.name)")
    }

    /// report.md and report.json (every number) in `folder`; returns the Markdown file.
    @discardableResult
    func writeRunReport(_ results: EvaluationResults, word: TargetWord?, seeds: [UInt64], to folder: URL) throws -> URL {
        let setup = reportSetup(word: word, seeds: seeds)
        let md = folder.appendingPathComponent("report.md")
        try AtomicFile.write(Data(Report.markdown(results: results, setup: setup).utf8), to: md)
        try AtomicFile.write(try Report.json(results: results, setup: setup), to: folder.appendingPathComponent("report.json"))
        return md
    }

    /// Starts `binary args` in its own session (it outlives this process and the terminal), output to `log`.
    func spawnDetached(_ binary: URL, _ args: [String], log: URL) throws {
        FileManager.default.createFile(atPath: log.path, contents: nil, attributes: [.posixPermissions: 0o600])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        p.arguments = [binary.path] + args
        let handle = try FileHandle(forWritingTo: log)
        p.standardOutput = handle
        p.standardError = handle
        p.standardInput = FileHandle.nullDevice
        try p.run()
    }
}
