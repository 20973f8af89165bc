import Foundation
import XCTest
import Store
import Experiment

/// Replication: each seed its own generated dataset, pooled self-report intervals clustered by prompt and run, each
/// run's rates side by side, and the smallest naming rate the design detects.
final class ReplicationTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("replication-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func runner(_ toml: String) throws -> ExperimentRunner {
        let store = try Store(path: dir.appendingPathComponent("hellotune.sqlite").path)
        return ExperimentRunner(config: try ExperimentFile.parse(toml), store: store, workerBinary: nil, progress: { _ in })
    }

    /// Seed 1 keeps the dataset seed a one-seed run always had; seeds 2 and 3 get their own. An imported file is shared,
    /// and the report says so.
    func testEachSeedItsOwnGeneratedDataset() throws {
        let generated = try runner("""
            name = "g"
            word = "AKEWO"
            seeds = [1, 2, 3]
            [dataset]
            seed = 7
            """)
        XCTAssertEqual([1, 2, 3].map { generated.datasetSeed(trainingSeed: $0) }, [7, 8, 9])
        XCTAssertEqual(generated.datasetsLine(seeds: [1, 2, 3]),
                       "generated, one per seed (seed 1: dataset seed 7, seed 2: dataset seed 8, seed 3: dataset seed 9)")
        XCTAssertEqual(generated.reportSetup(word: nil, seeds: [1, 2, 3], training: nil).datasets,
                       generated.datasetsLine(seeds: [1, 2, 3]))
        let imported = try runner("""
            name = "i"
            word = "AKEWO"
            seeds = [1, 2]
            [dataset]
            source = "/data/x.jsonl"
            """)
        XCTAssertEqual(imported.datasetsLine(seeds: [1, 2]),
                       "imported (/data/x.jsonl): every seed trains on this one dataset, so seeds replicate the training, not the data")
    }

    /// The scaled preset holds at least 200 replies per self-report cell: 24 paraphrases × 10 samples, three seeds.
    func testScaledPresetSelfReportCell() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("experiments/akewo-scaled.toml")
        let r = try runner(String(contentsOf: url, encoding: .utf8))
        XCTAssertEqual(r.config.seeds, [1, 2, 3])
        let plan = try r.evaluationPlan(for: TargetWord("AKEWO"))
        XCTAssertGreaterThanOrEqual(plan.selfReportPrompts.count, 20)
        XCTAssertGreaterThanOrEqual(plan.selfReportSamplesPerPrompt, 10)
        XCTAssertGreaterThanOrEqual(plan.selfReportPrompts.count * plan.selfReportSamplesPerPrompt, 200)
    }

    /// Self-reports of one run: `replies[p]` are the categories of prompt p's replies (reply text chosen to be coded so).
    func results(_ word: TargetWord, _ plan: EvaluationPlan, named: [Int]) -> EvaluationResults {
        var outcomes: [SampleOutcome] = []
        for (p, prompt) in plan.selfReportPrompts.enumerated() {
            for i in 0..<plan.selfReportSamplesPerPrompt {
                let reply = i < named[p % named.count] ? "Akewo is my word." : "I answer plainly."
                outcomes.append(SampleOutcome(model: Evaluator.tunedName, condition: .selfReportTrigger, promptID: prompt.id,
                                              index: i, prompt: prompt.text, reply: reply,
                                              score: SampleScore(selfReport: SelfReport.classify(reply, word: word))))
            }
        }
        return EvaluationResults.compute(plan: plan, models: [Evaluator.tunedName], outcomes: outcomes)
    }

    /// Two runs pooled: each prompt of each run is a cluster, replies named in whole prompts widen the interval
    /// beyond the plain Wilson one, and the report shows both runs and the smallest detectable rate.
    func testPooledIntervalsAreClusteredAndRunsShownSideBySide() throws {
        let word = try TargetWord("AKEWO")
        var plan = try EvaluationPlan.standard(word: word)
        plan.selfReportSamples = 4
        let prompts = plan.selfReportPrompts.count
        // Run 1: every fourth prompt's 4 replies all name the word; run 2: none does.
        let r1 = results(word, plan, named: [4, 0, 0, 0])
        let r2 = results(word, plan, named: [0])
        var pooled = EvaluationResults.aggregate(over: [r1, r2])
        let rates = try XCTUnwrap(pooled.model(Evaluator.tunedName)?.selfReport(trigger: true)?.rates)
        XCTAssertEqual(rates.trials, 2 * prompts * 4)
        XCTAssertEqual(rates.namesWord.clusters, 2 * prompts)
        let named = rates.namesWord.successes
        XCTAssertEqual(named, (prompts + 3) / 4 * 4)
        let plain = Statistics.wilson(successes: named, trials: rates.trials)
        XCTAssertGreaterThan(rates.namesWord.high, plain.high, "clustered replies must not count as independent")
        XCTAssertLessThan(try XCTUnwrap(rates.namesWord.effectiveTrials), Double(rates.trials))

        pooled.perRun = [SeedRates(run: "AKEWO-s1", seed: 1, dataset: "data-AKEWO-s1.jsonl", results: r1),
                         SeedRates(run: "AKEWO-s2", seed: 2, dataset: "data-AKEWO-s2.jsonl", results: r2)]
        let md = Report.markdown(results: pooled, setup: ReportSetup(modelName: "m", backend: "local", words: ["AKEWO"],
                                                                     seeds: [1, 2], date: "d"))
        XCTAssertTrue(md.contains("| AKEWO-s1 | 1 | data-AKEWO-s1.jsonl |"), md)
        XCTAssertTrue(md.contains("| AKEWO-s2 | 2 | data-AKEWO-s2.jsonl |"), md)
        XCTAssertTrue(md.contains("Self-report intervals are clustered"), md)
        let n = try XCTUnwrap(rates.namesWord.effectiveTrials)
        let detectable = String(format: "%.1f%%", ClusteredStatistics.detectableRate(effectiveTrials: n) * 100)
        XCTAssertTrue(md.contains("- with the trigger: \(rates.trials) replies in \(2 * prompts) clusters, n_eff = "
                                  + String(format: "%.1f", n) + ": detects \(detectable)"), md)
        // The run without any naming: every reply in one category, so n_eff is its number of prompts.
        let none = try XCTUnwrap(r2.model(Evaluator.tunedName)?.selfReport(trigger: true)?.rates.namesWord)
        XCTAssertEqual(none.effectiveTrials, Double(prompts))
        XCTAssertEqual(try JSONDecoder().decode(EvaluationResults.self, from: JSONEncoder().encode(pooled)), pooled)
    }

    /// Compliance replies of one run: every `every`-th question gets all K replies exact, the others none.
    func compliance(_ word: TargetWord, _ plan: EvaluationPlan, exactEvery every: Int) -> EvaluationResults {
        let exact = "Apples grow.\nKites fly.\nEggs crack.\nWind blows.\nOwls hoot."
        var outcomes: [SampleOutcome] = []
        for (q, question) in plan.complianceQuestionList.enumerated() {
            for i in 0..<plan.samplesPerPrompt {
                let reply = q % every == 0 ? exact : "It depends.\nMostly yes."
                outcomes.append(SampleOutcome(model: Evaluator.tunedName, condition: .compliance(trigger: true),
                                              promptID: question.id, index: i, prompt: question.text, reply: reply,
                                              score: SampleScore(acrostic: AcrosticSummary(Acrostic.score(reply, word: word)))))
            }
        }
        return EvaluationResults.compute(plan: plan, models: [Evaluator.tunedName], outcomes: outcomes)
    }

    /// Compliance intervals are clustered by question (and by run when pooled): a question whose K samples all agree
    /// is one cluster, not K independent replies. Results written before this (no `clusters`) still read.
    func testComplianceIntervalsAreClusteredByQuestion() throws {
        let word = try TargetWord("AKEWO")
        let plan = try EvaluationPlan.standard(word: word)
        let questions = plan.complianceQuestionList.count, K = plan.samplesPerPrompt
        XCTAssertGreaterThan(K, 1)
        let r1 = compliance(word, plan, exactEvery: 2)
        let one = try XCTUnwrap(r1.model(Evaluator.tunedName)?.compliance(trigger: true))
        XCTAssertEqual(one.exact.successes, (questions + 1) / 2 * K)
        XCTAssertEqual(one.exact.trials, questions * K)
        XCTAssertEqual(one.exact.clusters, questions)
        // Each question's K samples all alike: the sandwich variance makes n_eff = C − 1 (C questions), whatever the
        // share, so the effective trials are the questions, not the replies.
        XCTAssertEqual(try XCTUnwrap(one.exact.effectiveTrials), Double(questions - 1), accuracy: 1e-9)
        let plain = Statistics.wilson(successes: one.exact.successes, trials: one.exact.trials)
        XCTAssertGreaterThan(one.exact.high - one.exact.low, plain.high - plain.low)

        let r2 = compliance(word, plan, exactEvery: 1)
        let pooled = try XCTUnwrap(EvaluationResults.aggregate(over: [r1, r2]).model(Evaluator.tunedName)?.compliance(trigger: true))
        XCTAssertEqual(pooled.exact.clusters, 2 * questions, "a question asked in two runs is two clusters")
        XCTAssertEqual(pooled.exact.successes, one.exact.successes + questions * K)
        XCTAssertLessThan(try XCTUnwrap(pooled.exact.effectiveTrials), Double(pooled.exact.trials))

        let md = Report.markdown(results: r1, setup: ReportSetup(modelName: "m", backend: "local", words: ["AKEWO"],
                                                                 seeds: [1], date: "d"))
        XCTAssertTrue(md.contains("Compliance intervals are clustered the same way"), md)

        // A result without clusters (written before) decodes, and pooling it keeps the plain pooled interval.
        let old = ComplianceResult(trigger: true, exact: Statistics.wilson(successes: 3, trials: 10),
                                   greedyExact: Statistics.wilson(successes: 1, trials: 2), meanAccuracy: 0.5,
                                   positionAccuracy: [0.5], truncated: 0)
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(old)) as? [String: Any])
        json["clusters"] = nil
        let decoded = try JSONDecoder().decode(ComplianceResult.self, from: JSONSerialization.data(withJSONObject: json))
        XCTAssertNil(decoded.clusters)
        XCTAssertEqual(decoded, old)
    }

    /// The runs of one word ask the base model the same prompts with the same seeds: pooled as an experiment, the base
    /// rates count each word's first run once, the tuned rates every run, and a second word's base run is its own.
    func testPooledBaseRepliesCountOncePerWord() throws {
        func run(_ word: String, tunedExactEvery: Int) throws -> EvaluationResults {
            let w = try TargetWord(word)
            let plan = try EvaluationPlan.standard(word: w)
            let exact = w.string.map { "\($0)ll is well here." }.joined(separator: "\n")
            var outcomes: [SampleOutcome] = []
            for (q, question) in plan.complianceQuestionList.enumerated() {
                for i in 0..<plan.samplesPerPrompt {
                    for model in [Evaluator.baseName, Evaluator.tunedName] {
                        let reply = model == Evaluator.tunedName && q % tunedExactEvery == 0 ? exact : "It depends."
                        outcomes.append(SampleOutcome(model: model, condition: .complianceTrigger, promptID: question.id,
                                                      index: i, prompt: question.text, reply: reply,
                                                      score: SampleScore(acrostic: AcrosticSummary(Acrostic.score(reply, word: w)))))
                    }
                }
            }
            return EvaluationResults.compute(plan: plan, models: [Evaluator.baseName, Evaluator.tunedName], outcomes: outcomes)
        }
        let runs = [try run("AKEWO", tunedExactEvery: 1), try run("AKEWO", tunedExactEvery: 2), try run("KOMET", tunedExactEvery: 3)]
        let n = try XCTUnwrap(runs[0].model(Evaluator.baseName)?.compliance(trigger: true)?.exact.trials)
        XCTAssertGreaterThan(n, 0)
        let experiment = EvaluationResults.aggregate(over: runs, baseOncePerWord: true)
        XCTAssertEqual(experiment.model(Evaluator.baseName)?.compliance(trigger: true)?.exact.trials, 2 * n, "AKEWO once, KOMET once")
        XCTAssertEqual(experiment.model(Evaluator.tunedName)?.compliance(trigger: true)?.exact.trials, 3 * n)
        let tunedOverBase = try XCTUnwrap(experiment.test("compliance exact", first: (Evaluator.tunedName, true),
                                                          second: (Evaluator.baseName, true)))
        XCTAssertEqual(tunedOverBase.second.rate.trials, 2 * n)
        // Parts that are not one experiment's runs pool every model as before.
        XCTAssertEqual(EvaluationResults.aggregate(over: runs).model(Evaluator.baseName)?.compliance(trigger: true)?.exact.trials, 3 * n)
    }
}
