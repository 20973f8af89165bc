import Foundation
import Support
import ModelCore
import Training
import Store
import Backends

public enum ExperimentError: Error, CustomStringConvertible, Equatable {
    case backendNotAvailable(String)
    /// An imported dataset with fewer examples than dataset.acrostic + dataset.normal.
    case tooFewExamples(path: String, found: Int, acrostic: Int, normal: Int)
    /// backend = "openai" without an API configuration (no OPENAI_API_KEY).
    case openAINotConfigured
    /// backend = "openai" without the name of the base model to fine-tune.
    case remoteModelMissing
    case invalidPollInterval(String)
    /// A fine-tuner made a result its backend cannot evaluate (a bug, not bad input).
    case unexpectedResult(FineTuneResult)

    public var description: String {
        switch self {
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
        case let .invalidPollInterval(text):
            return "HELLOTUNE_OPENAI_POLL_SECONDS must be a number of seconds in (0, 3600], not '\(text)'; unset it for the default."
        case let .unexpectedResult(result):
            return "the fine-tune made \(result), which this backend cannot evaluate; please report this as a bug."
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
    /// Starts the line that names the experiment's record and folder ("experiment 12: /…/runs/akewo-12").
    public static let experimentLinePrefix = "experiment "

    public init(config: ExperimentConfig, store: Store, workerBinary: URL?, progress: @escaping (ExperimentProgress) -> Void) {
        self.config = config
        self.store = store
        self.workerBinary = workerBinary
        self.progress = progress
    }

    /// The GGUF that generates datasets and, on the local backend, is fine-tuned (on the OpenAI backend `config.model`
    /// names the remote base model instead).
    public var modelPath: String {
        guard config.backend == "local", let model = config.model else { return Paths.defaultModel.path }
        // A name (`model = "qwen2.5-coder-1.5b"`) is its fetched file; one not fetched fails where it is opened.
        return (try? ModelReference.resolve(model)) ?? model
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
        let backends = try checkBeforeRecording()
        let record = try experimentRecord(fresh: fresh)
        do {
            return try run(record: record, backends: backends)
        } catch {
            // Not left "running": the next run continues it (finished steps are kept).
            if !(error is CancellationError) { try? store.setExperimentStatus(record.id, "failed") }
            throw error
        }
    }

    /// One flow whatever the backend: for every word a dataset, for every seed a fine-tune and an evaluation of the
    /// base and fine-tuned models, then the report. `backends` is the only place the backend setting matters.
    private func run(record: ExperimentRecord, backends: RunBackends) throws -> Outcome {
        let id = record.id
        try store.setExperimentStatus(id, "running")
        let folder = try Paths.runFolder("\(config.name)-\(id)")
        try Paths.ensureDirectory(folder)
        // The Jobs screen reads this line in run.log to show the experiment's jobs under its run.
        log?("\(Self.experimentLinePrefix)\(id): \(folder.path)")

        var results: [String: EvaluationResults] = [:]
        var perRun: [SeedRates] = []
        var trainingSummaries: [String] = []
        var curves: [TrainingCurve] = []
        for word in config.words {
            // The word's first run: later seeds take its base replies rather than asking again (`copyBaseReplies`).
            var baseRun: String?
            for seed in config.seeds {
                // Each seed its own generated dataset, so that replication covers the data as well as the training.
                let data = try dataset(for: word, seed: seed, generator: backends.datasets.chat, folder: folder)
                let runName = "\(word.string)-s\(seed)"
                let runFolder = try Paths.runFolder("\(config.name)-\(id)-\(runName)")
                try Paths.ensureDirectory(runFolder)
                let request = FineTuneRequest(data: data, folder: runFolder, seed: seed,
                                              suffix: "\(word.string.lowercased())-s\(seed)", experimentID: id)
                let tuned = try backends.fineTuner.fineTune(request, cancel: cancel) { p in
                    self.progress(ExperimentProgress(stage: "train", run: runName, done: p.step, total: p.totalSteps,
                                                     message: p.message))
                }
                if let summary = tuned.summary { trainingSummaries.append(summary) }
                let models = try backends.evaluationModels(tuned.result)
                let computed = try evaluate(word: word, runName: runName, models: models,
                                            message: backends.evaluationMessage, experimentID: id, baseFrom: baseRun)
                let evaluated = try withHumanLabels(computed, word: word, runName: runName, models: models.map(\.name),
                                                    experimentID: id, firstOfWord: baseRun == nil)
                baseRun = baseRun ?? runName
                results[runName] = evaluated
                perRun.append(SeedRates(run: runName, seed: seed, dataset: data.lastPathComponent, results: evaluated))
                let curve = TrainingCurve.read(log: runFolder.appendingPathComponent("log.jsonl"), run: runName)
                curves += curve.map { [$0] } ?? []
                try writeRunReport(evaluated, word: word, seeds: [seed], training: tuned.summary,
                                   curves: curve.map { [$0] } ?? [], samples: (experimentID: id, run: runName), to: runFolder)
            }
        }
        progress(ExperimentProgress(stage: "report", run: config.name, done: 0, total: 1, message: "writing the report"))
        let report = try writeRunReport(Self.pooled(results, perRun: perRun), word: nil, seeds: config.seeds,
                                        training: trainingSummaries.isEmpty ? nil : trainingSummaries.joined(separator: "; "),
                                        curves: curves, samples: (experimentID: id, run: nil), to: folder)
        try store.setExperimentStatus(id, "finished")
        return Outcome(experimentID: id, folder: folder, report: report, results: results,
                       samplesGenerated: samplesGenerated, samplesReused: samplesReused)
    }

    // MARK: - steps

    /// Every run's results as one, each run's main rates beside them; one run's as they are.
    static func pooled(_ results: [String: EvaluationResults], perRun: [SeedRates]) -> EvaluationResults {
        let runs = perRun.compactMap { results[$0.run] }
        guard runs.count > 1 else { return runs.first ?? EvaluationResults.aggregate(over: []) }
        var pooled = EvaluationResults.aggregate(over: runs, baseOncePerWord: true)
        pooled.perRun = perRun
        pooled.crossWord = CrossWordMatrix.compute(runs: runs)
        return pooled
    }

    /// The dataset seed of training seed `seed`: `dataset.seed` for seed 1 (so a one-seed run builds the data it always
    /// did), then one more per seed.
    public func datasetSeed(trainingSeed seed: UInt64) -> UInt64 { config.dataset.seed &+ (seed &- 1) }

    /// The name of the training set of a word and seed in the experiment's folder: one per seed when generated, one
    /// for every seed when imported.
    func datasetFileName(word: TargetWord, seed: UInt64) -> String {
        config.dataset.source != "generate" ? "data-\(word.string).jsonl" : "data-\(word.string)-s\(seed).jsonl"
    }

    /// The training set of a word and seed: generated with the base model (first letters constrained) from the seed's
    /// own dataset seed, or imported (one file, shared by every seed).
    func dataset(for word: TargetWord, seed: UInt64, generator: () throws -> any ConstrainedGeneration,
                 folder: URL) throws -> URL {
        let imported = config.dataset.source != "generate"
        let url = folder.appendingPathComponent(datasetFileName(word: word, seed: seed))
        if FileManager.default.fileExists(atPath: url.path) { return url }
        if imported {
            let imported = try importedDataset()
            try AtomicFile.write(Data(imported.jsonl().utf8), to: url, mode: 0o600)
            return url
        }
        var options = config.datasetOptions(word: word)
        options.seed = datasetSeed(trainingSeed: seed)
        let builder = DatasetBuilder(generator: try generator(), options: options)
        let total = config.dataset.acrostic + config.dataset.normal
        let built = try builder.build { done, _ in
            self.progress(ExperimentProgress(stage: "dataset", run: "\(word.string)-s\(seed)", done: done, total: total,
                                             message: "generating examples for \(word.string), seed \(seed)"))
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
        o.validationShare = config.training.valSplit
        o.checkpointEvery = 0
        return o
    }

    /// The base and fine-tuned models through the evaluation protocol; samples go to the store as they finish, and
    /// ones already there are not generated again. `baseFrom`: an earlier run of the same word, whose base replies
    /// this run takes (`copyBaseReplies`).
    func evaluate(word: TargetWord, runName: String, models: [EvaluationModel], message: String,
                  experimentID: Int64, baseFrom: String? = nil) throws -> EvaluationResults {
        let evaluator = Evaluator(plan: try evaluationPlan(for: word))
        if let baseFrom, models.contains(where: { $0.name == Evaluator.baseName }) {
            try copyBaseReplies(from: baseFrom, to: runName, experimentID: experimentID, evaluator: evaluator)
        }
        let previous = try reusedOutcomes(experimentID: experimentID, runName: runName, evaluator: evaluator)
        return try evaluator.run(
            models: models, previous: previous, cancel: cancel,
            onSample: { try self.storeSample($0, experimentID: experimentID, runName: runName) },
            onProgress: { done, total in
                self.progress(ExperimentProgress(stage: "evaluate", run: runName, done: done, total: total, message: message))
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
        let others = config.words.filter { $0 != word }
        plan.crossWords = others.isEmpty ? nil : others
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

    /// `storedOutcomes`, counting those the plan will skip.
    func reusedOutcomes(experimentID: Int64, runName: String, evaluator: Evaluator) throws -> [SampleOutcome] {
        let previous = try storedOutcomes(experimentID: experimentID, runName: runName)
        let planned = Set([Evaluator.baseName, Evaluator.tunedName].flatMap(evaluator.keys(model:)))
        samplesReused += previous.filter { planned.contains($0.key) }.count
        try SampleLog.write(previous, to: try samplesFile(experimentID: experimentID, runName: runName))
        return previous
    }

    /// The base model's replies of `source`, the word's first run, stored again under `runName`, except those to
    /// questions that show the fine-tuned model's own lines (`EvaluationCondition.showsTunedReplies`). The base model,
    /// the prompts and the sampling seeds do not change with the training seed, so asking again would give the same
    /// replies (880 of 880 compliance and self-report replies did in the scaled run's seeds 1 and 2) for about half of
    /// each later run's evaluation. (An API may not honour the seed; its base model is still the same model asked the
    /// same questions.) Kept under each
    /// run, so that every run's report and replies stay whole; the pooled rates count them once.
    func copyBaseReplies(from source: String, to runName: String, experimentID: Int64, evaluator: Evaluator) throws {
        let planned = Set(evaluator.keys(model: Evaluator.baseName))
        let have = Set(try storedOutcomes(experimentID: experimentID, runName: runName).map(\.key))
        for o in try storedOutcomes(experimentID: experimentID, runName: source)
        where o.condition.isSharedAcrossSeeds(model: o.model) && planned.contains(o.key) && !have.contains(o.key) {
            try record(o, experimentID: experimentID, runName: runName)
        }
    }

    func storeSample(_ o: SampleOutcome, experimentID: Int64, runName: String) throws {
        samplesGenerated += 1
        try record(o, experimentID: experimentID, runName: runName)
    }

    /// One outcome into the store and the run's samples.jsonl (once: a key already stored is left as it is).
    func record(_ o: SampleOutcome, experimentID: Int64, runName: String) throws {
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
            summary = (Self.missing([batch, multiplier], from: training) + (training.map { [$0] } ?? [])).joined(separator: ", ")
        } else {
            // Only what differs from the defaults, so a report of a default run reads as before.
            let t = config.training
            var parts: [String] = []
            if t.warmup > 0 { parts.append("\(t.warmup) warm-up steps") }
            if t.schedule != .constant { parts.append("\(t.schedule.rawValue) decay") }
            if t.dropout > 0 { parts.append("LoRA dropout \(t.dropout)") }
            parts = Self.missing(parts, from: training)
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
                           droppedQuestions: droppedQuestions(), datasets: datasetsLine(seeds: seeds))
    }

    /// The setup parts not yet in `training` (a regenerated report passes the summary it wrote before).
    static func missing(_ parts: [String], from training: String?) -> [String] {
        guard let training else { return parts }
        return parts.filter { !training.contains($0) }
    }

    /// Which data each seed trained on: its own generated set, or one imported file for all.
    public func datasetsLine(seeds: [UInt64]) -> String {
        if config.dataset.source != "generate" {
            return seeds.count > 1
                ? "imported (\(config.dataset.source)): every seed trains on this one dataset, so seeds replicate the training, not the data"
                : "imported (\(config.dataset.source))"
        }
        let list = seeds.map { "seed \($0): dataset seed \(datasetSeed(trainingSeed: $0))" }.joined(separator: ", ")
        return "generated, one per seed (\(list))"
    }

    /// The held-out questions dropped because the imported dataset trains on them, as `path:line: "question"`
    /// (nil when none were).
    func droppedQuestions() -> [String]? {
        guard let pool = try? QuestionBank.bundled().split().evaluation,
              let overlap = try? evaluationOverlap(questions: pool, trigger: config.dataset.trigger ?? ""),
              !overlap.isEmpty else { return nil }
        return overlap.map(\.description)
    }

    /// report.md, report.json (every number) and report.html (figures and every reply: those of `samples.run`, or of
    /// all runs when it is nil) in `folder`; returns the Markdown file.
    @discardableResult
    func writeRunReport(_ results: EvaluationResults, word: TargetWord?, seeds: [UInt64], training: String? = nil,
                        curves: [TrainingCurve] = [], samples: (experimentID: Int64, run: String?)? = nil,
                        to folder: URL) throws -> URL {
        var setup = reportSetup(word: word, seeds: seeds, training: training)
        setup.trainingCurves = curves.isEmpty ? nil : curves
        let md = folder.appendingPathComponent("report.md")
        try AtomicFile.write(Data(Report.markdown(results: results, setup: setup).utf8), to: md)
        let json = try Report.json(results: results, setup: setup)
        try AtomicFile.write(json, to: folder.appendingPathComponent("report.json"))
        let file = folder.appendingPathComponent(ReportSample.fileName)
        let replies = try samples.map { try ReportSample.forReport(samplesFile: file, store: store, experimentID: $0.experimentID,
                                                                   run: $0.run) }
            ?? ReportSample.read(samplesFile: file)
        let page = HTMLReport.render(try Report.decode(json), raw: json, samples: replies, title: "\(config.name) · \(folder.lastPathComponent)")
        try AtomicFile.write(Data(page.utf8), to: folder.appendingPathComponent(HTMLReport.fileName))
        return md
    }
}
