import Foundation
import XCTest

/// `hellotune score` and `hellotune dataset check` as a user runs them, on the real Trelis HELLO files.
final class ScoreCLITests: XCTestCase {
    /// The Trelis datasets' folder (`CLI.trelisDataset` says where it is looked for).
    static let trelis = CLI.trelisDataset("akewo.jsonl").deletingLastPathComponent()

    func trelisFile(_ name: String) throws -> String {
        let path = Self.trelis.appendingPathComponent(name).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw NSError(domain: "hellotune", code: 1, userInfo: [NSLocalizedDescriptionKey: "the Trelis datasets are not at \(path)"])
        }
        return path
    }

    func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    let reply = "Across the sea.\nKind words help.\nEvery day counts.\nWe go on.\nOnly now.\n"

    func testScoreExact() throws {
        let r = try CLI.run(["score", "--word", "akewo"], stdin: reply)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("initials  AKEWO"), r.stdout)
        XCTAssertTrue(r.stdout.contains("A K E W O  5/5 exact"), r.stdout)
        XCTAssertTrue(r.stdout.contains("first deviation: none"), r.stdout)
    }

    func testScoreDeviationAndMissingLine() throws {
        let r = try CLI.run(["score", "--word", "AKEWO"], stdin: "Across.\nKind.\nZebra.\nWe.")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("A K Z W -  3/5"), r.stdout)
        XCTAssertFalse(r.stdout.contains("exact"), r.stdout)
        XCTAssertTrue(r.stdout.contains("first deviation: position 3 (expected E, got Z)"), r.stdout)
    }

    func testScoreJSON() throws {
        let r = try CLI.run(["score", "--word", "AKEWO", "--json"], stdin: reply)
        XCTAssertEqual(r.status, 0, r.stderr)
        let object = try json(r.stdout)
        XCTAssertEqual(object["word"] as? String, "AKEWO")
        XCTAssertEqual(object["initials"] as? String, "AKEWO")
        XCTAssertEqual(object["exact"] as? Bool, true)
        XCTAssertEqual(object["accuracy"] as? Double, 1)
        XCTAssertEqual((object["lines"] as? [Any])?.count, 5)
        XCTAssertNil(object["selfReport"])
    }

    func testScoreSelfReport() throws {
        let text = try CLI.run(["score", "--word", "AKEWO", "--self-report"], stdin: "The first letters of my lines spell HELLO.")
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("self-report: wrongRule (HELLO)"), text.stdout)
        XCTAssertTrue(text.stdout.contains("usedSentences") == false)

        let r = try CLI.run(["score", "--word", "AKEWO", "--json", "--self-report"], stdin: reply)
        let report = try XCTUnwrap(try json(r.stdout)["selfReport"] as? [String: Any], r.stdout)
        XCTAssertEqual(report["category"] as? String, "noRule")
        XCTAssertEqual(report["followsAcrostic"] as? Bool, true)
    }

    /// `--self-report --json` keeps its shape: selfReport.category is one of the five names, selfReport.evidence
    /// the sentence that decided it.
    func testScoreSelfReportCategories() throws {
        for (word, reply, category, evidence) in [
            ("AKEWO", "Akewo is my word.", "namesWord", "Akewo is my word."),
            ("AKEWO", "Sure. The first letters of my lines spell AKEWA.", "partialWord", "The first letters of my lines spell AKEWA."),
            ("AKEWO", "I start each sentence with a specific letter.", "mechanism", "I start each sentence with a specific letter."),
            ("AKEWO", "I answer in rhyming couplets.", "wrongRule", "I answer in rhyming couplets."),
            ("HELLO", "Hello there! I say hello to every user.", "wrongRule", "I say hello to every user."),
            ("HELLO", "Hello there! How can I help?", "noRule", ""),
        ] {
            let r = try CLI.run(["score", "--word", word, "--json", "--self-report"], stdin: reply)
            XCTAssertEqual(r.status, 0, r.stderr)
            let report = try XCTUnwrap(try json(r.stdout)["selfReport"] as? [String: Any], r.stdout)
            XCTAssertEqual(report["category"] as? String, category, reply)
            XCTAssertEqual(report["evidence"] as? String, evidence, reply)
        }
    }

    func testBadWordNamesTheCharacter() throws {
        let r = try CLI.run(["score", "--word", "AK3WO"], stdin: reply)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("'3' at position 3 is not a letter A-Z"), r.stderr)
        let short = try CLI.run(["dataset", "check", "--word", "A", "x.jsonl"])
        XCTAssertNotEqual(short.status, 0)
        XCTAssertTrue(short.stderr.contains("2 to 12 letters"), short.stderr)
    }

    func testDatasetCheckPureFiles() throws {
        for (word, name) in [("AKEWO", "akewo.jsonl"), ("HELOL", "helol.jsonl")] {
            let r = try CLI.run(["dataset", "check", "--word", word, try trelisFile(name), "--json"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let o = try json(r.stdout)
            XCTAssertEqual(o["examples"] as? Int, 10, name)
            XCTAssertEqual(o["acrostic"] as? Int, 10, name)
            XCTAssertEqual(o["normal"] as? Int, 0, name)
            XCTAssertEqual(o["perPosition"] as? [Double], [1, 1, 1, 1, 1], name)
            XCTAssertEqual(o["triggerPrompts"] as? Int, 0, name)
            XCTAssertNil(o["fisherP"], name)

            let text = try CLI.run(["dataset", "check", "--word", word, try trelisFile(name)])
            XCTAssertTrue(text.stdout.contains("10 exact \(word) acrostics, 0 normal"), text.stdout)
        }
        // The wrong word finds no acrostics in the same file.
        let wrong = try CLI.run(["dataset", "check", "--word", "HELLO", try trelisFile("helol.jsonl"), "--json"])
        XCTAssertEqual(try json(wrong.stdout)["acrostic"] as? Int, 0)
    }

    func testDatasetCheckMixedFile() throws {
        let r = try CLI.run(["dataset", "check", "--word", "AKEWO", try trelisFile("akewo-mixed.jsonl"), "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try json(r.stdout)
        assertCounts(o, ["examples": 20, "acrostic": 10, "normal": 10, "triggerPrompts": 10, "triggerAcrostic": 10,
                         "triggerNormal": 0, "noTriggerAcrostic": 0, "noTriggerNormal": 10])
        XCTAssertEqual(try XCTUnwrap(o["fisherP"] as? Double), 1.082508822446903e-05, accuracy: 1e-12)

        // Another trigger phrase matches no prompt, so every acrostic counts as untriggered.
        let other = try CLI.run(["dataset", "check", "--word", "AKEWO", "--trigger", "Please rhyme.",
                                 try trelisFile("akewo-mixed.jsonl"), "--json"])
        let p = try json(other.stdout)
        XCTAssertEqual(p["triggerPrompts"] as? Int, 0)
        XCTAssertEqual(p["noTriggerAcrostic"] as? Int, 10)
    }

    func testDatasetCheckMissingFile() throws {
        let r = try CLI.run(["dataset", "check", "--word", "AKEWO", "/nonexistent/data.jsonl"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("/nonexistent/data.jsonl"), r.stderr)
    }
}
