import Foundation
import XCTest
import Experiment

/// The reading control and explain early in report.md and report.json, on hand-built counts.
final class ReadingControlReportTests: XCTestCase {
    /// ReportTests' results, with base reading 2/20 (fails) and tuned 14/20 (unclear), plus explain early.
    static func results(tunedReading: NamingCount = NamingCount(correct: 14, n: 20)) -> EvaluationResults {
        let r = ReportTests.results()
        let models = r.models.map { m in
            ModelResults(model: m.model, compliance: m.compliance, selfReport: m.selfReport, forcedChoice: m.forcedChoice,
                         prefixProbe: m.prefixProbe, probeNotes: m.probeNotes,
                         readingControl: m.model == "base" ? NamingCount(correct: 2, n: 20) : tunedReading,
                         readingControlListFirst: NamingCount(correct: 4, n: 20),
                         readingControlOwnReplies: NamingCount(correct: 1, n: 12),
                         explainEarly: [ExplainEarlyRow(k: 0, named: NamingCount(correct: 0, n: 10), meanLogProbability: -20.5),
                                        ExplainEarlyRow(k: 5, named: NamingCount(correct: 3, n: 10), meanLogProbability: -7.25)])
        }
        return EvaluationResults(words: r.words, runs: 1, samplesPerPrompt: r.samplesPerPrompt, temperature: r.temperature,
                                 maxTokens: r.maxTokens, complianceQuestions: r.complianceQuestions,
                                 selfReportPrompts: r.selfReportPrompts, candidates: r.candidates, trigger: r.trigger,
                                 forcedChoicePrompt: r.forcedChoicePrompt, namingQuestion: r.namingQuestion,
                                 prefixSource: nil, models: models)
    }

    func testMarkdownSaysWhichModelFailsAndWhatFollows() {
        let md = Report.markdown(results: Self.results(), setup: ReportTests.setup)
        for expected in [
            "### Reading control: can the model read an acrostic it is shown?",
            "| base | Other words, plain question | 2/20 | 10.0% [2.8%, 30.1%] |",
            "| tuned | Other words, list the letters first | 4/20 | 20.0% [8.1%, 41.6%] |",
            "| tuned | Tuned model's own acrostics, plain question | 1/12 |",
            "- **base fails the reading control**: 2/20 plain readings correct.",
            "- tuned: the reading control is unclear (14/20 plain readings correct).",
            "What this allows: the reading control neither shows that the tuned model can read acrostics nor that it cannot",
            "### Explain early: does the model name its word after k of its own lines?",
            "| tuned | 0 | 0/10 | 0.0% [0.0%, 27.8%] | -20.50 |",
            "| tuned | 5 | 3/10 | 30.0% [10.8%, 60.3%] | -7.25 |",
        ] {
            XCTAssertTrue(md.contains(expected), "missing: \(expected)\n\(md)")
        }
        let failing = Report.markdown(results: Self.results(tunedReading: NamingCount(correct: 0, n: 20)), setup: ReportTests.setup)
        XCTAssertTrue(failing.contains("- **tuned fails the reading control**: 0/20"), failing)
        XCTAssertTrue(failing.contains("a model that cannot read acrostics cannot show that it knows the word"), failing)
        // Each verdict carries what the control allows.
        let verdicts = Hypotheses.evaluate(Self.results(tunedReading: NamingCount(correct: 0, n: 20)))
        XCTAssertTrue(verdicts.allSatisfy { $0.notes.contains { $0.hasPrefix("Reading control: the tuned model cannot read") } })
        let passing = Report.markdown(results: Self.results(tunedReading: NamingCount(correct: 20, n: 20)), setup: ReportTests.setup)
        XCTAssertTrue(passing.contains("- tuned passes the reading control: 20/20"), passing)
        // Results without the control (older runs) have no section and no note.
        let old = Report.markdown(results: ReportTests.results(), setup: ReportTests.setup)
        XCTAssertFalse(old.contains("Reading control"), old)
    }

    func testJSONHasCorrectAndNPerModelAndPools() throws {
        let data = try Report.json(results: Self.results(), setup: ReportTests.setup)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let models = try XCTUnwrap((object["results"] as? [String: Any])?["models"] as? [[String: Any]])
        XCTAssertEqual(models.count, 2)
        for m in models {
            let reading = try XCTUnwrap(m["readingControl"] as? [String: Int], "\(m.keys)")
            XCTAssertEqual(reading["n"], 20)
            XCTAssertEqual(Set(reading.keys), ["correct", "n"])
            XCTAssertNotNil(m["readingControlListFirst"])
            XCTAssertNotNil(m["readingControlOwnReplies"])
            XCTAssertEqual((m["explainEarly"] as? [Any])?.count, 2)
        }
        XCTAssertEqual(try Report.decode(data).results, Self.results())

        let pooled = EvaluationResults.aggregate(over: [Self.results(), Self.results(tunedReading: NamingCount(correct: 0, n: 20))])
        let tuned = try XCTUnwrap(pooled.model("tuned"))
        XCTAssertEqual(tuned.readingControl, NamingCount(correct: 14, n: 40))
        XCTAssertEqual(tuned.readingControlOwnReplies, NamingCount(correct: 2, n: 24))
        XCTAssertEqual(tuned.explainEarly?.map(\.named), [NamingCount(correct: 0, n: 20), NamingCount(correct: 6, n: 20)])
        XCTAssertEqual(tuned.explainEarly?.last?.meanLogProbability ?? 0, -7.25, accuracy: 1e-12)
    }
}
