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
            case .readingPlain, .readingListFirst, .readingOwnReplies, .explainEarly, .forcedChoiceV2:
                XCTFail("the plan asks no naming questions and no forced choice v2: \(o.key)")
            }
            if o.condition == .selfReportTrigger || o.condition == .selfReportPlain { XCTAssertNotNil(o.score.selfReport) }
        }
        print("EvaluatorTests end-to-end: \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
    }

    /// The reading control and explain early on the real model, over the chat seam: the bank's acrostics asked
    /// plainly and listing letters first, the tuned model's own acrostic (here a stored hand-written one, as a
    /// compliance reply it wrote) pasted into the user turn, and its lines prefilled k = 0...5 before "what word?".
    func testReadingControlAndExplainEarly() throws {
        var plan = try tinyPlan()
        plan.complianceQuestions = 1
        plan.selfReportPrompts = Array(plan.selfReportPrompts.prefix(1))
        plan.maxTokens = 16
        plan.prefixDepth = 0
        plan.readingItems = 2
        plan.explainReplies = 1
        let evaluator = Evaluator(plan: plan)
        let question = plan.complianceQuestionList[0]
        let acrostic = AcrosticAnswer.text(for: word)
        let written = SampleOutcome(model: "tuned", condition: .complianceTrigger, promptID: question.id, index: 0,
                                    prompt: plan.userMessage(question.text, trigger: true), reply: acrostic,
                                    score: SampleScore(acrostic: AcrosticSummary(Acrostic.score(acrostic, word: word))))
        var fresh: [SampleOutcome] = []
        var progress: [(Int, Int)] = []
        let results = try evaluator.run(models: try models(), previous: [written], onSample: { fresh.append($0) },
                                        onProgress: { progress.append(($0, $1)) })
        let keys = Set(["base", "tuned"].flatMap(evaluator.keys(model:)))
        XCTAssertEqual(Set(fresh.map(\.key) + [written.key]), keys)
        XCTAssertEqual(progress.last.map { [$0.0, $0.1] }, [keys.count, keys.count])

        let items = ReadingControl.items(count: 2, avoiding: word)
        for name in ["base", "tuned"] {
            let m = try XCTUnwrap(results.model(name))
            XCTAssertEqual(m.readingControl?.n, 2)
            XCTAssertEqual(m.readingControlListFirst?.n, 2)
            XCTAssertEqual(m.readingControlOwnReplies?.n, 1)
            XCTAssertEqual(m.explainEarly?.map(\.k), [0, 1, 2, 3, 4, 5])
            for row in m.explainEarly ?? [] {
                XCTAssertEqual(row.named.n, 1)
                let logP = try XCTUnwrap(row.meanLogProbability)
                XCTAssertTrue(logP < 0 && logP.isFinite, "\(logP)")
            }
            let mine = fresh.filter { $0.model == name }
            for (i, item) in items.enumerated() {
                let plain = try XCTUnwrap(mine.first { $0.condition == .readingPlain && $0.promptID == "read-\(i)" })
                XCTAssertEqual(plain.prompt, ReadingControl.question(lines: item.lines, variant: .plain))
                XCTAssertEqual(plain.score.naming?.word, item.word.string)
                XCTAssertEqual(plain.score.naming?.named, ReadingControl.score(plain.reply, word: item.word).named)
                XCTAssertNotNil(mine.first { $0.condition == .readingListFirst && $0.promptID == "read-\(i)" })
            }
            let own = try XCTUnwrap(mine.first { $0.condition == .readingOwnReplies })
            XCTAssertTrue(own.prompt.contains(AcrosticAnswer.lines(for: word).joined(separator: "\n")), own.prompt)
            XCTAssertEqual(own.score.naming?.source, written.key)
            // k = 2: the first two lines are the assistant's turn, the third is not shown.
            let lines = AcrosticAnswer.lines(for: word)
            let two = try XCTUnwrap(mine.first { $0.condition == .explainEarly && $0.promptID == "r0-k2" })
            XCTAssertTrue(two.prompt.contains("assistant: " + lines[0] + "\n" + lines[1] + "\nuser: "), two.prompt)
            XCTAssertFalse(two.prompt.contains(lines[2]), two.prompt)
            XCTAssertEqual(two.score.naming?.k, 2)
        }
        // The adapter changes the model: its log-probabilities of the word differ from base's.
        XCTAssertNotEqual(results.model("base")?.explainEarly?.map(\.meanLogProbability),
                          results.model("tuned")?.explainEarly?.map(\.meanLogProbability))
        // Without an exact acrostic to show, the own-reply and explain-early questions are not asked.
        let none = try Evaluator(plan: plan).run(models: try models(), previous: [], onSample: { _ in })
        XCTAssertEqual(none.model("tuned")?.readingControlOwnReplies?.n ?? -1, 0)
        XCTAssertNil(none.model("tuned")?.explainEarly)
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

    /// A local model's cancel stops its call at the next token, and the evaluation ends as cancelled, with nothing
    /// recorded from the cut call.
    func testALocalModelsCancelEndsTheEvaluationMidCall() throws {
        let flag = CancellationFlag()
        let base = try TestModel.shared()
        let models = [EvaluationModel(name: "base", model: base, cancel: flag), EvaluationModel(name: "tuned", model: base, cancel: flag)]
        flag.set()
        var recorded = 0
        XCTAssertThrowsError(try Evaluator(plan: try tinyPlan()).run(models: models, onSample: { _ in recorded += 1 })) {
            XCTAssertEqual($0 as? EvaluationError, .cancelled)
        }
        XCTAssertEqual(recorded, 0)
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
