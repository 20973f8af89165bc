import Foundation
import XCTest
import Support
import Store
import Experiment

/// `hellotune report RUN --html` from a real (small) run, loaded in a real browser: headless Chromium runs the page's
/// script, and the page it leaves is checked for console errors, every chart with the number of marks its data
/// calls for, and every stored reply; a screenshot is kept. Skipped, saying why, without Chromium.
final class HTMLReportBrowserTests: XCTestCase {
    var dir: URL!
    var home: URL { dir.appendingPathComponent("home", isDirectory: true) }
    var env: [String: String] { ["HELLOTUNE_HOME": home.path] }
    /// Where the screenshot is kept after the test (its folder is removed).
    static let screenshot = FileManager.default.temporaryDirectory.appendingPathComponent("hellotune-report-html.png")
    static let compareScreenshot = FileManager.default.temporaryDirectory.appendingPathComponent("hellotune-compare-html.png")

    override func setUpWithError() throws { dir = try CLI.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    static var chromium: URL? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].map(URL.init(fileURLWithPath:))
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    func chromium(_ browser: URL, _ args: [String]) throws -> CLI.Result {
        try CLI.run(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--enable-logging=stderr", "--v=0",
                     "--user-data-dir=\(dir.appendingPathComponent("chromium").path)"] + args,
                    timeout: 120, executable: browser)
    }

    /// The `<figure ...id="ID"...>...</figure>` of a chart in the DOM Chromium dumped.
    func figure(_ dom: String, _ id: String) throws -> String {
        let start = try XCTUnwrap(dom.range(of: "id=\"\(id)\""), "no chart \(id) in the page")
        let open = try XCTUnwrap(dom.range(of: "<figure", options: .backwards, range: dom.startIndex..<start.lowerBound))
        let end = try XCTUnwrap(dom.range(of: "</figure>", range: start.upperBound..<dom.endIndex))
        return String(dom[open.lowerBound..<end.upperBound])
    }

    func testTheReportOfARealRunLoadsInChromium() throws {
        guard let browser = Self.chromium else {
            throw XCTSkip("chromium is not installed (scripts/setup.sh installs it): the HTML report is not checked in a browser")
        }
        // A small real run on the tiny model: eight examples (two held out for the validation loss), two epochs, and
        // an evaluation of every probe at a few tokens a reply.
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try TinyChatModel.install(in: home, examples: 8)
        try """
            name = "html"
            model = "\(TinyChatModel.modelPath(in: home))"
            words = ["AKEWO"]

            [dataset]
            source = "\(TinyChatModel.dataPath(in: home))"
            acrostic = 8
            normal = 0

            [training]
            epochs = 2
            rank = 4
            val_split = 0.25

            [evaluation]
            compliance_questions = 2
            samples_per_prompt = 1
            self_report_samples = 1
            max_tokens = 8
            """.write(to: dir.appendingPathComponent("html.toml"), atomically: true, encoding: .utf8)
        let run = try CLI.run(["run", "html.toml", "--headless"], env: env, timeout: 600, currentDirectory: dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        let folder = home.appendingPathComponent("runs/html-1-AKEWO-s1")
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("report.html").path), "run wrote no report.html")

        let report = try CLI.run(["report", folder.path, "--html"], env: env)
        XCTAssertEqual(report.status, 0, report.stderr)
        let page = folder.appendingPathComponent("report.html")
        XCTAssertEqual(report.stdout, page.path + "\n")

        let dump = try chromium(browser, ["--dump-dom", page.absoluteString])
        XCTAssertEqual(dump.status, 0, dump.stderr)
        let console = dump.stderr.split(separator: "\n").filter { $0.contains("CONSOLE") || $0.contains("Uncaught") }
        XCTAssertEqual(console, [], "the page logged to the console")
        let dom = dump.stdout
        XCTAssertTrue(dom.contains("data-ready=\"1\""), "the page's script did not run to its end")

        // Each chart with as many marks as report.json's numbers call for.
        let json = try Data(contentsOf: folder.appendingPathComponent("report.json"))
        let doc = try Report.decode(json)
        let curves = try XCTUnwrap(doc.setup.trainingCurves, "the run's report has no training curve")
        XCTAssertEqual(curves.map(\.validationLosses.count), [2], "one validation loss per epoch")
        let models = doc.results.models
        let expected: [String: Int] = [
            "chart-loss": curves.count + curves.reduce(0) { $0 + $1.validationLosses.count },
            "chart-compliance": models.reduce(0) { $0 + $1.compliance.count },
            "chart-letters": models.reduce(0) { $0 + $1.compliance.reduce(0) { $0 + $1.positionAccuracy.count } },
            "chart-self-report": 5 * models.reduce(0) { $0 + $1.selfReport.filter { $0.rates.trials > 0 }.count },
            "chart-reading": models.filter { $0.readingControl != nil }.count,
            // Forced choice v2: a dot per candidate; v1 (reports of older runs) only without it.
            "chart-forced-choice": doc.results.forcedChoiceV2.map { $0.deltas.filter(\.isFinite).count }
                ?? models.reduce(0) { $0 + ($1.forcedChoice.map { $0.detail?.candidates.count ?? 1 } ?? 0) },
        ]
        for (id, n) in expected {
            let f = try figure(dom, id)
            XCTAssertEqual(f.components(separatedBy: "class=\"mark").count - 1, n, "\(id): \(f.prefix(300))")
            XCTAssertTrue(f.contains("data-marks=\"\(n)\""), id)
            XCTAssertTrue(n == 0 || f.contains("<table class=\"numbers\">"), "\(id) has no numbers beside it")
        }
        XCTAssertGreaterThan(expected["chart-compliance"] ?? 0, 0)
        XCTAssertEqual(expected["chart-reading"], 2, "the run measured the reading control of base and tuned")
        XCTAssertFalse(try figure(dom, "chart-reading").contains("Not measured"), "the reading control is said to be missing")
        let v2 = try XCTUnwrap(doc.results.forcedChoiceV2, "a local run measures forced choice v2")
        XCTAssertGreaterThanOrEqual(v2.candidates.count, 100)
        XCTAssertTrue(try figure(dom, "chart-forced-choice").contains("AKEWO ranks \(v2.targetRank) of \(v2.candidates.count) by its gain"),
                      "the target's rank is not written beside the chart")

        // Every stored reply of the run, and the script's count of them.
        let store = try Store(path: home.appendingPathComponent("hellotune.sqlite").path)
        let stored = try ReportSample.stored(in: store, experimentID: 1, run: "AKEWO-s1").count
        try store.close()
        XCTAssertGreaterThan(stored, 0)
        XCTAssertEqual(dom.components(separatedBy: "<article class=\"sample").count - 1, stored)
        XCTAssertTrue(dom.contains("\(stored) of \(stored) shown"), "the filters' count was not written")

        try? FileManager.default.removeItem(at: Self.screenshot)
        let shot = try chromium(browser, ["--window-size=1280,2400", "--screenshot=\(Self.screenshot.path)", page.absoluteString])
        XCTAssertEqual(shot.status, 0, shot.stderr)
        let png = try Data(contentsOf: Self.screenshot)
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "not a PNG")
        XCTAssertGreaterThan(png.count, 10_000)
        print("report.html screenshot: \(Self.screenshot.path) (\(png.count) bytes)")
    }

    /// `hellotune compare --html` on two hand-built runs: no console errors, and a chart with its numbers per run.
    func testTheComparisonPageLoadsInChromium() throws {
        guard let browser = Self.chromium else {
            throw XCTSkip("chromium is not installed (scripts/setup.sh installs it): the comparison page is not checked in a browser")
        }
        try CompareFixtures.run("a", in: home, exact: 12)
        try CompareFixtures.run("b", in: home, exact: 20, learningRate: 0.0005)
        let page = dir.appendingPathComponent("compare.html")
        let r = try CLI.run(["compare", "a", "b", "--html", page.path], env: env)
        XCTAssertEqual(r.status, 0, r.stderr)

        let dump = try chromium(browser, ["--dump-dom", page.absoluteString])
        XCTAssertEqual(dump.status, 0, dump.stderr)
        let console = dump.stderr.split(separator: "\n").filter { $0.contains("CONSOLE") || $0.contains("Uncaught") }
        XCTAssertEqual(console, [], "the page logged to the console")
        let dom = dump.stdout
        // Per run: base and tuned with and without the trigger, and both models' reading control.
        for id in ["compare-run-A", "compare-run-B"] {
            let f = try figure(dom, id)
            XCTAssertEqual(f.components(separatedBy: "class=\"mark").count - 1, 6, "\(id): \(f.prefix(300))")
            XCTAssertTrue(f.contains("data-marks=\"6\""), id)
            XCTAssertTrue(f.contains("<table class=\"numbers\">"), "\(id) has no numbers beside it")
        }
        XCTAssertEqual(try figure(dom, "compare-compliance").components(separatedBy: "class=\"mark").count - 1, 8)
        XCTAssertTrue(dom.contains("<table class=\"numbers compare\">"), "no side-by-side table")
        XCTAssertTrue(dom.contains("learning rate: A 0.0002 · B 0.0005"))

        try? FileManager.default.removeItem(at: Self.compareScreenshot)
        let shot = try chromium(browser, ["--window-size=1280,2400", "--screenshot=\(Self.compareScreenshot.path)", page.absoluteString])
        XCTAssertEqual(shot.status, 0, shot.stderr)
        let png = try Data(contentsOf: Self.compareScreenshot)
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "not a PNG")
        print("compare.html screenshot: \(Self.compareScreenshot.path) (\(png.count) bytes)")
    }
}
