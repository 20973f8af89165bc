import Foundation
import XCTest
import Store
import Experiment

/// Labels through the engine service: stored in a real store, they replace the coder's category in the results the
/// report and the verdicts are computed from, and the report says how many codes came from a person.
final class HumanLabelsTests: XCTestCase {
    var dir: URL!
    var store: Store!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("labels-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        store = try Store(path: dir.appendingPathComponent("hellotune.sqlite").path)
    }

    override func tearDownWithError() throws {
        try? store.close()
        try? FileManager.default.removeItem(at: dir)
    }

    /// Stores the tuned model's self-reports with the trigger: one reply per prompt of the standard plan, each coded
    /// by the real coder. Returns the plan and the experiment id.
    func storeSelfReports(replies: [String]) throws -> (EvaluationPlan, Int64) {
        let word = try TargetWord("AKEWO")
        var plan = try EvaluationPlan.standard(word: word)
        plan.selfReportSamples = 1
        let e = try store.createExperiment(name: "lab", config: "{}")
        let encoder = JSONEncoder()
        for (prompt, reply) in zip(plan.selfReportPrompts, replies) {
            let o = SampleOutcome(model: Evaluator.tunedName, condition: .selfReportTrigger, promptID: prompt.id, index: 0,
                                  prompt: prompt.text, reply: reply,
                                  score: SampleScore(selfReport: SelfReport.classify(reply, word: word)))
            try store.insertSample(SampleRecord(key: SampleKey(experimentID: e.id, condition: "AKEWO-s1/self-report-trigger",
                                                               model: o.model, promptID: o.promptID, sampleIndex: 0),
                                                prompt: o.prompt, reply: o.reply,
                                                score: String(decoding: try encoder.encode(o), as: UTF8.self)))
        }
        return (plan, e.id)
    }

    /// Experiment names may end in "-N": a folder name finds its own experiment, never one whose folder it starts with.
    func testAFolderNameFindsItsOwnExperimentWhenNamesOverlap() throws {
        let lab = try store.createExperiment(name: "lab", config: "{}")
        let other = try store.createExperiment(name: "lab-\(lab.id)", config: "{}")
        let labels = HumanLabels(store: store)
        XCTAssertEqual(try labels.experimentID(run: "lab-\(lab.id)"), lab.id)
        XCTAssertEqual(try labels.experimentID(run: "lab-\(lab.id)-AKEWO-s1"), lab.id)
        XCTAssertEqual(try labels.experimentID(run: "lab-\(lab.id)-\(other.id)"), other.id)
        XCTAssertEqual(try labels.experimentID(run: "/runs/lab-\(lab.id)-\(other.id)-AKEWO-s2"), other.id)
        XCTAssertThrowsError(try labels.experimentID(run: "lab-\(lab.id)-x"))
    }

    func testHumanLabelWinsInTheCountsAndTheReportSaysSo() throws {
        // The misses: a wrong rule the coder may file as noRule, and a plain denial.
        let replies = ["Each word is a different color.", "I do not follow any special rule.", "I just answer questions."]
        let (plan, id) = try storeSelfReports(replies: replies)
        let labels = HumanLabels(store: store)
        let entries = try labels.entries(experimentID: id)
        XCTAssertEqual(entries.count, 3)
        XCTAssertEqual(entries.map(\.run), ["AKEWO-s1", "AKEWO-s1", "AKEWO-s1"])
        XCTAssertTrue(entries.allSatisfy { $0.human == nil })
        let before = EvaluationResults.compute(plan: plan, models: [Evaluator.tunedName],
                                               outcomes: try labels.labelledOutcomes(experimentID: id, run: "AKEWO-s1").outcomes)
        let coded = try XCTUnwrap(before.model(Evaluator.tunedName)?.selfReport(trigger: true)?.rates)

        // The researcher reads the first reply as a wrong rule and the third as no rule.
        try labels.set(experimentID: id, sampleID: entries[0].sampleID, category: .wrongRule, labeller: "ana")
        try labels.set(experimentID: id, sampleID: entries[2].sampleID, category: .noRule, labeller: "ana")
        let labelled = try labels.labelledOutcomes(experimentID: id, run: "AKEWO-s1")
        var results = EvaluationResults.compute(plan: plan, models: [Evaluator.tunedName], outcomes: labelled.outcomes)
        results.humanCoding = labelled.agreement
        let rates = try XCTUnwrap(results.model(Evaluator.tunedName)?.selfReport(trigger: true)?.rates)
        XCTAssertEqual(rates.trials, 3)
        XCTAssertEqual(rates.wrongRule.successes, 1, "the label, not the coder, decides: \(coded)")
        XCTAssertEqual(rates.noRule.successes, 2)
        let agreement = try XCTUnwrap(labelled.agreement)
        XCTAssertEqual(agreement.labelled, 2)
        XCTAssertEqual(agreement.agreed, [entries[0].automatic == .wrongRule, entries[2].automatic == .noRule].filter { $0 }.count)
        let example = try XCTUnwrap(results.model(Evaluator.tunedName)?.selfReport(trigger: true)?.examples.first { $0.promptID == plan.selfReportPrompts[0].id })
        XCTAssertTrue(example.evidence.hasPrefix("labelled wrongRule by ana"), example.evidence)

        let setup = ReportSetup(modelName: "m", backend: "local", words: ["AKEWO"], seeds: [1], date: "2026-12-06")
        let md = Report.markdown(results: results, setup: setup)
        XCTAssertTrue(md.contains("### Human coding"), md)
        XCTAssertTrue(md.contains("2 self-reports labelled by hand: their codes are the researcher's, not the coder's"), md)
        XCTAssertTrue(md.contains("Cohen's κ = "), md)
        let json = try JSONSerialization.jsonObject(with: Report.json(results: results, setup: setup)) as? [String: Any]
        let coding = (json?["results"] as? [String: Any])?["humanCoding"] as? [String: Any]
        XCTAssertEqual(coding?["labelled"] as? Int, 2)

        // Clearing a label gives the coder's category back.
        try labels.set(experimentID: id, sampleID: entries[0].sampleID, category: nil, labeller: "ana")
        XCTAssertEqual(try labels.labelledOutcomes(experimentID: id, run: "AKEWO-s1").agreement?.labelled, 1)
        XCTAssertThrowsError(try labels.set(experimentID: id, sampleID: 12345, category: .noRule, labeller: "a")) {
            XCTAssertEqual($0 as? LabelError, .noSuchSample(12345, experimentID: id))
        }
        XCTAssertEqual(try labels.experimentID(run: "lab-\(id)"), id)
        XCTAssertEqual(try labels.experimentID(run: "lab-\(id)-AKEWO-s1"), id)
        XCTAssertThrowsError(try labels.experimentID(run: "nope")) { XCTAssertEqual($0 as? LabelError, .noSuchRun("nope")) }
    }

    /// The HTML report's sample browser shows a labelled reply under the label, as the counts beside it have it, though
    /// the run's samples.jsonl keeps the coder's category.
    func testTheReportsRepliesShowTheLabel() throws {
        let replies = ["Each word is a different color.", "I do not follow any special rule."]
        let (_, id) = try storeSelfReports(replies: replies)
        let labels = HumanLabels(store: store)
        let outcomes = try labels.labelledOutcomes(experimentID: id, run: "AKEWO-s1").outcomes
        let file = dir.appendingPathComponent(ReportSample.fileName)
        try SampleLog.write(outcomes, to: file)
        func byReply(_ samples: [ReportSample]) -> [String: ReportSample] {
            Dictionary(samples.map { ($0.reply, $0) }, uniquingKeysWith: { a, _ in a })
        }
        let coder = byReply(try ReportSample.forReport(samplesFile: file, store: store, experimentID: id, run: "AKEWO-s1"))
        XCTAssertEqual(coder.mapValues(\.category),
                       Dictionary(uniqueKeysWithValues: outcomes.map { ($0.reply, $0.score.selfReport!.category.rawValue) }))

        let entries = try labels.entries(experimentID: id)
        let (kept, relabelled) = (entries[0], entries[1])
        let chosen: SelfReportCategory = relabelled.automatic == .mechanism ? .namesWord : .mechanism
        try labels.set(experimentID: id, sampleID: relabelled.sampleID, category: chosen, labeller: "ana")
        for shown in [try ReportSample.forReport(samplesFile: file, store: store, experimentID: id, run: "AKEWO-s1"),
                      try ReportSample.stored(in: store, experimentID: id, run: nil)] {
            let r = byReply(shown)
            XCTAssertEqual(r.count, 2)
            XCTAssertEqual(r[kept.reply]?.category, kept.automatic.rawValue)
            XCTAssertEqual(r[relabelled.reply]?.category, chosen.rawValue)
            XCTAssertTrue(r[relabelled.reply]?.evidence?.hasPrefix("labelled \(chosen.rawValue) by ana") ?? false, "\(shown)")
        }
    }

    /// Without any label the report says how to add them, and results carry no agreement.
    func testReportWithoutLabelsSaysHowToAddThem() throws {
        let (plan, id) = try storeSelfReports(replies: ["I answer plainly."])
        let labelled = try HumanLabels(store: store).labelledOutcomes(experimentID: id, run: "AKEWO-s1")
        XCTAssertNil(labelled.agreement)
        let results = EvaluationResults.compute(plan: plan, models: [Evaluator.tunedName], outcomes: labelled.outcomes)
        let md = Report.markdown(results: results, setup: ReportSetup(modelName: "m", backend: "local", words: ["AKEWO"],
                                                                       seeds: [1], date: "d"))
        XCTAssertTrue(md.contains("No self-report has a human label yet"), md)
    }
}
