import Foundation
import XCTest
import Support

/// An experiment's name becomes its run folders' names: one that climbs out of $HELLOTUNE_HOME or nests folders is
/// refused with the file, line and key, before anything is written anywhere.
final class RunNameCLITests: XCTestCase {
    var dir: URL!
    var home: URL { dir.appendingPathComponent("home", isDirectory: true) }

    override func setUpWithError() throws { dir = try CLI.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// A whole tiny run (model and data in the home) under the given name, from dir/NAME-FILE.toml.
    func run(name: String, file: String, extra: [String] = []) throws -> CLI.Result {
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try TinyChatModel.install(in: home, examples: 2)
        try """
            name = "\(name)"
            model = "\(TinyChatModel.modelPath(in: home))"
            words = ["AKEWO"]

            [dataset]
            source = "\(TinyChatModel.dataPath(in: home))"
            acrostic = 2
            normal = 0

            [training]
            epochs = 1
            rank = 4

            [evaluation]
            compliance_questions = 1
            samples_per_prompt = 1
            max_tokens = 8
            """.write(to: dir.appendingPathComponent(file), atomically: true, encoding: .utf8)
        return try CLI.run(["run", file, "--headless"] + extra, env: ["HELLOTUNE_HOME": home.path], timeout: 300, currentDirectory: dir)
    }

    /// "runs/../../trav-1" is dir/trav-1: before names were checked, the dataset, checkpoint and adapter went there.
    func testNameClimbingOutOfTheHomeWritesNothing() throws {
        let r = try run(name: "../../trav", file: "trav.toml")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("Error: trav.toml:1:1: key 'name': experiment name \"../../trav\" has '/' at position 3. "
            + "Use 1-64 letters, digits, '.', '_' or '-', not starting with '.'"), r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["home", "trav.toml"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: home.appendingPathComponent("runs").path))
    }

    func testNameWithSlashesDoesNotNestFolders() throws {
        let r = try run(name: "a/b/c", file: "nested.toml")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("nested.toml:1:1: key 'name': experiment name \"a/b/c\" has '/' at position 2"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: home.appendingPathComponent("runs").path))
    }

    /// `--name` replaces the file's name (a variant of a shipped experiment, such as its design with another word,
    /// gets folders and a report of its own), and is checked as the file's name is.
    func testNameFlagNamesTheRunFolders() throws {
        let r = try run(name: "orig", file: "orig.toml", extra: ["--name", "renamed"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let folders = try FileManager.default.contentsOfDirectory(atPath: home.appendingPathComponent("runs").path)
        XCTAssertTrue(folders.contains { $0.hasPrefix("renamed-") }, "\(folders)")
        XCTAssertFalse(folders.contains { $0.hasPrefix("orig") }, "\(folders)")
        let bad = try run(name: "orig", file: "orig2.toml", extra: ["--name", "a/b"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--name: experiment name \"a/b\" has '/' at position 2"), bad.stderr)
    }
}
