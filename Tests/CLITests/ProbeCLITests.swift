import Foundation
import XCTest
import Support

/// `hellotune probe reading` on the real model: counts per question, every reply in the store, and bad flags.
final class ProbeCLITests: XCTestCase {
    var model: String {
        ProcessInfo.processInfo.environment["HELLOTUNE_MODEL"] ?? Paths.defaultModel.path
    }

    func testReadingControlCountsAndKeepsEveryReply() throws {
        let home = try temporaryHome()
        let r = try CLI.run(["probe", "reading", "--model", model, "--samples", "3", "--json"], env: ["HELLOTUNE_HOME": home.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        XCTAssertEqual(o["model"] as? String, "base")
        let plain = try XCTUnwrap(o["readingControl"] as? [String: Int])
        XCTAssertEqual(plain["n"], 3)
        XCTAssertEqual((o["readingControlListFirst"] as? [String: Int])?["n"], 3)
        XCTAssertTrue(["passes", "fails", "unclear"].contains(o["outcome"] as? String ?? ""), "\(o)")
        let replies = try XCTUnwrap(o["replies"] as? [[String: Any]])
        XCTAssertEqual(replies.count, 6)
        XCTAssertEqual(replies.filter { $0["named"] as? Bool == true && $0["condition"] as? String == "reading-plain" }.count,
                       plain["correct"])
        XCTAssertEqual(Set(replies.compactMap { $0["word"] as? String }).count, 3, "three words, each asked twice")

        // Every reply is in the store, under the experiment the output names.
        let experiment = try XCTUnwrap(o["experiment"] as? Int)
        let db = home.appendingPathComponent("hellotune.sqlite").path
        XCTAssertTrue(FileManager.default.fileExists(atPath: db), db)
        XCTAssertEqual(try sampleCount(db: db, experiment: experiment), 6)
    }

    func testBadSamplesAreRefused() throws {
        for bad in ["0", "-2"] {
            let r = try CLI.run(["probe", "reading", "--model", model, "--samples=\(bad)"])
            XCTAssertNotEqual(r.status, 0, bad)
            XCTAssertTrue(r.stderr.contains("--samples must be at least 1 (got \(bad))"), "\(bad): \(r.stderr)")
        }
    }

    /// The stored samples of one experiment, counted by sqlite3's own reader (not hellotune's).
    func sampleCount(db: String, experiment: Int) throws -> Int {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM samples WHERE experimentID = ?', (int(sys.argv[2]),)).fetchone()[0])", db, String(experiment)]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw XCTSkip("python3 with its sqlite3 module is needed for this test") }
        return Int(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }
}
