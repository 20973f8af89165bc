import Foundation
import Support
import Store

extension ExperimentRunner {
    /// A run's results with the researcher's labels in place of the coder's categories, recomputed from every stored
    /// outcome of the run; `computed` as it is when the run has no label.
    func withHumanLabels(_ computed: EvaluationResults, word: TargetWord, runName: String, models: [String],
                         experimentID: Int64, firstOfWord: Bool) throws -> EvaluationResults {
        let labelled = try HumanLabels(store: store).labelledOutcomes(experimentID: experimentID, run: runName)
        guard let agreement = labelled.agreement else { return computed }
        var results = EvaluationResults.compute(plan: try evaluationPlan(for: word), models: models, outcomes: labelled.outcomes)
        results.humanCoding = agreement
        results.pooledCoding = Self.pooledCoding(labelled.agreement, unshared: labelled.unshared, firstOfWord: firstOfWord)
        return results
    }

    /// Rewrites the reports of a finished (or interrupted) experiment from the replies in the store, with the
    /// researcher's labels: every run's and the pooled one. Nothing is generated or trained; the training summary and
    /// curves come from the run folders. Returns the pooled report.md.
    @discardableResult
    public func regenerateReports(experimentID id: Int64) throws -> URL {
        let folder = try Paths.runFolder("\(config.name)-\(id)")
        if reproduceCommand == nil {
            reproduceCommand = FileManager.default.contents(atPath: folder.appendingPathComponent("report.json").path)
                .flatMap { try? Report.decode($0) }?.setup.reproduce
        }
        var results: [String: EvaluationResults] = [:]
        var perRun: [SeedRates] = []
        var curves: [TrainingCurve] = []
        for word in config.words {
            var firstOfWord = true
            for seed in config.seeds {
                let runName = "\(word.string)-s\(seed)"
                let stored = try HumanLabels(store: store).labelledOutcomes(experimentID: id, run: runName)
                guard !stored.outcomes.isEmpty else { continue }
                let names = [Evaluator.baseName, Evaluator.tunedName].filter { n in stored.outcomes.contains { $0.model == n } }
                var evaluated = EvaluationResults.compute(plan: try evaluationPlan(for: word), models: names,
                                                          outcomes: stored.outcomes)
                evaluated.humanCoding = stored.agreement
                evaluated.pooledCoding = Self.pooledCoding(stored.agreement, unshared: stored.unshared, firstOfWord: firstOfWord)
                firstOfWord = false
                results[runName] = evaluated
                perRun.append(SeedRates(run: runName, seed: seed, dataset: datasetFileName(word: word, seed: seed),
                                        results: evaluated))
                let runFolder = try Paths.runFolder("\(config.name)-\(id)-\(runName)")
                let curve = TrainingCurve.read(log: runFolder.appendingPathComponent("log.jsonl"), run: runName)
                curves += curve.map { [$0] } ?? []
                try writeRunReport(evaluated, word: word, seeds: [seed], training: Self.trainingSummary(in: runFolder),
                                   curves: curve.map { [$0] } ?? [], samples: (experimentID: id, run: runName), to: runFolder)
            }
        }
        guard !results.isEmpty else { throw LabelError.noSuchRun("\(config.name)-\(id)") }
        return try writeRunReport(Self.pooled(results, perRun: perRun), word: nil, seeds: config.seeds,
                                  training: Self.trainingSummary(in: folder), curves: curves,
                                  samples: (experimentID: id, run: nil), to: folder)
    }

    /// What a run adds to the pooled coder agreement (nil: all its labels, `humanCoding`): after a word's first run,
    /// the labels not on the base replies the first run counts, an empty agreement when that leaves none.
    static func pooledCoding(_ agreement: CodingAgreement?, unshared: CodingAgreement?, firstOfWord: Bool) -> CodingAgreement? {
        agreement == nil || firstOfWord ? nil : unshared ?? CodingAgreement(pairs: [])
    }

    /// What the backend said about training, as the folder's last report.json kept it.
    static func trainingSummary(in folder: URL) -> String? {
        guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent("report.json").path),
              let doc = try? Report.decode(data) else { return nil }
        return doc.setup.trainingSummary
    }

    /// The runner of a stored experiment, with the settings it was run with.
    public static func stored(experimentID id: Int64, store: Store) throws -> ExperimentRunner {
        guard let record = try store.experiment(id) else { throw LabelError.noSuchRun("\(id)") }
        let config = try JSONDecoder().decode(ExperimentConfig.self, from: Data(record.config.utf8))
        return ExperimentRunner(config: config, store: store, workerBinary: nil, progress: { _ in })
    }
}
