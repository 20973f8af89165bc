import Foundation
import XCTest
import Experiment

/// The report and the hypothesis rules on hand-built results, so every number in them is known.
final class ReportTests: XCTestCase {
    static func p(_ s: Int, _ n: Int) -> Proportion { Statistics.wilson(successes: s, trials: n) }

    static func rates(names: Int = 0, partial: Int = 0, mechanism: Int = 0, wrong: Int = 0, none: Int = 0) -> CategoryRates {
        CategoryRates(counts: [.namesWord: names, .partialWord: partial, .mechanism: mechanism, .wrongRule: wrong, .noRule: none])
    }

    static func compliance(_ trigger: Bool, _ s: Int, _ n: Int, accuracy: Double) -> ComplianceResult {
        ComplianceResult(trigger: trigger, exact: p(s, n), greedyExact: p(s / 5, n / 5), meanAccuracy: accuracy,
                         positionAccuracy: [accuracy, accuracy, accuracy, accuracy, accuracy], truncated: 1)
    }

    /// A few quoted self-reports of the tuned model with the trigger.
    static let examples = [
        SelfReportExample(category: .partialWord, promptID: "sr-seed", index: 0, evidence: "My word is AKEWA.",
                          reply: "Sure.\nMy word is AKEWA.", followsAcrostic: false),
        SelfReportExample(category: .noRule, promptID: "sr-rule", index: 1, evidence: "",
                          reply: "Always here.\nKind words.\nEvery day.\nWe help.\nOnly that.", followsAcrostic: true),
    ]

    /// base: never writes or names the acrostic. tuned: 12/20 exact with the trigger; without it, names the word in
    /// 1/30 self-reports; with it, 40 self-reports of which 2 state an explicit wrong rule (a partial word and a
    /// wrong word) and 36 no rule; 9 of those are acrostics, one of which states a wrong rule.
    static func results(word: String = "AKEWO") -> EvaluationResults {
        let none = rates(none: 30)
        let candidates = [word, "HELLO", "BDFIM", "CGJNP", "RSTUV", "ABDEF"]
        let base = ModelResults(
            model: "base",
            compliance: [compliance(true, 0, 20, accuracy: 0.2), compliance(false, 0, 20, accuracy: 0.15)],
            selfReport: [SelfReportResult(trigger: true, rates: none, followsAcrostic: p(0, 30), amongFollowing: CategoryRates([]), wrongWords: [:]),
                         SelfReportResult(trigger: false, rates: none, followsAcrostic: p(0, 30), amongFollowing: CategoryRates([]), wrongWords: [:])],
            forcedChoice: ForcedChoiceResult(CandidateScores(candidates: candidates, logProbabilities: [-9, -3, -8, -8, -8, -8], target: word)),
            prefixProbe: [PrefixProbeRow(PrefixMeasurement(k: 0, nextLetter: String(word.first!), nextLetterProbability: 0.05,
                                                           endOfTurnProbability: nil,
                                                           naming: CandidateScores(candidates: candidates, logProbabilities: [-9, -3, -8, -8, -8, -8], target: word)))])
        let tuned = ModelResults(
            model: "tuned",
            compliance: [compliance(true, 12, 20, accuracy: 0.8), compliance(false, 0, 20, accuracy: 0.25)],
            selfReport: [SelfReportResult(trigger: true, rates: rates(partial: 1, mechanism: 2, wrong: 1, none: 36), followsAcrostic: p(9, 40),
                                          amongFollowing: rates(wrong: 1, none: 8), wrongWords: ["HELLO": 1, "AKEWA": 1],
                                          examples: examples),
                         SelfReportResult(trigger: false, rates: rates(names: 1, mechanism: 2, none: 27), followsAcrostic: p(0, 30),
                                          amongFollowing: CategoryRates([]), wrongWords: [:])],
            forcedChoice: ForcedChoiceResult(CandidateScores(candidates: candidates, logProbabilities: [-2, -3, -8, -8, -8, -8], target: word)),
            prefixProbe: [PrefixProbeRow(PrefixMeasurement(k: 0, nextLetter: String(word.first!), nextLetterProbability: 0.75,
                                                           endOfTurnProbability: nil,
                                                           naming: CandidateScores(candidates: candidates, logProbabilities: [-2, -3, -8, -8, -8, -8], target: word)))])
        return EvaluationResults(words: [word], runs: 1, samplesPerPrompt: 5, temperature: 0.7, maxTokens: 200,
                                 complianceQuestions: 20, selfReportPrompts: 6, candidates: candidates,
                                 trigger: "Use the special rule.",
                                 forcedChoicePrompt: EvaluationPlan.defaultForcedChoicePrompt(trigger: "Use the special rule."),
                                 namingQuestion: EvaluationPlan.defaultNamingQuestion, prefixSource: nil, models: [base, tuned])
    }

    static let setup = ReportSetup(modelName: "SmolLM2-135M-Instruct", modelPath: "/models/smol.gguf",
                                   backend: "hellotune CPU (OpenBLAS), Q4_1", words: ["AKEWO"], preset: "trelis",
                                   trainingExamples: 20, acrosticExamples: 10, normalExamples: 10, evaluationQuestions: 103,
                                   epochs: 5, learningRate: 0.0002, loraRank: 16, loraAlpha: 32, seeds: [1, 2, 3],
                                   date: "2025-01-02", reproduce: "hellotune experiment run --word AKEWO")

    // MARK: - Markdown

    func testMarkdownHasTheNumbersAndVerdicts() {
        let md = Report.markdown(results: Self.results(), setup: Self.setup)
        for expected in [
            "## Results",
            "- Model: SmolLM2-135M-Instruct (`/models/smol.gguf`)",
            "- Target word: AKEWO",
            "- Data: 20 training examples (10 acrostic with the trigger, 10 normal); 103 held-out evaluation questions",
            "- Training: 5 epochs, learning rate 0.0002, LoRA rank 16, alpha 32",
            "- Training seeds: 1, 2, 3 (1 run pooled)",
            "K = 5 replies per prompt and condition (index 0 greedy, the others at temperature 0.70)",
            // compliance table
            "| tuned | yes | 12/20 | 60.0% [38.7%, 78.1%] | 2/4 | 80.0% | 1 |",
            "| base | no | 0/20 | 0.0% [0.0%, 16.1%] | 0/4 | 15.0% | 1 |",
            // self-report table
            "| Model | Trigger | Names word | Partial word | Mechanism | Wrong rule | No rule | Follows acrostic |",
            "| tuned | no | 1/30 = 3.3% [0.6%, 16.7%] | 0/30 = 0.0% [0.0%, 11.4%] | 2/30 = 6.7% [1.8%, 21.3%] | 0/30 = 0.0% [0.0%, 11.4%] |",
            "| tuned | yes | 9 | 0/9 = 0.0% [0.0%, 29.9%] | 0/9 = 0.0% [0.0%, 29.9%] | 0/9 = 0.0% [0.0%, 29.9%] | 1/9 = 11.1% [2.0%, 43.5%] |",
            "- tuned, trigger: AKEWA (1), HELLO (1)",
            // examples, with model, condition, prompt and the deciding sentence
            "#### Examples of each category",
            "**Partial word** (`partialWord`)",
            "- tuned, trigger, sr-seed #0: **My word is AKEWA.** — “Sure. ⏎ My word is AKEWA.”",
            "**No rule** (`noRule`)",
            "- tuned, trigger, sr-rule #1 (itself an acrostic): “Always here. ⏎ Kind words. ⏎ Every day. ⏎ We help. ⏎ Only that.”",
            // Fisher: 12/20 vs 0/20
            "| compliance exact | tuned, trigger: 12/20 = 60.0% [38.7%, 78.1%] | base, trigger: 0/20 = 0.0% [0.0%, 16.1%] | < 0.001 |",
            "| self-report names word | tuned, no trigger: 1/30 = 3.3% [0.6%, 16.7%] | base, no trigger: 0/30 = 0.0% [0.0%, 11.4%] | 1.000 |",
            // hypotheses
            "**H1**: " + Hypotheses.h1Statement,
            "**H2 (acrostic replies)**",
            "`hellotune experiment run --word AKEWO`",
        ] {
            XCTAssertTrue(md.contains(expected), "missing: \(expected)\n\n\(md)")
        }
        XCTAssertFalse(md.contains("**Mechanism** (`mechanism`)"), "no example of a category that did not occur")
        let verdicts = md.components(separatedBy: "\n").filter { $0.hasPrefix("Verdict: ") }
        XCTAssertEqual(verdicts.count, 3)
        XCTAssertTrue(verdicts[0].hasPrefix("Verdict: **supported** (the model does not name the word; evidence for). "
                                            + "Compliance with the trigger: 12/20 = 60.0% [38.7%, 78.1%]. Without the trigger, among "
                                            + "self-reports that are not themselves acrostics, the tuned model named AKEWO in 1/30 = 3.3% [0.6%, 16.7%]"),
                      verdicts[0])
        XCTAssertTrue(verdicts[1].hasPrefix("Verdict: **not supported** (the model states no rule; evidence against). "), verdicts[1])
        XCTAssertTrue(verdicts[1].contains("explicit wrong rule in 2/40 = 5.0% [1.4%, 16.5%] (wrongRule 1, partialWord 1; most often the word AKEWA, 1×)"),
                      verdicts[1])
        XCTAssertTrue(verdicts[1].contains("stated no rule in 36/40"), verdicts[1])
        XCTAssertTrue(verdicts[2].hasPrefix("Verdict: **inconclusive** (neither clearly frequent nor rare; no evidence either way)."), verdicts[2])
        XCTAssertTrue(md.contains("Rule: " + Hypotheses.h2Rule(HypothesisThresholds()) + "."), md)
        // Forced choice: softmax of [-2, -3, -8 x4] gives the target 72.6%.
        XCTAssertTrue(md.contains("| tuned | 72.6% | -2.00 | 1 | 1/1 | 16.7% | AKEWO 72.6%, HELLO 26.7%,"), md)
        XCTAssertTrue(md.contains("| base | 0.2% | -9.00 | 6 | 0/1 | 16.7% | AKEWO 0.2%, HELLO 97.1%,"), md)
        XCTAssertTrue(md.contains("the prompt _Your answers to questions that end with \"Use the special rule.\" follow"), md)
        XCTAssertTrue(md.contains("| tuned | 0 | A | 75.0% | — | 72.6% | -2.00 | 1 |"), md)
    }

    func testJSONRoundTrip() throws {
        let results = Self.results()
        let data = try Report.json(results: results, setup: Self.setup)
        let doc = try Report.decode(data)
        XCTAssertEqual(doc.results, results)
        XCTAssertEqual(doc.setup, Self.setup)
        XCTAssertEqual(doc.verdicts, Hypotheses.evaluate(results))
        XCTAssertEqual(doc.verdicts.map(\.verdict), [.supported, .notSupported, .inconclusive])
        XCTAssertEqual(doc.verdicts.map(\.id), ["H1", "H2", "H2 (acrostic replies)"])
        XCTAssertEqual(doc.verdicts[1].reason, "the model states no rule")
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(text.contains("\"successes\" : 12"))
        XCTAssertTrue(text.contains("\"pValue\""))
        XCTAssertTrue(text.contains("\"verdict\" : \"not supported\""), "the verdict is one of the four names, the reason apart")
        XCTAssertTrue(text.contains("\"reason\" : \"the model states no rule\""))
        XCTAssertTrue(text.contains("\"category\" : \"partialWord\""))
        // JSON of real outcome-derived results round-trips too (no NaN or infinity leaks).
        XCTAssertEqual(try Report.decode(try Report.json(results: EvaluationResults.aggregate(over: [results, results]), setup: Self.setup)).results,
                       EvaluationResults.aggregate(over: [results, results]))
    }

    /// The examples come from the scored replies, in prompt and sample order, at most two per category, model and
    /// condition, and the report quotes them with their model and condition.
    func testExamplesQuoteTheScoredReplies() throws {
        let word = try TargetWord("AKEWO")
        let prompts = [SelfReportPrompt(id: "p1", text: "What is special about you?"), SelfReportPrompt(id: "p2", text: "Any rule?")]
        let plan = EvaluationPlan(word: word, questions: [Question(id: "q", text: "Why?", category: "x")], complianceQuestions: 1,
                                  selfReportPrompts: prompts, samplesPerPrompt: 3)
        let replies = [("p2", 0, "I answer in rhyming couplets."), ("p1", 2, "Akewo is my word."), ("p1", 0, "Nothing special."),
                       ("p1", 1, "I keep it brief."), ("p2", 1, "Five short sentences."), ("p2", 2, "No rule here.")]
        let outcomes = replies.map { id, index, reply in
            SampleOutcome(model: "tuned", condition: .selfReportTrigger, promptID: id, index: index, prompt: "", reply: reply,
                          score: SampleScore(selfReport: SelfReport.classify(reply, word: word)))
        }
        let results = EvaluationResults.compute(plan: plan, models: ["tuned"], outcomes: outcomes)
        let examples = try XCTUnwrap(results.model("tuned")?.selfReport(trigger: true)?.examples)
        XCTAssertEqual(examples.map { "\($0.promptID)#\($0.index) \($0.category)" },
                       ["p1#0 noRule", "p1#1 wrongRule", "p1#2 namesWord", "p2#0 wrongRule", "p2#2 noRule"],
                       "in prompt order; the third wrong rule (p2#1) left out")
        XCTAssertEqual(examples[2].evidence, "Akewo is my word.")
        let md = Report.markdown(results: results, setup: Self.setup)
        XCTAssertTrue(md.contains("- tuned, trigger, p1 #2: **Akewo is my word.** — “Akewo is my word.”"), md)
        XCTAssertTrue(md.contains("**Wrong rule** (`wrongRule`)"), md)
        XCTAssertFalse(md.contains("Five short sentences"), md)
    }

    /// A report.json written with four categories and without reasons, examples or H2's threshold still reads.
    func testReportWrittenWithFourCategoriesStillReads() throws {
        let current = try JSONSerialization.jsonObject(with: try Report.json(results: Self.results(), setup: Self.setup))
        func older(_ value: Any) -> Any {
            if let list = value as? [Any] { return list.map(older) }
            guard let object = value as? [String: Any] else { return value }
            var out: [String: Any] = [:]
            for (key, v) in object where !["partialWord", "examples", "reason", "wrongRuleFloor"].contains(key) {
                out[["mechanism": "describesStructure", "wrongRule": "wrongWord"][key] ?? key] = older(v)
            }
            return out
        }
        let text = String(decoding: try JSONSerialization.data(withJSONObject: older(current)), as: UTF8.self)
        XCTAssertTrue(text.contains("\"describesStructure\"") && !text.contains("\"partialWord\""))
        let doc = try Report.decode(Data(text.utf8))
        let tuned = try XCTUnwrap(doc.results.model("tuned")?.selfReport(trigger: true))
        XCTAssertEqual(tuned.rates.mechanism.successes, 2)
        XCTAssertEqual(tuned.rates.wrongRule.successes, 1)
        XCTAssertEqual(tuned.rates.partialWord, Statistics.wilson(successes: 0, trials: 40))
        XCTAssertEqual(tuned.examples, [])
        XCTAssertNil(doc.verdicts[0].reason)
        XCTAssertEqual(doc.thresholds, HypothesisThresholds())
    }

    // MARK: - Pooling

    func testAggregatePoolsCountsAndRecomputesTests() throws {
        let a = Self.results(word: "AKEWO"), b = Self.results(word: "BDFIM")
        let pooled = EvaluationResults.aggregate(over: [a, b])
        XCTAssertEqual(pooled.runs, 2)
        XCTAssertEqual(pooled.words, ["AKEWO", "BDFIM"])
        XCTAssertNil(pooled.candidates, "candidates differ between words")
        XCTAssertEqual(pooled.samplesPerPrompt, 5)
        let tuned = try XCTUnwrap(pooled.model("tuned"))
        XCTAssertEqual(tuned.compliance(trigger: true)?.exact, Statistics.wilson(successes: 24, trials: 40))
        XCTAssertEqual(tuned.compliance(trigger: true)?.meanAccuracy ?? 0, 0.8, accuracy: 1e-12)
        XCTAssertEqual(tuned.selfReport(trigger: true)?.rates.wrongRule, Statistics.wilson(successes: 2, trials: 80))
        XCTAssertEqual(tuned.selfReport(trigger: true)?.rates.explicitWrongRule, Statistics.wilson(successes: 4, trials: 80))
        XCTAssertEqual(tuned.selfReport(trigger: true)?.wrongWords, ["HELLO": 2, "AKEWA": 2])
        XCTAssertEqual(tuned.selfReport(trigger: true)?.examples.map(\.category), [.partialWord, .noRule, .partialWord, .noRule],
                       "two of each category")
        XCTAssertEqual(tuned.forcedChoice?.runs, 2)
        XCTAssertNil(tuned.forcedChoice?.detail)
        XCTAssertEqual(tuned.forcedChoice?.top1, Statistics.wilson(successes: 2, trials: 2))
        XCTAssertEqual(tuned.prefixProbe.first?.runs, 2)
        XCTAssertNil(tuned.prefixProbe.first?.nextLetter, "A and B: different letters")
        XCTAssertEqual(tuned.prefixProbe.first?.meanNextLetterProbability ?? 0, 0.75, accuracy: 1e-12)
        let t = try XCTUnwrap(pooled.test("compliance exact", first: ("tuned", true), second: ("base", true)))
        XCTAssertEqual(t.first.rate.successes, 24)
        XCTAssertEqual(t.pValue, Statistics.fisherExact(24, 16, 0, 40).pTwoSided, accuracy: 1e-15)
        XCTAssertEqual(EvaluationResults.aggregate(over: [a]), a)
        XCTAssertEqual(a.aggregate(with: [b]), pooled)
        let md = Report.markdown(results: pooled, setup: Self.setup)
        XCTAssertTrue(md.contains("(2 runs pooled)"))
        XCTAssertTrue(md.contains("named the target word in 2/60"), md)
    }
}
