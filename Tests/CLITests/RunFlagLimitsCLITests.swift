import Foundation
import XCTest
import Store

/// Every flag has the limits of its experiment-file key, checked before anything is recorded: the real binary,
/// run on each bad value, must refuse it with the flag's name and range and leave the home empty.
final class RunFlagLimitsCLITests: XCTestCase {
    func assertRefused(_ args: [String], _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let home = try temporaryHome()
        let r = try CLI.run(args, env: ["HELLOTUNE_HOME": home.path, "OPENAI_API_KEY": ""], timeout: 60)
        XCTAssertNotEqual(r.status, 0, "\(args) succeeded", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(expected), "\(args):\nexpected: \(expected)\ngot: \(r.stderr)", file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Missing value"), "\(args): \(r.stderr)", file: file, line: line)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: home.path).filter { !$0.hasPrefix("hellotune.sqlite") }, [],
                       "\(args) left files behind", file: file, line: line)
        if FileManager.default.fileExists(atPath: home.appendingPathComponent("hellotune.sqlite").path) {
            XCTAssertEqual(try Store(path: home.appendingPathComponent("hellotune.sqlite").path).jobs().count, 0,
                           "\(args) recorded a job", file: file, line: line)
        }
    }

    func testRunFlagsHaveTheFileLimits() throws {
        let cases: [([String], String)] = [
            (["--epochs", "1000000"], "--epochs must be between 1 and 1000, not 1000000"),
            (["--epochs", "-3"], "--epochs must be between 1 and 1000, not -3"),
            (["--lr", "-1"], "--lr must be between 1e-08 and 1.0, not -1.0"),
            (["--rank", "5000"], "--rank must be between 1 and 1024, not 5000"),
            (["--compliance-questions", "100000"], "--compliance-questions must be between 1 and 10000, not 100000"),
            (["--compliance-questions", "9999"], "held-out ones; ask for at most"),
            (["--samples", "0"], "--samples must be between 1 and 1000, not 0"),
            (["--acrostic", "-1"], "--acrostic must be between 0 and 10000, not -1"),
            (["--max-attempts", "0"], "--max-attempts must be between 1 and 100, not 0"),
            (["--name", "../x"], "--name: "),
            (["--seeds", "2147483648"], "--seeds: '2147483648' is not a whole number between 0 and 2147483647"),
        ]
        for (args, expected) in cases {
            try assertRefused(["run", "--preset", "hello", "--headless"] + args, expected)
        }
    }

    func testTrainFlagsHaveTheSameLimits() throws {
        let cases: [([String], String)] = [
            (["--weight-decay", "-5"], "--weight-decay must be between 0.0 and 1.0, not -5.0"),
            (["--warmup", "99999999999"], "--warmup must be between 0 and 1000000, not 99999999999"),
            (["--alpha", "1e308"], "--alpha must be between 1e-06 and 1000000.0, not inf"),
            (["--lr", "-1"], "--lr must be between 1e-08 and 1.0, not -1.0"),
            (["--epochs", "1e12"], "The value '1e12' is invalid for '--epochs <epochs>'"),
        ]
        for (args, expected) in cases {
            try assertRefused(["train", "--data", "missing.jsonl", "--out", "never-made"] + args, expected)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "never-made"))
    }
}
