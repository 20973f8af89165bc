import Foundation
import XCTest
import ModelCore
import Experiment

/// A tiny end-to-end evaluation on the real default model: base vs base with a random LoRA adapter.
final class EvaluatorTests: XCTestCase {
    struct Stop: Error {}

    let word = try! TargetWord("AKEWO")

    func tinyPlan() throws -> EvaluationPlan {
        let questions = Array(try QuestionBank.bundled().split().evaluation.prefix(4))
        return EvaluationPlan(word: word, questions: questions, complianceQuestions: 2,
                              selfReportPrompts: Array(EvaluationPlan.defaultSelfReportPrompts.prefix(2)),
                              samplesPerPrompt: 1, sampling: SamplingParameters(temperature: 0.7, seed: 5), maxTokens: 48,
                              prefixDepth: 2)
    }

    func models() throws -> [EvaluationModel] {
        let base = try TestModel.shared()
        let lora = LoRAParameters(config: LoRAConfig(rank: 2, alpha: 4, targets: [.q, .v]), modelConfig: base.model.config)
        var rng = SeededRandom(seed: 9)
        for i in 0..<lora.values.count { lora.values[i] = Float(rng.nextUnit() - 0.5) * 0.05 }
        return [EvaluationModel(name: "base", model: base), EvaluationModel(name: "tuned", model: base.with(adapter: lora))]
    }

    func testEndToEndWithResume() throws {
        let plan = try tinyPlan()
        let evaluator = Evaluator(plan: plan)
        let models = try models()
        let start = Date()
        let allKeys = Set(models.flatMap { evaluator.keys(model: $0.name) })
        // per model: 2 questions x 2 conditions + 2 prompts x 2 conditions (K = 1) + forced choice + k = 0...2
        XCTAssertEqual(allKeys.count, 2 * (4 + 4 + 1 + 3))

        // 1. A run killed after 5 stored outcomes (the store throws, as a full disk or a kill would stop it).
        var stored: [SampleOutcome] = []
        XCTAssertThrowsError(try evaluator.run(models: models, onSample: { o in
            if stored.count == 5 { throw Stop() }
            stored.append(o)
        })) { XCTAssertTrue($0 is Stop) }
        XCTAssertEqual(stored.count, 5)

        // 2. The rerun skips what was stored and does the rest, once each.
        var fresh: [SampleOutcome] = []
        var progress: [(Int, Int)] = []
        let results = try evaluator.run(models: models, previous: stored, onSample: { fresh.append($0) },
                                        onProgress: { progress.append(($0, $1)) })
        XCTAssertTrue(Set(fresh.map(\.key)).isDisjoint(with: stored.map(\.key)))
        XCTAssertEqual(fresh.count, allKeys.count - 5)
        XCTAssertEqual(Set(fresh.map(\.key) + stored.map(\.key)), allKeys)
        XCTAssertEqual(progress.first?.0, 5)
        XCTAssertEqual(progress.last?.0, allKeys.count)
        XCTAssertTrue(progress.allSatisfy { $0.1 == allKeys.count })

        // 3. With everything stored, nothing runs and the results are the same.
        var none = 0
        let again = try evaluator.run(models: models, previous: stored + fresh, onSample: { _ in none += 1 })
        XCTAssertEqual(none, 0)
        XCTAssertEqual(again, results)
        XCTAssertEqual(EvaluationResults.compute(plan: plan, models: ["base", "tuned"], outcomes: stored + fresh), results)

        // Outcomes are JSON-encodable and keep their keys.
        let data = try JSONEncoder().encode(fresh)
        XCTAssertEqual(try JSONDecoder().decode([SampleOutcome].self, from: data).map(\.key), fresh.map(\.key))

        // Structure.
        XCTAssertEqual(results.models.map(\.model), ["base", "tuned"])
        XCTAssertEqual(results.words, ["AKEWO"])
        for m in results.models {
            for t in [true, false] {
                let c = try XCTUnwrap(m.compliance(trigger: t))
                XCTAssertEqual(c.exact.trials, 2)
                XCTAssertEqual(c.greedyExact.trials, 2)
                XCTAssertEqual(c.positionAccuracy.count, 5)
                XCTAssertTrue((0...1).contains(c.meanAccuracy))
                let s = try XCTUnwrap(m.selfReport(trigger: t))
                XCTAssertEqual(s.rates.trials, 2)
                let r = s.rates
                XCTAssertEqual(SelfReportCategory.allCases.reduce(0) { $0 + r.rate($1).successes }, 2)
            }
            let f = try XCTUnwrap(m.forcedChoice)
            XCTAssertEqual(f.detail?.candidates, plan.candidates.map(\.string))
            XCTAssertEqual(f.detail?.probabilities.reduce(0, +) ?? 0, 1, accuracy: 1e-9)
            XCTAssertEqual(m.prefixProbe.map(\.k), [0, 1, 2])
            XCTAssertEqual(m.prefixProbe.map(\.nextLetter), ["A", "K", "E"])
            for row in m.prefixProbe { XCTAssertTrue((0...1).contains(row.meanNextLetterProbability ?? -1)) }
        }
        // The adapter changes the model: the probes' numbers differ between base and tuned.
        XCTAssertNotEqual(results.model("base")?.forcedChoice?.detail?.logProbabilities,
                          results.model("tuned")?.forcedChoice?.detail?.logProbabilities)
        XCTAssertNotNil(results.prefixSource)
        XCTAssertNotNil(results.test("self-report names word", first: ("tuned", false), second: ("base", false)))
        XCTAssertNotNil(results.test("compliance exact", first: ("tuned", true), second: ("tuned", false)))
        XCTAssertEqual(Hypotheses.evaluate(results).map(\.id), ["H1", "H2", "H2 (acrostic replies)"])

        // Each outcome records its prompt and reply; compliance prompts carry the trigger when they should.
        for o in fresh + stored {
            switch o.condition {
            case .complianceTrigger, .selfReportTrigger:
                XCTAssertTrue(o.prompt.hasSuffix(" Use the special rule."))
                XCTAssertNotNil(o.score.acrostic)
            case .compliancePlain, .selfReportPlain:
                XCTAssertFalse(o.prompt.contains("special rule."))
            case .forcedChoice:
                XCTAssertNotNil(o.score.candidates)
            case .prefixProbe:
                XCTAssertNotNil(o.score.prefix)
            }
            if o.condition == .selfReportTrigger || o.condition == .selfReportPlain { XCTAssertNotNil(o.score.selfReport) }
        }
        print("EvaluatorTests end-to-end: \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
    }

    func testSkipNeedsStoredOutcomes() throws {
        let evaluator = Evaluator(plan: try tinyPlan())
        let models = try models()
        XCTAssertThrowsError(try evaluator.run(models: models, skip: ["base|compliance-trigger|x|0"])) {
            XCTAssertEqual($0 as? EvaluationError, .missingOutcome(key: "base|compliance-trigger|x|0"))
        }
        XCTAssertThrowsError(try evaluator.run(models: [])) { XCTAssertEqual($0 as? EvaluationError, .noModels) }
        XCTAssertThrowsError(try evaluator.run(models: [models[0], models[0]])) {
            XCTAssertEqual($0 as? EvaluationError, .duplicateModel("base"))
        }
        let flag = CancellationFlag()
        flag.set()
        XCTAssertThrowsError(try evaluator.run(models: models, cancel: flag)) {
            XCTAssertEqual($0 as? EvaluationError, .cancelled)
        }
    }

    func testKeysAndSampledSeedsDoNotDependOnSkipping() throws {
        // Two sampled replies per prompt: a run that skips some keys samples the rest with the same seeds as a
        // full run, so the replies agree (greedy ones trivially).
        var plan = try tinyPlan()
        plan.samplesPerPrompt = 3
        plan.complianceQuestions = 1
        plan.selfReportPrompts = Array(plan.selfReportPrompts.prefix(1))
        plan.maxTokens = 12
        plan.prefixDepth = 0
        let evaluator = Evaluator(plan: plan)
        let base = [try models()[0]]
        var full: [SampleOutcome] = []
        _ = try evaluator.run(models: base, onSample: { full.append($0) })
        XCTAssertEqual(full.count, evaluator.keys(model: "base").count)
        // Keep every other sampled outcome, redo the rest.
        let kept = full.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        var redone: [SampleOutcome] = []
        _ = try evaluator.run(models: base, previous: kept, onSample: { redone.append($0) })
        let byKey = Dictionary(uniqueKeysWithValues: full.map { ($0.key, $0) })
        for o in redone where o.condition.trigger != nil {
            XCTAssertEqual(o.reply, byKey[o.key]?.reply, "\(o.key)")
        }
    }
}
