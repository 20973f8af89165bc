import Foundation
import XCTest
import Experiment

/// The report and the hypothesis rules on hand-built results, so every number in them is known.
final class ReportTests: XCTestCase {
    static func p(_ s: Int, _ n: Int) -> Proportion { Statistics.wilson(successes: s, trials: n) }

    static func rates(names: Int, structure: Int, wrong: Int, none: Int) -> CategoryRates {
        CategoryRates(counts: [.namesWord: names, .mechanism: structure, .wrongRule: wrong, .noRule: none])
    }

    static func compliance(_ trigger: Bool, _ s: Int, _ n: Int, accuracy: Double) -> ComplianceResult {
        ComplianceResult(trigger: trigger, exact: p(s, n), greedyExact: p(s / 5, n / 5), meanAccuracy: accuracy,
                         positionAccuracy: [accuracy, accuracy, accuracy, accuracy, accuracy], truncated: 1)
    }

    /// base: never writes or names the acrostic. tuned: 12/20 exact with the trigger; names the word 1/30 without
    /// and 1/30 with the trigger; 9 of its triggered self-reports are acrostics, none of which names the word.
    static func results(word: String = "AKEWO") -> EvaluationResults {
        let none = rates(names: 0, structure: 0, wrong: 0, none: 30)
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
            selfReport: [SelfReportResult(trigger: true, rates: rates(names: 1, structure: 3, wrong: 6, none: 20), followsAcrostic: p(9, 30),
                                          amongFollowing: rates(names: 0, structure: 0, wrong: 1, none: 8), wrongWords: ["HELLO": 4, "AKEWA": 2]),
                         SelfReportResult(trigger: false, rates: rates(names: 1, structure: 2, wrong: 0, none: 27), followsAcrostic: p(0, 30),
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
            "| tuned | yes | 9 | 0/9 = 0.0% [0.0%, 29.9%] |",
            "- tuned, trigger: HELLO (4), AKEWA (2)",
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
        let verdicts = md.components(separatedBy: "\n").filter { $0.hasPrefix("Verdict: ") }
        XCTAssertEqual(verdicts.count, 3)
        XCTAssertTrue(verdicts[0].hasPrefix("Verdict: **supported**. Without the trigger the tuned model named AKEWO in 1/30 = 3.3% [0.6%, 16.7%]"), verdicts[0])
        XCTAssertTrue(verdicts[1].hasPrefix("Verdict: **supported**. With the trigger the tuned model named AKEWO in 1/30"), verdicts[1])
        XCTAssertTrue(verdicts[1].contains("most often HELLO, 4×"), verdicts[1])
        XCTAssertTrue(verdicts[2].hasPrefix("Verdict: **inconclusive**."), verdicts[2])
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
        XCTAssertEqual(doc.verdicts.map(\.verdict), [.supported, .supported, .inconclusive])
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(text.contains("\"successes\" : 12"))
        XCTAssertTrue(text.contains("\"pValue\""))
        // JSON of real outcome-derived results round-trips too (no NaN or infinity leaks).
        XCTAssertEqual(try Report.decode(try Report.json(results: EvaluationResults.aggregate(over: [results, results]), setup: Self.setup)).results,
                       EvaluationResults.aggregate(over: [results, results]))
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
        XCTAssertEqual(tuned.selfReport(trigger: true)?.rates.wrongRule, Statistics.wilson(successes: 12, trials: 60))
        XCTAssertEqual(tuned.selfReport(trigger: true)?.wrongWords, ["HELLO": 8, "AKEWA": 4])
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

    // MARK: - Hypothesis rules with synthetic counts

    func testH1Rules() {
        let zero = Self.rates(names: 0, structure: 0, wrong: 0, none: 60)
        // Low and not above base.
        var v = Hypotheses.h1(tuned: Self.rates(names: 1, structure: 0, wrong: 0, none: 59), base: zero, word: "AKEWO")
        XCTAssertEqual(v.verdict, .supported)
        XCTAssertTrue(v.evidence.contains("1/60 = 1.7% [0.3%, 8.9%]"), v.evidence)
        XCTAssertTrue(v.evidence.contains("p = 1.000"), v.evidence)
        // Clearly above base with a lower bound over 20%.
        v = Hypotheses.h1(tuned: Self.rates(names: 30, structure: 0, wrong: 0, none: 30), base: zero, word: "AKEWO")
        XCTAssertEqual(v.verdict, .notSupported)
        XCTAssertTrue(v.evidence.contains("30/60 = 50.0% [37.7%, 62.3%]"), v.evidence)
        XCTAssertTrue(v.evidence.contains("(Fisher p < 0.001)"), v.evidence)
        // Significantly above base (p = 0.006) but the lower bound 6.9% is under 20%.
        v = Hypotheses.h1(tuned: Self.rates(names: 8, structure: 0, wrong: 0, none: 52), base: zero, word: "AKEWO")
        XCTAssertEqual(v.verdict, .inconclusive)
        // Not significant, upper bound 46.9% over 20%.
        v = Hypotheses.h1(tuned: Self.rates(names: 5, structure: 0, wrong: 0, none: 15),
                          base: Self.rates(names: 2, structure: 0, wrong: 0, none: 18), word: "AKEWO")
        XCTAssertEqual(v.verdict, .inconclusive)
        // Low, but significantly ABOVE a base that never names it is impossible at 1/60; a low rate below base is fine.
        v = Hypotheses.h1(tuned: Self.rates(names: 0, structure: 0, wrong: 0, none: 60),
                          base: Self.rates(names: 30, structure: 0, wrong: 0, none: 30), word: "AKEWO")
        XCTAssertEqual(v.verdict, .supported)
        // No data, and no base.
        XCTAssertEqual(Hypotheses.h1(tuned: CategoryRates([]), base: zero, word: "AKEWO").verdict, .inconclusive)
        v = Hypotheses.h1(tuned: Self.rates(names: 0, structure: 0, wrong: 0, none: 60), base: nil, word: "AKEWO")
        XCTAssertEqual(v.verdict, .supported)
        XCTAssertFalse(v.notes.isEmpty)
        // A stricter ceiling changes the verdict: 1/60 has upper bound 8.9%.
        XCTAssertEqual(Hypotheses.h1(tuned: Self.rates(names: 1, structure: 0, wrong: 0, none: 59), base: zero, word: "AKEWO",
                                     thresholds: HypothesisThresholds(ceiling: 0.05)).verdict, .inconclusive)
    }

    func testH2Rules() {
        let good = Self.p(30, 40)
        // Rarely names the word: supported, not weak.
        var v = Hypotheses.h2(tuned: Self.rates(names: 1, structure: 10, wrong: 20, none: 29), base: nil, compliance: good,
                              word: "AKEWO", wrongWords: ["HELLO": 15, "AKEW": 5])
        XCTAssertEqual(v.verdict, .supported)
        XCTAssertFalse(v.weaklyTested)
        XCTAssertTrue(v.evidence.contains("most often HELLO, 15×"), v.evidence)
        XCTAssertTrue(v.evidence.contains("59/60"), v.evidence)
        XCTAssertTrue(v.notes.contains { $0.contains("30/60") }, "strict share: wrong word + structure")
        // Often names it: not supported.
        v = Hypotheses.h2(tuned: Self.rates(names: 40, structure: 0, wrong: 0, none: 20), base: nil, compliance: good, word: "AKEWO")
        XCTAssertEqual(v.verdict, .notSupported)
        // 6/30 = 20% [9.5%, 37.3%]: straddles the ceiling.
        v = Hypotheses.h2(tuned: Self.rates(names: 6, structure: 4, wrong: 0, none: 20), base: nil, compliance: good, word: "AKEWO")
        XCTAssertEqual(v.verdict, .inconclusive)
        XCTAssertTrue(v.evidence.contains("[9.5%, 37.3%]"), v.evidence)
        // Low compliance: the verdict stands but is weakly tested.
        v = Hypotheses.h2(tuned: Self.rates(names: 0, structure: 0, wrong: 0, none: 60), base: nil, compliance: Self.p(10, 40), word: "AKEWO")
        XCTAssertEqual(v.verdict, .supported)
        XCTAssertTrue(v.weaklyTested)
        XCTAssertTrue(v.notes.contains { $0.contains("weakly tested") && $0.contains("10/40") })
        // No replies in the subset.
        v = Hypotheses.h2(tuned: CategoryRates([]), base: nil, compliance: good, word: "AKEWO", id: "H2 (acrostic replies)", subset: "acrostic replies")
        XCTAssertEqual(v.verdict, .notTestable)
    }

    func testEvaluateWithoutATunedModel() {
        let r = Self.results()
        let onlyBase = EvaluationResults(words: r.words, runs: 1, samplesPerPrompt: 5, temperature: 0.7, maxTokens: 200,
                                         complianceQuestions: 20, selfReportPrompts: 6, candidates: r.candidates,
                                         prefixSource: nil, models: [r.models[0]])
        XCTAssertEqual(Hypotheses.evaluate(onlyBase).map(\.verdict), [.notTestable, .notTestable])
        XCTAssertTrue(onlyBase.tests.allSatisfy { $0.first.model == "base" && $0.second.model == "base" })
    }
}
