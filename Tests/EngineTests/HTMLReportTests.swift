import Foundation
import XCTest
import Experiment

/// The HTML report on hand-built results (ReportTests'), so every mark and number on the page is known. The page in
/// a real browser, from a real run: CLITests' HTMLReportBrowserTests.
final class HTMLReportTests: XCTestCase {
    /// The `<figure id="ID" ...>...</figure>` of a chart.
    func figure(_ page: String, _ id: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let start = try XCTUnwrap(page.range(of: "<figure class=\"chart\" id=\"\(id)\""), "no figure \(id)", file: file, line: line)
        let end = try XCTUnwrap(page.range(of: "</figure>", range: start.upperBound..<page.endIndex), file: file, line: line)
        return String(page[start.lowerBound..<end.upperBound])
    }

    func marks(_ figure: String) -> Int { figure.components(separatedBy: "class=\"mark").count - 1 }

    func declared(_ figure: String) -> Int? {
        guard let r = figure.range(of: #"data-marks="(\d+)""#, options: .regularExpression) else { return nil }
        return Int(figure[r].dropFirst("data-marks=\"".count).dropLast())
    }

    static let curve = TrainingCurve(run: "AKEWO-s1", stepLosses: [3.0, 2.5, 2.0, 1.6, 1.2, 1.0], stepsPerEpoch: 2,
                                     epochLosses: [2.75, 1.8, 1.1], validationLosses: [2.9, 2.2, 2.1], validationExamples: 2)

    func testEveryFigureHasItsMarksAndItsNumbers() throws {
        var setup = ReportTests.setup
        setup.trainingCurves = [Self.curve]
        let doc = ReportDocument(setup: setup, results: ReportTests.results())
        // A reading control as a later evaluation writes it into report.json.
        var raw = try XCTUnwrap(JSONSerialization.jsonObject(with: Report.json(results: doc.results, setup: setup)) as? [String: Any])
        var results = try XCTUnwrap(raw["results"] as? [String: Any])
        var models = try XCTUnwrap(results["models"] as? [[String: Any]])
        models[0]["readingControl"] = ["correct": 9, "n": 10]
        models[1]["readingControl"] = ["correct": 10, "n": 10]
        results["models"] = models
        raw["results"] = results
        let page = HTMLReport.render(doc, raw: try JSONSerialization.data(withJSONObject: raw), samples: [], title: "t")

        // loss: one line and three validation dots; compliance: 2 models x 2 conditions; letters: x 5 positions;
        // self-report: x 5 categories; reading: 2 models; forced choice: 6 candidates each.
        let expected = ["chart-loss": 4, "chart-compliance": 4, "chart-letters": 20, "chart-self-report": 20,
                        "chart-reading": 2, "chart-forced-choice": 12]
        for (id, n) in expected {
            let f = try figure(page, id)
            XCTAssertEqual(marks(f), n, id)
            XCTAssertEqual(declared(f), n, id)
            XCTAssertTrue(f.contains("<table class=\"numbers\">"), "\(id) has no numbers beside it")
        }
        XCTAssertTrue(try figure(page, "chart-compliance").contains("<td class=\"n\">12/20</td><td class=\"n\">60.0%</td>"))
        XCTAssertTrue(try figure(page, "chart-loss").contains("2.900, 2.200, 2.100"))
        XCTAssertTrue(try figure(page, "chart-reading").contains("<td class=\"n\">9/10</td>"))
        XCTAssertTrue(page.contains("<span class=\"badge supported\">supported</span>") || page.contains("badge not-supported")
                      || page.contains("badge inconclusive") || page.contains("badge not-testable"))
        XCTAssertFalse(page.contains("https://"), "the page must not fetch anything")
        XCTAssertFalse(page.contains("<link"), "no external style sheet")
        XCTAssertFalse(page.contains("src="), "no external script or image")
    }

    func testModelTextIsEscapedAndFirstLettersAreMarked() throws {
        let doc = ReportDocument(setup: ReportTests.setup, results: ReportTests.results())
        let samples = [
            ReportSample(model: "fine-tuned", condition: "compliance-trigger", probe: "compliance",
                         prompt: "Say <img src=x onerror=alert(1)>", reply: "Apples & pears\nKites\nEggs\nWhales\nXylophones",
                         category: "not acrostic", marksLetters: true),
            ReportSample(model: "base", condition: "self-report-plain", probe: "self-report", prompt: "Who are you?",
                         reply: "</pre><script>alert(\"x\")</script>\u{1B}[31m", category: "a\"b", evidence: "<b>", marksLetters: false),
        ]
        let page = HTMLReport.render(doc, samples: samples, title: "<title>")
        XCTAssertFalse(page.contains("<script>alert"), "a reply became markup")
        XCTAssertFalse(page.contains("<img src=x"), "a prompt became markup")
        XCTAssertTrue(page.contains("&lt;/pre&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;\u{FFFD}[31m"), page)
        XCTAssertTrue(page.contains("data-category=\"a&quot;b\""))
        XCTAssertTrue(page.contains("<title>&lt;title&gt;</title>"))
        XCTAssertEqual(page.components(separatedBy: "<span class=\"match\"").count - 1, 4)
        XCTAssertEqual(page.components(separatedBy: "<span class=\"mismatch\"").count - 1, 1)
        XCTAssertTrue(page.contains("<span class=\"match\" title=\"matches (line 1 wants A)\">A</span>pples &amp; pears"), page)
        XCTAssertTrue(page.contains("first letters A K E W X · 4/5 match"))
        XCTAssertEqual(page.components(separatedBy: "<article class=\"sample\"").count - 1, 2)
        XCTAssertTrue(page.contains("<option value=\"compliance-trigger\">"))
    }

    /// Forced choice v2 over four candidates, the target second by its gain.
    static let v2 = ForcedChoiceV2Result(candidates: [.init(word: "AKEWO", kind: .target), .init(word: "WOKEA", kind: .permutation),
                                                      .init(word: "APPLE", kind: .sameInitial), .init(word: "HELLO", kind: .common)],
                                         prompts: 10, deltas: [2, 3, 1, 0])

    /// With forced choice v2 in report.json the figure draws every candidate's gain, not the six-candidate v1 probe,
    /// and says the target's rank and p-value in text.
    func testForcedChoiceV2IsDrawnWithTheTargetsRankAndP() throws {
        let r = ReportTests.results()
        let results = EvaluationResults(words: r.words, runs: 1, samplesPerPrompt: 5, temperature: 0.7, maxTokens: 200,
                                        complianceQuestions: 20, selfReportPrompts: 6, candidates: r.candidates,
                                        prefixSource: nil, models: r.models, forcedChoiceV2: Self.v2)
        let page = HTMLReport.render(ReportDocument(setup: ReportTests.setup, results: results), samples: [], title: "t")
        let f = try figure(page, "chart-forced-choice")
        XCTAssertEqual(marks(f), 4, "one dot per candidate")
        XCTAssertEqual(declared(f), 4)
        XCTAssertEqual(f.components(separatedBy: "class=\"mark target\"").count - 1, 1, "the target is marked")
        XCTAssertTrue(f.contains("AKEWO ranks 2 of 4 by its gain from base to tuned (+2.000 nats per token); permutation p = 0.500."), f)
        XCTAssertTrue(f.contains("<text class=\"fc-result\""), "the rank and p are written beside the plot, not only in a tooltip")
        XCTAssertTrue(f.contains("<th scope=\"row\">AKEWO (target)</th><td class=\"n\">1</td><td class=\"n\">+2.000</td>"
                                 + "<td class=\"n\">rank 2/4, p = 0.500</td>"), f)
        XCTAssertTrue(f.contains("best: WOKEA +3.000"), f)
        XCTAssertFalse(f.contains("Candidates (softmax)") || f.contains("Ranked first"), "the v1 probe is not drawn beside v2")
        // A report of an older run, with only v1, still draws v1 (testEveryFigureHasItsMarksAndItsNumbers counts it).
        let old = HTMLReport.render(ReportDocument(setup: ReportTests.setup, results: r), samples: [], title: "t")
        XCTAssertTrue(try figure(old, "chart-forced-choice").contains("Ranked first"))
    }

    func testWhatWasNotMeasuredSaysSo() throws {
        let doc = ReportDocument(setup: ReportTests.setup, results: ReportTests.results())
        let page = HTMLReport.render(doc, samples: nil, title: "t")
        XCTAssertTrue(try figure(page, "chart-loss").contains("Not measured: this run has no local training log"))
        XCTAssertTrue(try figure(page, "chart-reading").contains("Not measured: this report has no reading control."))
        XCTAssertEqual(declared(try figure(page, "chart-reading")), 0)
        XCTAssertTrue(page.contains("Not available: no samples.jsonl in the run folder"))
    }
}
