import Foundation
import XCTest

/// `hellotune compare` on the built binary: runs named as `report` names them, the table, --json, --html, and the
/// inputs it refuses. The page in a real browser: HTMLReportBrowserTests.
final class CompareCLITests: XCTestCase {
    func testTwoRunsSideBySide() throws {
        let home = try temporaryHome()
        try CompareFixtures.run("akewo-1-AKEWO-s1", in: home, exact: 12)
        let second = try CompareFixtures.run("akewo-2-AKEWO-s2", in: home, exact: 20, learningRate: 0.0005, seed: 2)
        // One by its name under runs/, one by its path.
        let r = try CLI.run(["compare", "akewo-1-AKEWO-s1", second.path, "--width", "80"], env: ["HELLOTUNE_HOME": home.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.count > 80 }, [], r.stdout)
        for expected in ["run A: akewo-1-AKEWO-s1", "run B: akewo-2-AKEWO-s2", "fine-tuned, trigger", "12/20 60.0% (38.7–78.1%)",
                         "20/20 100.0% (83.9–100.0%)", "rank 1/3, p = 0.333", "- seeds: A 1 · B 2",
                         "- learning rate: A 0.0002 · B 0.0005",
                         "compliance of fine-tuned, trigger: runs A and B do NOT overlap", "reading control of base: runs A and B overlap"] {
            XCTAssertTrue(r.stdout.contains(expected), "missing \(expected):\n\(r.stdout)")
        }
        XCTAssertFalse(r.stdout.contains("- epochs:"), "only the settings that differ are listed")

        // Without --width and not on a terminal: 100 columns.
        let wide = try CLI.run(["compare", "akewo-1-AKEWO-s1", "akewo-2-AKEWO-s2"], env: ["HELLOTUNE_HOME": home.path])
        XCTAssertEqual(wide.status, 0, wide.stderr)
        XCTAssertEqual(wide.stdout.split(separator: "\n").filter { $0.count > 100 }, [])
        XCTAssertTrue(wide.stdout.split(separator: "\n").contains { $0.count > 80 }, "the table uses the 100 columns")
    }

    func testJSONAndHTML() throws {
        let home = try temporaryHome()
        try CompareFixtures.run("a", in: home, exact: 12)
        try CompareFixtures.run("b", in: home, exact: 20)
        let r = try CLI.run(["compare", "a", "b", "--json"], env: ["HELLOTUNE_HOME": home.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let runs = try XCTUnwrap(root["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.map { $0["name"] as? String }, ["a", "b"])
        let pairs = try XCTUnwrap((root["differences"] as? [String: Any])?["compliance"] as? [[String: Any]])
        let tuned = try XCTUnwrap(pairs.first { $0["model"] as? String == "tuned" && $0["trigger"] as? Bool == true })
        XCTAssertEqual(tuned["overlap"] as? Bool, false)

        let page = home.appendingPathComponent("cmp.html")
        let h = try CLI.run(["compare", "a", "b", "--html", page.path], env: ["HELLOTUNE_HOME": home.path])
        XCTAssertEqual(h.status, 0, h.stderr)
        XCTAssertEqual(h.stdout, page.path + "\n")
        let html = try String(contentsOf: page, encoding: .utf8)
        XCTAssertTrue(html.contains("id=\"compare-run-A\"") && html.contains("id=\"compare-run-B\""))
    }

    func testBadInputsAreRefusedNamingTheRunOrFile() throws {
        let home = try temporaryHome()
        let env = ["HELLOTUNE_HOME": home.path]
        try CompareFixtures.run("good", in: home, exact: 12)
        func refused(_ args: [String], _ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let r = try CLI.run(["compare"] + args, env: env)
            XCTAssertNotEqual(r.status, 0, "compare \(args) succeeded", file: file, line: line)
            XCTAssertTrue(r.stderr.contains(message), "compare \(args):\nexpected: \(message)\ngot: \(r.stderr)", file: file, line: line)
            XCTAssertEqual(r.stdout, "", "nothing is printed before the error", file: file, line: line)
        }
        try refused(["good"], "give at least two runs to compare (got 1)")
        try refused(["good", "nope"], "no run 'nope': give an experiment id")
        try refused(["good", "good"], "'good' is the same run as 'good'")
        try refused(["good", "good", "--json", "--html", "x.html"], "give --json (print JSON) or --html FILE (write a page), not both")
        try refused(["good", "good", "--width", "20"], "--width 20 is outside 40...1000")

        let unfinished = home.appendingPathComponent("runs/unfinished")
        try FileManager.default.createDirectory(at: unfinished, withIntermediateDirectories: true)
        try refused(["good", "unfinished"], "\(unfinished.path)/report.json does not exist: the run has not finished")

        let damaged = try CompareFixtures.run("damaged", in: home, exact: 12).appendingPathComponent("report.json")
        try Data("{\"setup\": ".utf8).write(to: damaged)
        try refused(["good", "damaged"], "\(damaged.path) is not a report this hellotune can read (not valid JSON")
        try #"{"setup": {"modelName": "m"}, "results": {}}"#.write(to: damaged, atomically: true, encoding: .utf8)
        try refused(["good", "damaged"], "\(damaged.path) is not a report this hellotune can read (no field 'backend' at setup)")

        try refused(["good", "damaged", "--html", home.path], "--html \(home.path) is a folder")
        try refused(["good", "damaged", "--html", home.appendingPathComponent("no/such/x.html").path],
                    "the folder \(home.appendingPathComponent("no/such").path) does not exist")
    }
}
