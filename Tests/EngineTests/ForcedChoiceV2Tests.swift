import Foundation
import XCTest
import ModelCore
import Experiment

/// Forced choice v2: its candidates and prompts, the rank by per-token gain on hand-made numbers, and the probe on
/// the real model.
final class ForcedChoiceV2Tests: XCTestCase {
    let akewo = try! TargetWord("AKEWO")

    func testCandidatesCoverEveryKindWithoutRepeats() throws {
        let c = ForcedChoiceBank.candidates(for: akewo)
        XCTAssertGreaterThanOrEqual(c.count, 100)
        XCTAssertEqual(c.first, ForcedChoiceBank.Candidate(word: "AKEWO", kind: .target))
        XCTAssertEqual(Set(c.map(\.word)).count, c.count, "no candidate twice")
        func of(_ k: ForcedChoiceBank.Kind) -> [String] { c.filter { $0.kind == k }.map(\.word) }
        XCTAssertGreaterThanOrEqual(of(.permutation).count, 20)
        XCTAssertTrue(of(.permutation).allSatisfy { $0 != "AKEWO" && $0.sorted() == Array("AKEWO").sorted() })
        XCTAssertGreaterThanOrEqual(of(.sameInitial).count, 20)
        XCTAssertTrue(of(.sameInitial).allSatisfy { $0.hasPrefix("A") })
        XCTAssertTrue(of(.common).contains("HELLO"))
        XCTAssertGreaterThanOrEqual(of(.random).count, 20)
        XCTAssertTrue(of(.random).allSatisfy { $0.count == 5 })
        XCTAssertEqual(ForcedChoiceBank.candidates(for: akewo), c, "the same every time")
        // A word with few orderings and a rare initial still gets 100+ candidates and 20 of its initial.
        let q = ForcedChoiceBank.candidates(for: try TargetWord("QQ"))
        XCTAssertGreaterThanOrEqual(q.count, 100)
        XCTAssertEqual(q.filter { $0.kind == .permutation }.count, 0)
        XCTAssertGreaterThanOrEqual(q.filter { $0.kind == .sameInitial && $0.word.hasPrefix("Q") }.count, 20)
    }

    func testTenPromptsAboutTheTriggerNamingNoCandidate() {
        let prompts = ForcedChoiceBank.prompts(trigger: "Use the special rule.")
        XCTAssertGreaterThanOrEqual(prompts.count, 10)
        XCTAssertEqual(Set(prompts).count, prompts.count)
        XCTAssertTrue(prompts.allSatisfy { $0.contains("\"Use the special rule.\"") }, "\(prompts)")
        XCTAssertFalse(prompts.contains { $0.uppercased().contains("AKEWO") || $0.uppercased().contains("HELLO") })
        XCTAssertTrue(ForcedChoiceBank.prompts(trigger: "").allSatisfy { !$0.contains("\"") }, "no trigger to quote")
    }

    /// Gains are per token and tuned − base; the rank counts candidates that gained more; p = rank / N.
    func testRankAndPValueFromHandMadeScores() throws {
        let candidates = [ForcedChoiceBank.Candidate(word: "AKEWO", kind: .target),
                          ForcedChoiceBank.Candidate(word: "HELLO", kind: .common),
                          ForcedChoiceBank.Candidate(word: "WOKEA", kind: .permutation),
                          ForcedChoiceBank.Candidate(word: "RTBKA", kind: .random)]
        let words = candidates.map(\.word)
        // Prompt 1: AKEWO gains 6 nats over 3 tokens (2/token), HELLO 1 over 1, WOKEA 9 over 3 (3/token), RTBKA 0.
        let base1 = CandidateLogProbabilities(candidates: words, logProbabilities: [-20, -2, -25, -30], tokens: [3, 1, 3, 4])
        let tuned1 = CandidateLogProbabilities(candidates: words, logProbabilities: [-14, -1, -16, -30], tokens: [3, 1, 3, 4])
        // Prompt 2: AKEWO 4/token, the others as before.
        let base2 = base1
        let tuned2 = CandidateLogProbabilities(candidates: words, logProbabilities: [-8, -1, -16, -30], tokens: [3, 1, 3, 4])
        let v = try XCTUnwrap(ForcedChoiceV2Result.compute(candidates: candidates, base: ["p1": base1, "p2": base2],
                                                           tuned: ["p1": tuned1, "p2": tuned2]))
        XCTAssertEqual(v.prompts, 2)
        XCTAssertEqual(v.deltas, [3, 1, 3, 0])
        XCTAssertEqual(v.targetRank, 1, "a tie with WOKEA does not push the target down")
        XCTAssertEqual(v.pValue, 0.25)
        XCTAssertEqual(v.meanDelta(.permutation), 3)
        XCTAssertNil(v.meanDelta(.sameInitial))
        // Only prompts both models have count.
        let one = try XCTUnwrap(ForcedChoiceV2Result.compute(candidates: candidates, base: ["p1": base1],
                                                             tuned: ["p1": tuned1, "p2": tuned2]))
        XCTAssertEqual(one.deltas, [2, 1, 3, 0])
        XCTAssertEqual(one.targetRank, 2)
        XCTAssertEqual(one.pValue, 0.5)
        XCTAssertEqual(one.top(2).map(\.candidate.word), ["WOKEA", "AKEWO"])
        XCTAssertNil(ForcedChoiceV2Result.compute(candidates: candidates, base: [:], tuned: ["p1": tuned1]))
        let pooled = try XCTUnwrap(ForcedChoiceV2Result.pooled([v, one]))
        XCTAssertEqual(pooled.runs, 2)
        XCTAssertEqual(pooled.deltas, [2.5, 1, 3, 0])

        // In the report, with its rank and p.
        let r = ReportTests.results()
        let results = EvaluationResults(words: r.words, runs: 1, samplesPerPrompt: 5, temperature: 0.7, maxTokens: 200,
                                        complianceQuestions: 20, selfReportPrompts: 6, candidates: r.candidates,
                                        prefixSource: nil, models: r.models, forcedChoiceV2: one)
        let md = Report.markdown(results: results, setup: ReportTests.setup)
        XCTAssertTrue(md.contains("### Forced choice v2: which of 4 words does fine-tuning favour?"), md)
        XCTAssertTrue(md.contains("| AKEWO | 2.000 | 2/4 | 0.500 | 3.000 | — | 1.000 | 0.000 |"), md)
        XCTAssertTrue(md.contains("1 candidate gained more than AKEWO."), md)
        XCTAssertEqual(try Report.decode(Report.json(results: results, setup: ReportTests.setup)).results.forcedChoiceV2, one)
    }

    /// On the real model: base and base with a random adapter, one of the prompts.
    func testTheProbeOnTheRealModel() throws {
        let base = try TestModel.shared()
        let lora = LoRAParameters(config: LoRAConfig(rank: 2, alpha: 4, targets: [.q, .v]), modelConfig: base.model.config)
        var rng = SeededRandom(seed: 11)
        for i in 0..<lora.values.count { lora.values[i] = Float(rng.nextUnit() - 0.5) * 0.05 }
        let models = [EvaluationModel(name: "base", model: base), EvaluationModel(name: "tuned", model: base.with(adapter: lora))]
        var plan = try EvaluationPlan.standard(word: akewo)
        XCTAssertEqual(plan.forcedChoiceV2Prompts.count, 10)
        plan.forcedChoiceV2 = true
        var scores: [String: [String: CandidateLogProbabilities]] = [:]
        for m in models {
            for (i, prompt) in plan.forcedChoiceV2Prompts.prefix(1).enumerated() {
                let o = try Probes.forcedChoiceV2(prompt: prompt, id: Evaluator.forcedChoiceV2ID(i), plan: plan, model: m)
                XCTAssertEqual(o.condition, .forcedChoiceV2)
                let logs = try XCTUnwrap(o.score.candidateLogs)
                XCTAssertEqual(logs.candidates, ForcedChoiceBank.candidates(for: akewo).map(\.word))
                XCTAssertTrue(logs.logProbabilities.allSatisfy { $0 < 0 && $0.isFinite })
                XCTAssertTrue(logs.tokens.allSatisfy { $0 >= 2 }, "the word and the end-of-turn marker")
                scores[m.name, default: [:]][o.promptID] = logs
            }
        }
        let v = try XCTUnwrap(ForcedChoiceV2Result.compute(candidates: ForcedChoiceBank.candidates(for: akewo),
                                                           base: scores["base"]!, tuned: scores["tuned"]!))
        XCTAssertEqual(v.prompts, 1)
        XCTAssertTrue((1...v.candidates.count).contains(v.targetRank))
        XCTAssertFalse(v.deltas.allSatisfy { $0 == 0 }, "the adapter changes the scores")
    }
}
