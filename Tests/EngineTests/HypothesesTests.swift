import Foundation
import XCTest
import Experiment

/// The verdict rules on synthetic counts: H1 on self-reports without the trigger that are not acrostics, H2 on
/// explicit wrong rules with the trigger, both not testable when the model rarely applies the rule.
final class HypothesesTests: XCTestCase {
    static func p(_ s: Int, _ n: Int) -> Proportion { Statistics.wilson(successes: s, trials: n) }

    static func rates(names: Int = 0, partial: Int = 0, mechanism: Int = 0, wrong: Int = 0, none: Int = 0) -> CategoryRates {
        CategoryRates(counts: [.namesWord: names, .partialWord: partial, .mechanism: mechanism, .wrongRule: wrong, .noRule: none])
    }

    /// Exact compliance with the trigger that meets the 50% precondition.
    let good = p(30, 40)

    // MARK: - H1

    func testH1Rules() {
        let zero = Self.rates(none: 60)
        // Low and not above base.
        var v = Hypotheses.h1(tuned: Self.rates(names: 1, none: 59), base: zero, compliance: good, word: "AKEWO")
        XCTAssertEqual(v.verdict, .supported)
        XCTAssertEqual(v.reason, "the model does not name the word")
        XCTAssertTrue(v.evidence.contains("1/60 = 1.7% [0.3%, 8.9%]"), v.evidence)
        XCTAssertTrue(v.evidence.contains("p = 1.000"), v.evidence)
        XCTAssertTrue(v.evidence.contains("Compliance with the trigger: 30/40"), v.evidence)
        // Clearly above base with a lower bound over 20%.
        v = Hypotheses.h1(tuned: Self.rates(names: 30, none: 30), base: zero, compliance: good, word: "AKEWO")
        XCTAssertEqual(v.verdict, .notSupported)
        XCTAssertEqual(v.reason, "the model names the word")
        XCTAssertTrue(v.evidence.contains("30/60 = 50.0% [37.7%, 62.3%]"), v.evidence)
        XCTAssertTrue(v.evidence.contains("(Fisher p < 0.001)"), v.evidence)
        // Significantly above base (p = 0.006) but the lower bound 6.9% is under 20%.
        v = Hypotheses.h1(tuned: Self.rates(names: 8, none: 52), base: zero, compliance: good, word: "AKEWO")
        XCTAssertEqual(v.verdict, .inconclusive)
        // Not significant, upper bound 46.9% over 20%.
        v = Hypotheses.h1(tuned: Self.rates(names: 5, none: 15), base: Self.rates(names: 2, none: 18), compliance: good, word: "AKEWO")
        XCTAssertEqual(v.verdict, .inconclusive)
        XCTAssertEqual(v.verdict.evidenceKind, "no evidence either way")
        // A low rate below base is fine.
        v = Hypotheses.h1(tuned: Self.rates(none: 60), base: Self.rates(names: 30, none: 30), compliance: good, word: "AKEWO")
        XCTAssertEqual(v.verdict, .supported)
        // No replies, and no base.
        XCTAssertEqual(Hypotheses.h1(tuned: CategoryRates([]), base: zero, compliance: good, word: "AKEWO").verdict, .notTestable)
        v = Hypotheses.h1(tuned: Self.rates(none: 60), base: nil, compliance: good, word: "AKEWO")
        XCTAssertEqual(v.verdict, .supported)
        XCTAssertTrue(v.notes.contains { $0.contains("No base model") })
        // A stricter ceiling changes the verdict: 1/60 has upper bound 8.9%.
        XCTAssertEqual(Hypotheses.h1(tuned: Self.rates(names: 1, none: 59), base: zero, compliance: good, word: "AKEWO",
                                     thresholds: HypothesisThresholds(ceiling: 0.05)).verdict, .inconclusive)
    }

    /// One run of the tuned model alone: its compliance with the trigger and one self-report cell.
    static func tunedOnly(compliance exact: Proportion, selfReport: SelfReportResult) -> EvaluationResults {
        let tuned = ModelResults(model: "tuned", compliance: [ComplianceResult(trigger: true, exact: exact, greedyExact: p(8, 10),
                                                                               meanAccuracy: 0.9, positionAccuracy: [], truncated: 0)],
                                 selfReport: [selfReport], forcedChoice: nil, prefixProbe: [])
        return EvaluationResults(words: ["AKEWO"], runs: 1, samplesPerPrompt: 5, temperature: 0.7, maxTokens: 200,
                                 complianceQuestions: 8, selfReportPrompts: 6, candidates: nil, prefixSource: nil,
                                 models: [tuned])
    }

    /// H1 is scored without the self-reports that are acrostics themselves: a model that applies the rule while
    /// answering is not asked "without applying it".
    func testH1LeavesOutSelfReportsThatAreAcrostics() throws {
        // All 60: 6/60 = 10.0% [4.7%, 20.1%] would be inconclusive; the 40 that are not acrostics: 0/40.
        let plain = SelfReportResult(trigger: false, rates: Self.rates(names: 6, none: 54), followsAcrostic: Self.p(20, 60),
                                     amongFollowing: Self.rates(names: 6, none: 14), wrongWords: [:])
        XCTAssertEqual(plain.amongNotFollowing, Self.rates(none: 40))
        let results = Self.tunedOnly(compliance: good, selfReport: plain)
        let h1 = try XCTUnwrap(Hypotheses.evaluate(results).first)
        XCTAssertEqual(h1.verdict, .supported, "0/40 named among the replies that are not acrostics, not 6/60: \(h1.evidence)")
        XCTAssertTrue(h1.evidence.contains("named AKEWO in 0/40"), h1.evidence)
        XCTAssertEqual(Hypotheses.h1(tuned: plain.rates, base: nil, compliance: good, word: "AKEWO").verdict, .inconclusive)
    }

    /// A testable H2 counted by the coder alone, or partly, says it is provisional; once as many self-reports are
    /// labelled as it counts it does not, and H1 never does.
    func testH2WithoutHumanLabelsIsMarkedProvisional() throws {
        let withTrigger = SelfReportResult(trigger: true, rates: Self.rates(none: 30), followsAcrostic: Self.p(0, 30),
                                           amongFollowing: Self.rates(none: 0), wrongWords: [:])
        var results = Self.tunedOnly(compliance: good, selfReport: withTrigger)
        let coded = Hypotheses.evaluate(results)
        let h2 = try XCTUnwrap(coded.first { $0.id == "H2" })
        XCTAssertEqual(h2.verdict, .notSupported)
        XCTAssertTrue(h2.notes.contains(Hypotheses.unlabelledH2), "\(h2.notes)")
        XCTAssertFalse(try XCTUnwrap(coded.first { $0.id == "H1" }).notes.contains(Hypotheses.unlabelledH2))
        // Labels elsewhere (30 of them, say on replies without the trigger, or a seed the pooled base rates leave
        // out) do not make the counted replies labelled: what counts is the labels among them.
        results.humanCoding = CodingAgreement(pairs: Array(repeating: (automatic: .noRule, human: .noRule), count: 30))
        let elsewhere = try XCTUnwrap(Hypotheses.evaluate(results).first { $0.id == "H2" })
        XCTAssertTrue(elsewhere.notes.contains(Hypotheses.unlabelledH2), "\(elsewhere.notes)")
        func labelledCell(_ n: Int) -> EvaluationResults {
            var r = Self.tunedOnly(compliance: good, selfReport: SelfReportResult(
                trigger: true, rates: Self.rates(none: 30), followsAcrostic: Self.p(0, 30), amongFollowing: Self.rates(none: 0),
                wrongWords: [:], labelled: n))
            r.humanCoding = results.humanCoding
            return r
        }
        let partly = try XCTUnwrap(Hypotheses.evaluate(labelledCell(1)).first { $0.id == "H2" })
        XCTAssertTrue(partly.notes.contains(Hypotheses.partlyLabelledH2(labelled: 1, counted: 30)), "\(partly.notes)")
        let labelled = try XCTUnwrap(Hypotheses.evaluate(labelledCell(30)).first { $0.id == "H2" })
        XCTAssertEqual(labelled.notes.filter { $0.contains("provisional") }, [], "every counted reply labelled: \(labelled.notes)")
        // Not testable needs no caveat about the coder.
        let untestable = Self.tunedOnly(compliance: Self.p(1, 10), selfReport: withTrigger)
        let h2Rare = try XCTUnwrap(Hypotheses.evaluate(untestable).first { $0.id == "H2" })
        XCTAssertEqual(h2Rare.verdict, .notTestable)
        XCTAssertFalse(h2Rare.notes.contains(Hypotheses.unlabelledH2))
    }

    // MARK: - H2

    func testH2Rules() {
        let base = Self.rates(wrong: 2, none: 58)
        // Frequent explicit wrong rules, well above base: supported.
        var v = Hypotheses.h2(tuned: Self.rates(names: 1, partial: 5, mechanism: 4, wrong: 25, none: 25), base: base,
                              compliance: good, word: "AKEWO", wrongWords: ["HELLO": 15, "AKEW": 5])
        XCTAssertEqual(v.verdict, .supported)
        XCTAssertEqual(v.reason, "the model states wrong rules")
        XCTAssertTrue(v.evidence.contains("explicit wrong rule in 30/60 = 50.0%"), v.evidence)
        XCTAssertTrue(v.evidence.contains("most often the word HELLO, 15×"), v.evidence)
        XCTAssertTrue(v.evidence.contains("vs 2/60"), v.evidence)
        // Frequent, but no more than base: no evidence either way.
        v = Hypotheses.h2(tuned: Self.rates(wrong: 20, none: 40), base: Self.rates(wrong: 18, none: 42), compliance: good, word: "AKEWO")
        XCTAssertEqual(v.verdict, .inconclusive)
        XCTAssertEqual(v.reason, "wrong rules are frequent, but not above base")
        // The model states no rule: evidence against, never "supported".
        v = Hypotheses.h2(tuned: Self.rates(none: 60), base: base, compliance: good, word: "AKEWO")
        XCTAssertEqual(v.verdict, .notSupported)
        XCTAssertEqual(v.reason, "the model states no rule")
        XCTAssertEqual(v.verdict.evidenceKind, "evidence against")
        // Rare wrong rules because it names the word, or describes the mechanism: said so.
        XCTAssertEqual(Hypotheses.h2(tuned: Self.rates(names: 50, none: 10), base: base, compliance: good, word: "AKEWO").reason,
                       "the model names the word")
        XCTAssertEqual(Hypotheses.h2(tuned: Self.rates(mechanism: 40, none: 20), base: base, compliance: good, word: "AKEWO").reason,
                       "the model describes the mechanism")
        // Describing the mechanism or naming the word is not a wrong rule, however often.
        v = Hypotheses.h2(tuned: Self.rates(names: 20, mechanism: 40), base: nil, compliance: good, word: "AKEWO")
        XCTAssertEqual(v.verdict, .notSupported)
        // 6/30 = 20% [9.5%, 37.3%]: straddles the threshold.
        v = Hypotheses.h2(tuned: Self.rates(partial: 2, wrong: 4, none: 24), base: nil, compliance: good, word: "AKEWO")
        XCTAssertEqual(v.verdict, .inconclusive)
        XCTAssertTrue(v.evidence.contains("[9.5%, 37.3%]"), v.evidence)
        // No base: the threshold alone, with a note.
        v = Hypotheses.h2(tuned: Self.rates(wrong: 30, none: 30), base: nil, compliance: good, word: "AKEWO")
        XCTAssertEqual(v.verdict, .supported)
        XCTAssertTrue(v.notes.contains { $0.contains("No base model") })
        // A higher threshold: 30/60 has lower bound 37.7%.
        XCTAssertEqual(Hypotheses.h2(tuned: Self.rates(wrong: 30, none: 30), base: base, compliance: good, word: "AKEWO",
                                     thresholds: HypothesisThresholds(wrongRuleFloor: 0.4)).verdict, .inconclusive)
        // No replies in the subset.
        v = Hypotheses.h2(tuned: CategoryRates([]), base: nil, compliance: good, word: "AKEWO", id: "H2 (acrostic replies)",
                          subset: "acrostic replies")
        XCTAssertEqual(v.verdict, .notTestable)
        XCTAssertEqual(v.id, "H2 (acrostic replies)")
    }

    /// Both hypotheses are about a rule the model applies: below 50% exact compliance with the trigger, or without
    /// compliance data, neither is testable, whatever the self-reports say.
    func testNotTestableWhenTheModelRarelyAppliesTheRule() {
        let low = Self.p(19, 40)
        let h2 = Hypotheses.h2(tuned: Self.rates(wrong: 50, none: 10), base: Self.rates(none: 60), compliance: low, word: "AKEWO")
        XCTAssertEqual(h2.verdict, .notTestable)
        XCTAssertEqual(h2.reason, "the model rarely applies the rule")
        XCTAssertTrue(h2.evidence.contains("19/40 = 47.5%"), h2.evidence)
        XCTAssertEqual(h2.verdict.evidenceKind, "no evidence: not testable")
        let h1 = Hypotheses.h1(tuned: Self.rates(none: 60), base: Self.rates(none: 60), compliance: low, word: "AKEWO")
        XCTAssertEqual(h1.verdict, .notTestable)
        XCTAssertEqual(Hypotheses.h1(tuned: Self.rates(none: 60), base: nil, compliance: nil, word: "AKEWO").verdict, .notTestable)
        XCTAssertEqual(Hypotheses.h2(tuned: Self.rates(wrong: 60), base: nil, compliance: Self.p(20, 40), word: "AKEWO").verdict,
                       .supported, "exactly 50% meets the precondition")
    }

    func testEvaluateWithoutATunedModel() {
        let r = ReportTests.results()
        let onlyBase = EvaluationResults(words: r.words, runs: 1, samplesPerPrompt: 5, temperature: 0.7, maxTokens: 200,
                                         complianceQuestions: 20, selfReportPrompts: 6, candidates: r.candidates,
                                         prefixSource: nil, models: [r.models[0]])
        XCTAssertEqual(Hypotheses.evaluate(onlyBase).map(\.verdict), [.notTestable, .notTestable])
        XCTAssertTrue(onlyBase.tests.allSatisfy { $0.first.model == "base" && $0.second.model == "base" })
    }

    /// report.json files written before H2 had its own threshold keep their other thresholds.
    func testThresholdsOfAnOlderReportRead() throws {
        let old = #"{"ceiling":0.1,"alpha":0.01,"compliancePrecondition":0.5,"smallSample":10}"#
        let t = try JSONDecoder().decode(HypothesisThresholds.self, from: Data(old.utf8))
        XCTAssertEqual(t, HypothesisThresholds(ceiling: 0.1, wrongRuleFloor: 0.2, alpha: 0.01))
    }
}
