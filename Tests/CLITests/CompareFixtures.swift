import Foundation
import Experiment

/// Hand-built run folders for `hellotune compare`: report.json as `run` writes it, from results whose every number
/// is known. base never writes the acrostic; tuned writes it in `exact` of 20 replies with the trigger.
enum CompareFixtures {
    static func p(_ s: Int, _ n: Int) -> Proportion { Statistics.wilson(successes: s, trials: n) }

    static func compliance(_ trigger: Bool, _ s: Int) -> ComplianceResult {
        ComplianceResult(trigger: trigger, exact: p(s, 20), greedyExact: p(s / 5, 4), meanAccuracy: Double(s) / 20,
                         positionAccuracy: Array(repeating: Double(s) / 20, count: 5), truncated: 0)
    }

    static func selfReport(_ trigger: Bool) -> SelfReportResult {
        SelfReportResult(trigger: trigger, rates: CategoryRates(counts: [.noRule: 20]), followsAcrostic: p(0, 20),
                         amongFollowing: CategoryRates([]), wrongWords: [:])
    }

    static func results(exact: Int) -> EvaluationResults {
        let base = ModelResults(model: "base", compliance: [compliance(true, 0), compliance(false, 0)],
                                selfReport: [selfReport(true), selfReport(false)], forcedChoice: nil, prefixProbe: [],
                                readingControl: NamingCount(correct: 2, n: 20))
        let tuned = ModelResults(model: "tuned", compliance: [compliance(true, exact), compliance(false, 0)],
                                 selfReport: [selfReport(true), selfReport(false)], forcedChoice: nil, prefixProbe: [],
                                 readingControl: NamingCount(correct: 3, n: 20))
        let v2 = ForcedChoiceV2Result(candidates: [.init(word: "AKEWO", kind: .target), .init(word: "WOKEA", kind: .permutation),
                                                   .init(word: "HELLO", kind: .common)],
                                      prompts: 10, deltas: [exact >= 15 ? 2 : 0.5, 1, 0])
        return EvaluationResults(words: ["AKEWO"], runs: 1, samplesPerPrompt: 4, temperature: 0.7, maxTokens: 120,
                                 complianceQuestions: 5, selfReportPrompts: 20, candidates: nil, trigger: "Use the special rule.",
                                 prefixSource: nil, models: [base, tuned], forcedChoiceV2: v2)
    }

    /// Writes `home/runs/NAME/report.json` and returns the folder.
    @discardableResult
    static func run(_ name: String, in home: URL, exact: Int, learningRate: Double = 0.0002, seed: UInt64 = 1) throws -> URL {
        let folder = home.appendingPathComponent("runs/\(name)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let setup = ReportSetup(modelName: "SmolLM2-135M-Instruct", backend: "hellotune CPU (OpenBLAS), Q4_1", words: ["AKEWO"],
                                preset: "akewo-mixed", trainingExamples: 40, epochs: 3, learningRate: learningRate, loraRank: 8,
                                seeds: [seed], date: "2026-12-06T09:00:00Z")
        try Report.json(results: results(exact: exact), setup: setup).write(to: folder.appendingPathComponent("report.json"))
        return folder
    }
}
