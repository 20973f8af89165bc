import Foundation
import XCTest
import Experiment

/// `hellotune compare`'s logic on hand-built report.json files written to disk and read back, so every number and
/// every difference is known.
final class RunComparisonTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("compare-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    static var v2: ForcedChoiceV2Result { HTMLReportTests.v2 }

    /// ReportTests' results with the tuned model's compliance with the trigger set to `exact`/20, and with
    /// or without forced choice v2.
    static func results(exact: Int, v2: ForcedChoiceV2Result? = nil) -> EvaluationResults {
        let r = ReportTests.results()
        let models = r.models.map { m -> ModelResults in
            guard m.model == "tuned" else { return m }
            return ModelResults(model: m.model, compliance: [ReportTests.compliance(true, exact, 20, accuracy: 0.8), m.compliance[1]],
                                selfReport: m.selfReport, forcedChoice: m.forcedChoice, prefixProbe: m.prefixProbe,
                                readingControl: NamingCount(correct: exact / 4, n: 20))
        }
        return EvaluationResults(words: r.words, runs: 1, samplesPerPrompt: r.samplesPerPrompt, temperature: r.temperature,
                                 maxTokens: r.maxTokens, complianceQuestions: r.complianceQuestions,
                                 selfReportPrompts: r.selfReportPrompts, candidates: r.candidates, trigger: r.trigger,
                                 forcedChoicePrompt: r.forcedChoicePrompt, namingQuestion: r.namingQuestion,
                                 prefixSource: nil, models: models, forcedChoiceV2: v2)
    }

    /// A run folder holding report.json, as `run` writes it.
    func run(_ name: String, exact: Int, learningRate: Double = 0.0002, v2: ForcedChoiceV2Result? = nil,
             curve: TrainingCurve? = nil) throws -> URL {
        var setup = ReportTests.setup
        setup.learningRate = learningRate
        setup.trainingCurves = curve.map { [$0] }
        let folder = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Report.json(results: Self.results(exact: exact, v2: v2), setup: setup).write(to: folder.appendingPathComponent("report.json"))
        return folder
    }

    func compare(_ folders: [URL]) throws -> RunComparison { RunComparison(runs: try folders.map(RunComparison.load(folder:))) }

    func testOnlyTheSettingsThatDifferAreListed() throws {
        let c = try compare([run("a", exact: 12), run("b", exact: 12, learningRate: 0.0005)])
        XCTAssertEqual(c.differences.settings.map(\.setting), ["learningRate"])
        XCTAssertEqual(c.differences.settings.first?.values, ["0.0002", "0.0005"])
        XCTAssertEqual(c.differences.settings.first?.label, "learning rate")
        XCTAssertEqual(c.differences.verdicts, [], "the same results give the same verdicts")
        XCTAssertNil(c.differences.forcedChoice)
        XCTAssertEqual(c.runs.map(\.name), ["a", "b"])
        XCTAssertEqual(c.runs[0].settings["epochs"], "5")
        XCTAssertEqual(c.runs[0].seeds, [1, 2, 3])
        XCTAssertEqual(c.runs[0].preset, "trelis")

        // The same run twice over has no difference at all.
        let same = try compare([run("c", exact: 12), run("d", exact: 12)])
        XCTAssertEqual(same.differences.settings, [])
        XCTAssertTrue(same.differences.compliance.allSatisfy(\.overlap))
    }

    func testIntervalsOverlapByTheirWilsonBounds() throws {
        // 12/20: [38.7%, 78.1%]; 19/20: [76.4%, 99.1%]; 20/20: [83.9%, 100%].
        let a = ComparedRate(Statistics.wilson(successes: 12, trials: 20))
        let b = ComparedRate(Statistics.wilson(successes: 19, trials: 20))
        let c = ComparedRate(Statistics.wilson(successes: 20, trials: 20))
        XCTAssertTrue(a.overlaps(b) && b.overlaps(a), "\(a) \(b)")
        XCTAssertFalse(a.overlaps(c) || c.overlaps(a), "\(a) \(c)")
        XCTAssertTrue(b.overlaps(c))
        let touching = ComparedRate(Proportion(successes: 1, trials: 2, low: 0.781, high: 0.9))
        XCTAssertTrue(a.overlaps(touching), "intervals that share their end point overlap")

        let cmp = try compare([run("a", exact: 12), run("b", exact: 19), run("c", exact: 20)])
        let tuned = cmp.differences.compliance.filter { $0.model == "tuned" && $0.trigger == true }
        XCTAssertEqual(tuned.map { [$0.first, $0.second] }, [[0, 1], [0, 2], [1, 2]])
        XCTAssertEqual(tuned.map(\.overlap), [true, false, true])
        XCTAssertLessThan(tuned[1].pValue, 0.05, "12/20 against 20/20")
        XCTAssertEqual(tuned[1].pValue, FisherTest.p(a.proportion, c.proportion))
        // base with and without the trigger, tuned without: the same 0/20 everywhere.
        XCTAssertEqual(cmp.differences.compliance.count, 4 * 3)
        XCTAssertTrue(cmp.differences.compliance.filter { $0.model == "base" }.allSatisfy { $0.overlap && $0.pValue == 1 })
        // The reading control: tuned 3/20, 4/20, 5/20; base has none.
        XCTAssertEqual(cmp.differences.readingControl.map(\.model), ["tuned", "tuned", "tuned"])
        XCTAssertNil(cmp.differences.readingControl[0].trigger)
        XCTAssertEqual(cmp.runs[2].reading(model: "tuned")?.successes, 5)
    }

    func testVerdictsThatDifferAreFound() throws {
        // Below 50% compliance with the trigger neither hypothesis is testable.
        let c = try compare([run("a", exact: 12), run("b", exact: 5)])
        let before = c.runs[0].verdicts.map(\.verdict), after = c.runs[1].verdicts.map(\.verdict)
        XCTAssertEqual(Set(after), ["not testable"])
        XCTAssertFalse(before.contains("not testable"))
        XCTAssertEqual(c.differences.verdicts.map(\.id), c.runs[0].verdicts.map(\.id))
        XCTAssertEqual(c.differences.verdicts.first?.values, [before[0], "not testable"])
        XCTAssertFalse(c.runs[0].verdicts[0].rule.isEmpty, "each verdict keeps its rule")
        XCTAssertEqual(c.differences.compliance.first { $0.model == "tuned" && $0.trigger == true }?.overlap, true,
                       "12/20 and 5/20 overlap: [38.7%, 78.1%] and [11.2%, 46.9%]")
    }

    func testForcedChoiceIsV2WhenTheReportHasItAndV1Otherwise() throws {
        let c = try compare([run("new", exact: 12, v2: Self.v2), run("old", exact: 12)])
        let new = try XCTUnwrap(c.runs[0].forcedChoice), old = try XCTUnwrap(c.runs[1].forcedChoice)
        XCTAssertEqual(new.version, 2)
        XCTAssertEqual(new.rank, 2)
        XCTAssertEqual(new.candidates, 4)
        XCTAssertEqual(new.pValue, 0.5)
        XCTAssertEqual(new.targetGain, 2)
        XCTAssertEqual(old.version, 1)
        XCTAssertEqual(old.rank, 1, "the tuned model ranks AKEWO first of six")
        XCTAssertEqual(old.candidates, 6)
        XCTAssertNil(old.pValue)
        XCTAssertNotNil(c.differences.forcedChoice)
        let text = ComparisonText.render(c)
        XCTAssertTrue(text.contains("rank 2/4, p = 0.500, gain +2.000 nats/token"), text)
        XCTAssertTrue(text.contains("v1: mean rank 1.0 of 6"), text)
    }

    func testValidationLossIsTheLastEpochs() throws {
        let curve = TrainingCurve(run: "AKEWO-s1", stepLosses: [3, 2, 1], stepsPerEpoch: 1, epochLosses: [3, 2, 1],
                                  validationLosses: [2.9, 2.2, 2.1], validationExamples: 2)
        let c = try compare([run("a", exact: 12, curve: curve), run("b", exact: 12)])
        XCTAssertEqual(c.runs[0].validationLoss.map(\.run), ["AKEWO-s1"])
        XCTAssertEqual(c.runs[0].validationLoss.map(\.epochs), [3])
        XCTAssertEqual(c.runs[0].validationLoss.map(\.final), [2.1])
        XCTAssertEqual(c.runs[1].validationLoss, [])
        let text = ComparisonText.render(c)
        XCTAssertTrue(text.contains("2.100 after epoch 3"), text)
        XCTAssertTrue(text.contains("not measured"), text)
    }

    func testJSONHasStableKeys() throws {
        let c = try compare([run("a", exact: 12, v2: Self.v2), run("b", exact: 20, learningRate: 0.001)])
        let data = try c.json()
        XCTAssertEqual(data, try c.json())
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(Set(root.keys), ["runs", "differences"])
        let runs = try XCTUnwrap(root["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.count, 2)
        XCTAssertEqual(Set(runs[0].keys), ["name", "path", "words", "model", "backend", "seeds", "preset", "date", "settings",
                                           "compliance", "verdicts", "readingControl", "forcedChoice", "validationLoss"])
        let compliance = try XCTUnwrap(runs[0]["compliance"] as? [[String: Any]])
        XCTAssertEqual(Set(compliance[0].keys), ["model", "trigger", "exact"])
        XCTAssertEqual(Set(try XCTUnwrap(compliance[0]["exact"] as? [String: Any]).keys), ["successes", "trials", "rate", "low", "high"])
        XCTAssertEqual(Set(try XCTUnwrap((runs[0]["verdicts"] as? [[String: Any]])?.first).keys), ["id", "verdict", "reason", "rule"])
        XCTAssertEqual(Set(try XCTUnwrap(runs[0]["forcedChoice"] as? [String: Any]).keys),
                       ["version", "target", "rank", "candidates", "pValue", "targetGain"])
        let differences = try XCTUnwrap(root["differences"] as? [String: Any])
        XCTAssertEqual(Set(differences.keys), ["settings", "verdicts", "compliance", "readingControl", "forcedChoice"])
        let pair = try XCTUnwrap((differences["compliance"] as? [[String: Any]])?.first)
        XCTAssertEqual(Set(pair.keys), ["measure", "model", "trigger", "first", "second", "overlap", "pValue"])
        let setting = try XCTUnwrap((differences["settings"] as? [[String: Any]])?.first)
        XCTAssertEqual(setting["setting"] as? String, "learningRate")
        XCTAssertEqual(setting["values"] as? [String], ["0.0002", "0.001"])
        // Decodes back to the same comparison.
        XCTAssertEqual(try JSONDecoder().decode(RunComparison.self, from: data), c)
    }

    func testAMissingOrDamagedReportNamesTheFile() throws {
        let empty = dir.appendingPathComponent("unfinished")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let file = empty.appendingPathComponent("report.json").path
        XCTAssertThrowsError(try RunComparison.load(folder: empty)) { error in
            XCTAssertEqual(error as? RunComparison.LoadError, .noReport(file: file))
            XCTAssertTrue("\(error)".hasPrefix("\(file) does not exist"), "\(error)")
        }
        let good = try run("damaged", exact: 12)
        let report = good.appendingPathComponent("report.json")
        let text = try String(contentsOf: report, encoding: .utf8)
        try String(text.prefix(text.count / 2)).write(to: report, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RunComparison.load(folder: good)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("\(report.path) is not a report this hellotune can read (not valid JSON"), message)
            XCTAssertTrue(message.hasSuffix("run the experiment again to rewrite it."), message)
        }
        try #"{"results": {}, "verdicts": []}"#.write(to: report, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RunComparison.load(folder: good)) { error in
            XCTAssertTrue("\(error)".contains("(no field 'setup')"), "\(error)")
        }
    }

    func testTheTableFitsItsWidthAndWrapsRunsIntoBlocks() throws {
        let c = try compare([run("akewo-mixed-1-AKEWO-s1", exact: 12), run("akewo-mixed-2-AKEWO-s2", exact: 19, learningRate: 0.0005),
                             run("akewo-mixed-3-AKEWO-s3", exact: 20)])
        for width in [100, 80, 60] {
            let text = ComparisonText.render(c, width: width)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            XCTAssertEqual(lines.filter { $0.count > width }, [], "width \(width):\n\(text)")
            XCTAssertEqual(lines.filter { $0.hasSuffix(" ") }, [], "no trailing spaces")
            // Items wrap with an indent of four.
            let flat = text.replacingOccurrences(of: "\n    ", with: " ")
            XCTAssertTrue(text.contains("run C"), text)
            XCTAssertTrue(flat.contains("runs A and C do NOT overlap"), text)
            XCTAssertTrue(flat.contains("- learning rate: A 0.0002 · B 0.0005 · C 0.0002"), text)
            XCTAssertTrue(flat.contains("- compliance of base, trigger: every pair of runs overlaps (95% intervals; smallest Fisher p = 1.000)"), text)
            XCTAssertTrue(flat.contains("- compliance of fine-tuned, trigger: runs A and B overlap"), "a group with a gap lists every pair")
        }
        // At 100 columns three runs stand side by side; at 80 the third goes to a second block.
        let wide = ComparisonText.render(c, width: 100), narrow = ComparisonText.render(c, width: 80)
        XCTAssertTrue(wide.contains("run A") && wide.split(separator: "\n").contains { $0.contains("run A") && $0.contains("run C") }, wide)
        XCTAssertEqual(narrow.split(separator: "\n").filter { $0.contains("run A") && $0.contains("run B") }.count, 1, narrow)
        XCTAssertEqual(narrow.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces) == "run C" }.count, 1, narrow)
        XCTAssertTrue(wide.contains("12/20 60.0% (38.7–78.1%)"), wide)
        XCTAssertTrue(wide.contains("H1 rule: "), wide)
        XCTAssertTrue(wide.contains("H2 (acrostic replies) rule: the same as H2's"), wide)
    }

    func testTextFromAReportIsSanitisedAndEscaped() throws {
        let folder = dir.appendingPathComponent("evil")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var setup = ReportTests.setup
        setup.preset = "x\u{1B}]0;owned\u{07}<script>alert(1)</script>"
        try Report.json(results: Self.results(exact: 12), setup: setup).write(to: folder.appendingPathComponent("report.json"))
        let c = try compare([folder, run("plain", exact: 12)])
        let text = ComparisonText.render(c)
        XCTAssertFalse(text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 }, "an escape reached the table")
        let page = ComparisonHTML.render(c)
        XCTAssertFalse(page.contains("<script>alert"), "a report's text became markup")
        XCTAssertTrue(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        XCTAssertFalse(page.contains("https://"), "the page must not fetch anything")
        XCTAssertFalse(page.contains("<link") || page.contains("src="), "nothing external")
    }

    func testThePageHasAChartAndTablePerRun() throws {
        let c = try compare([run("a", exact: 12, v2: Self.v2), run("b", exact: 20)])
        let page = ComparisonHTML.render(c)
        for id in ["compare-run-A", "compare-run-B"] {
            let start = try XCTUnwrap(page.range(of: "<figure class=\"chart\" id=\"\(id)\""), id)
            let end = try XCTUnwrap(page.range(of: "</figure>", range: start.upperBound..<page.endIndex))
            let figure = String(page[start.lowerBound..<end.upperBound])
            // base and tuned, with and without the trigger, and the tuned model's reading control.
            XCTAssertEqual(figure.components(separatedBy: "class=\"mark").count - 1, 5, id)
            XCTAssertTrue(figure.contains("data-marks=\"5\""), id)
            XCTAssertTrue(figure.contains("<table class=\"numbers\">") && figure.contains("<table class=\"numbers facts\">"), id)
        }
        XCTAssertTrue(page.contains("id=\"compare-compliance\" data-marks=\"8\""))
        XCTAssertTrue(page.contains("<li class=\"overlap-no\">compliance of fine-tuned, trigger: runs A and B do NOT overlap"), page)
        XCTAssertTrue(page.contains("rank 2/4, p = 0.500"))
    }
}
