import Foundation
import XCTest
import Support
import Store
import Experiment

/// Experiment names become folder names: they are checked where they are read, and every run folder built from
/// one must stay under $HELLOTUNE_HOME/runs.
final class RunNameTests: XCTestCase {
    func testSafeNamesPass() throws {
        for name in ["akewo-mixed", "hello", "sweep_2", "v1.2", "A", String(repeating: "x", count: 64)] {
            XCTAssertEqual(try RunName.check(name), name)
        }
    }

    func testUnsafeNamesAreRefusedSayingWhy() {
        let cases: [(String, String)] = [
            ("../../trav", "has '/' at position 3"), ("a/b/c", "has '/' at position 2"), ("", "is empty"),
            (".hidden", "starts with '.'"), ("..", "starts with '.'"), ("two words", "has U+20 at position 4"),
            ("a\u{1B}]0;x\u{07}", "has U+1B at position 2"), ("C:\\x", "has ':' at position 2"),
            ("na\u{EF}ve", "has 'ï' at position 3"), (String(repeating: "x", count: 65), "is 65 characters long"),
        ]
        for (name, problem) in cases {
            XCTAssertThrowsError(try RunName.check(name), name.debugDescription) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains(problem), message)
                XCTAssertTrue(message.contains("letters, digits, '.', '_' or '-'"), message)
            }
        }
    }

    func testExperimentFileNamesTheLineAndKey() {
        XCTAssertThrowsError(try ExperimentFile.parse("words = [\"AKEWO\"]\nname = \"../../trav\"\n", file: "trav.toml")) { error in
            guard let e = error as? TOMLError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.line, 2)
            XCTAssertEqual(e.key, "name")
            XCTAssertTrue("\(e)".hasPrefix("trav.toml:2:1: key 'name': experiment name \"../../trav\" has '/'"), "\(e)")
        }
    }

    func testRunFoldersStayUnderTheirParent() throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("runname-\(UUID().uuidString)/runs")
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: parent.deletingLastPathComponent()) }
        XCTAssertEqual(try Paths.folder("hello-3-AKEWO-s1", under: parent).lastPathComponent, "hello-3-AKEWO-s1")
        for name in ["../../trav-1", "..", ".", "", "a/b", "x/../../y"] {
            XCTAssertThrowsError(try Paths.folder(name, under: parent), name) { error in
                guard case PathError.outsideFolder = error else { return XCTFail("\(error)") }
                XCTAssertTrue("\(error)".contains("nothing was written there"), "\(error)")
            }
        }
        // A run folder that is a link out of the home is not followed.
        let outside = parent.deletingLastPathComponent().appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: parent.appendingPathComponent("linked-1"), withDestinationURL: outside)
        XCTAssertThrowsError(try Paths.folder("linked-1", under: parent))
    }

    func testTheRunnerRefusesAnUnsafeNameBeforeRecordingAnything() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("runname-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let store = try Store(path: home.appendingPathComponent("hellotune.sqlite").path)
        var config = try ExperimentFile.preset("hello")
        config.name = "../../trav"
        let runner = ExperimentRunner(config: config, store: store, workerBinary: nil) { _ in }
        XCTAssertThrowsError(try runner.run()) { error in XCTAssertTrue(error is RunNameError, "\(error)") }
        XCTAssertEqual(try store.experiments().count, 0)
    }
}
