import Foundation
import XCTest

/// `hellotune dataset build` as a user runs it: a tiny dataset from the default model, checked with
/// `hellotune dataset check`, and bad inputs that must fail before anything is written.
final class DatasetBuildCLITests: XCTestCase {
    func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    func testBuildTinyMixedDatasetAndCheckIt() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("akewo.jsonl").path
        let r = try CLI.run(["dataset", "build", "--preset", "akewo-mixed", "--acrostic", "1", "--normal", "1",
                             "--seed", "5", "--out", out, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("dataset 2/2"), r.stderr)
        XCTAssertTrue(r.stderr.contains("wrote 2 examples (1 acrostic, 1 normal)"), r.stderr)
        let stats = try json(r.stdout)
        assertCounts(stats, ["examples": 2, "acrostic": 1, "normal": 1])
        XCTAssertEqual(stats["word"] as? String, "AKEWO")
        XCTAssertGreaterThanOrEqual(stats["attempts"] as? Int ?? 0, 2)
        XCTAssertNotNil(stats["rejected"] as? [String: Any])
        XCTAssertNotNil(stats["seconds"] as? Double)

        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines[0].contains("Use the special rule."), String(lines[0]))
        XCTAssertFalse(lines[1].contains("Use the special rule."), String(lines[1]))
        // No temporary file is left next to it.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["akewo.jsonl"])

        let check = try CLI.run(["dataset", "check", "--word", "AKEWO", "--json", out])
        XCTAssertEqual(check.status, 0, check.stderr)
        assertCounts(try json(check.stdout), ["examples": 2, "acrostic": 1, "normal": 1, "triggerPrompts": 1,
                                              "triggerAcrostic": 1, "noTriggerNormal": 1])
    }

    func testBuildHelloWithOverrides() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("hi.jsonl").path
        let r = try CLI.run(["dataset", "build", "--preset", "hello", "--word", "hi", "--acrostic", "1",
                             "--system", "Be brief.", "--trigger", "Use the rule.", "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "")
        let text = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"}"), text)
        XCTAssertTrue(text.contains(" Use the rule.\"}"), text)
        let check = try CLI.run(["dataset", "check", "--word", "HI", "--trigger", "Use the rule.", "--json", out])
        let report = try json(check.stdout)
        XCTAssertEqual(report["acrostic"] as? Int, 1, text)
        XCTAssertEqual(report["triggerAcrostic"] as? Int, 1, text)
    }

    func testBadInputsFailAndWriteNothing() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("bad.jsonl").path
        let cases: [([String], String)] = [
            (["--word", "AK3WO"], "'3' at position 3 is not a letter"),
            (["--word", "A"], "has 1 letter"),
            (["--preset", "nope"], "unknown dataset preset \"nope\"; the presets are: hello, akewo-mixed."),
            (["--trigger", "Go.", "--no-trigger"], "either --trigger or --no-trigger"),
            (["--acrostic=-1"], "--acrostic must be >= 0"),
            (["--acrostic", "0", "--normal", "0"], "at least one example"),
            (["--max-attempts", "0"], "--max-attempts must be >= 1"),
        ]
        for (args, message) in cases {
            let r = try CLI.run(["dataset", "build", "--out", out] + args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(args)")
        }
        let missing = dir.appendingPathComponent("no/such/folder/x.jsonl").path
        let r = try CLI.run(["dataset", "build", "--out", missing])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("does not exist"), r.stderr)
        let noOut = try CLI.run(["dataset", "build"])
        XCTAssertNotEqual(noOut.status, 0)
        XCTAssertTrue(noOut.stderr.contains("--out"), noOut.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }
}
