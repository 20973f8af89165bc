import Foundation
import TestSupport
import XCTest
import Support
import Store

/// `hellotune run` on bad input: each case fails with a message naming the file, line or field, a non-zero
/// exit, and nothing half-written (no run folder or report, the store consistent or untouched). And the files
/// a whole (tiny) run creates are readable by their owner only.
final class RunCLITests: XCTestCase {
    var dir: URL!
    /// Created by hellotune itself, so its own mode is checked too.
    var home: URL { dir.appendingPathComponent("home", isDirectory: true) }
    var env: [String: String] { ["HELLOTUNE_HOME": home.path] }
    var dbPath: String { home.appendingPathComponent("hellotune.sqlite").path }

    override func setUpWithError() throws { dir = try CLI.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    var model: String {
        ProcessInfo.processInfo.environment["HELLOTUNE_MODEL"] ?? Paths.defaultModel.path
    }

    /// `hellotune run ARGS` in the temporary folder (relative paths in messages stay as written).
    func run(_ args: [String]) throws -> CLI.Result {
        try CLI.run(["run"] + args, env: env, timeout: 120, currentDirectory: dir)
    }

    func write(_ text: String, _ name: String) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func assertFails(_ r: CLI.Result, with message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(r.status, 0, "exit status", file: file, line: line)
        XCTAssertTrue(r.stderr.contains("Error: " + message), "expected \(message)\ngot: \(r.stderr)", file: file, line: line)
    }

    /// No run folder or report, and a store (when one was opened) with no experiment that passes SQLite's check.
    func assertNothingWritten(file: StaticString = #filePath, line: UInt = #line) throws {
        let runs = home.appendingPathComponent("runs")
        XCTAssertFalse(FileManager.default.fileExists(atPath: runs.path),
                       "left \(runs.path): \((try? FileManager.default.contentsOfDirectory(atPath: runs.path)) ?? [])",
                       file: file, line: line)
        guard FileManager.default.fileExists(atPath: dbPath) else { return }
        let store = try Store(path: dbPath)
        defer { try? store.close() }
        XCTAssertEqual(try store.experiments().count, 0, "experiments recorded", file: file, line: line)
        XCTAssertEqual(try store.integrityCheck(), "ok", file: file, line: line)
    }

    static let good = #"{"messages":[{"role":"user","content":"Name a colour."},{"role":"assistant","content":"Blue."}]}"#

    func testInvalidWordIsRefused() throws {
        assertFails(try run(["--preset", "hello", "--word", "HELL0", "--model", model]),
                    with: "--word: target word \"HELL0\": '0' at position 5 is not a letter A-Z. Use only the letters A-Z, e.g. AKEWO.")
        assertFails(try run(["--preset", "hello", "--word", "", "--model", model]), with: "--word: ")
        try assertNothingWritten()
    }

    func testUnknownPresetIsRefused() throws {
        assertFails(try run(["--preset", "akewo", "--model", model]),
                    with: "unknown preset 'akewo'; known presets: akewo-mixed, hello, sweep. Or give an experiment file.")
        try assertNothingWritten()
    }

    func testMalformedExperimentFileNamesLineAndKey() throws {
        _ = try write("name = \"typo\"\nwords = [\"AKEWO\"]\n\n[training]\nepochs = 2\nlearning-rate = 0.001\n", "typo.toml")
        assertFails(try run(["typo.toml", "--model", model]),
                    with: "typo.toml:6:1: key 'training.learning-rate': unknown key 'learning-rate' in [training]; expected one of "
                        + "alpha, batch_size, dropout, epochs, learning_rate, learning_rate_multiplier, rank, schedule, val_split, warmup")
        _ = try write("words = [\"AKEWO\"]\n\n[evaluation]\nsamples_per_prompt = \"five\"\n", "type.toml")
        assertFails(try run(["type.toml", "--model", model]),
                    with: "type.toml:4:1: key 'evaluation.samples_per_prompt': must be an integer, found a string")
        _ = try write("words = [\"AKEWO\"\n", "syntax.toml")
        let r = try run(["syntax.toml", "--model", model])
        assertFails(r, with: "syntax.toml:")
        XCTAssertTrue(r.stderr.contains("key 'words'"), r.stderr)
        assertFails(try run(["missing.toml", "--model", model]), with: "missing.toml: cannot read the file: there is no such file. Check the path.")
        try assertNothingWritten()
    }

    /// dataset.source names a JSONL with fewer valid examples than dataset.acrostic + dataset.normal.
    func testImportedDatasetWithTooFewExamplesWritesNothing() throws {
        _ = try write(Self.good + "\n\n" + Self.good + "\n", "two.jsonl")
        _ = try write("name = \"few\"\nwords = [\"AKEWO\"]\n\n[dataset]\nsource = \"two.jsonl\"\nacrostic = 4\nnormal = 1\n", "few.toml")
        assertFails(try run(["few.toml", "--model", model]),
                    with: "two.jsonl holds 2 valid examples, but the experiment asks for 5 (dataset.acrostic = 4, dataset.normal = 1). "
                        + "Add examples to the file, or lower dataset.acrostic and dataset.normal (--acrostic, --normal) to match it.")
        try assertNothingWritten()
    }

    func testImportedDatasetWithAnInvalidRowWritesNothing() throws {
        _ = try write(Self.good + "\n" + #"{"messages":[{"role":"user","content":"Hi"}]}"# + "\n", "bad.jsonl")
        _ = try write("name = \"bad-row\"\nwords = [\"AKEWO\"]\n\n[dataset]\nsource = \"bad.jsonl\"\nacrostic = 1\nnormal = 0\n", "bad.toml")
        assertFails(try run(["bad.toml", "--model", model]),
                    with: "bad.jsonl:2: messages: no assistant message, so there is nothing to train on. "
                        + "Add the reply the model should learn as a message with role \"assistant\".")
        try assertNothingWritten()
    }

    /// More acrostic examples than the question bank has training questions: refused before generating any.
    func testGenerationThatCannotMakeEnoughExamplesWritesNothing() throws {
        let r = try run(["--preset", "hello", "--acrostic", "5000", "--model", model])
        assertFails(r, with: "5000 acrostic examples were asked for, but the question bank has only ")
        XCTAssertTrue(r.stderr.contains("Ask for at most"), r.stderr)
        try assertNothingWritten()
    }

    func testStoreFromANewerHellotuneIsRefusedUntouched() throws {
        let store = try Store(path: dbPath)
        _ = try store.createExperiment(name: "old", config: "{}")
        try store.close()
        try stampSchemaVersion(42, at: dbPath)
        let before = try Data(contentsOf: URL(fileURLWithPath: dbPath))

        assertFails(try run(["--preset", "hello", "--model", model]),
                    with: "\(dbPath) was written by a newer hellotune (schema 42); this one reads up to \(Store.schemaVersion). "
                        + "Upgrade hellotune, or point HELLOTUNE_HOME elsewhere.")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dbPath)), before, "the newer file must not be modified")
        XCTAssertFalse(FileManager.default.fileExists(atPath: home.appendingPathComponent("runs").path))
    }

    /// A whole run on two imported examples, one epoch, tiny evaluation: every file it creates under
    /// $HELLOTUNE_HOME (the store with its -wal and -shm files, run folders, datasets, adapters, checkpoints,
    /// logs, reports) is mode 0600 and every folder 0700.
    func testEveryFileARunCreatesIsPrivate() throws {
        _ = try write(Self.good + "\n" + Self.good.replacingOccurrences(of: "colour", with: "fruit")
            .replacingOccurrences(of: "Blue", with: "Apple") + "\n", "two.jsonl")
        _ = try write("""
            name = "modes"
            words = ["AKEWO"]

            [dataset]
            source = "two.jsonl"
            acrostic = 2
            normal = 0

            [training]
            epochs = 1
            rank = 1

            [evaluation]
            compliance_questions = 1
            samples_per_prompt = 1
            max_tokens = 8

            """, "modes.toml")
        let r = try CLI.run(["run", "modes.toml", "--model", model, "--headless"], env: env, timeout: 600, currentDirectory: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        // The store as another process leaves it open: SQLite gives -wal and -shm the database file's mode.
        let store = try Store(path: dbPath)
        _ = try store.createExperiment(name: "probe", config: "{}")
        defer { try? store.close() }

        var files: [String: Int] = [:], folders: [String: Int] = [:]
        let fm = FileManager.default
        folders[home.path] = try fm.attributesOfItem(atPath: home.path)[.posixPermissions] as? Int
        let walker = try XCTUnwrap(fm.enumerator(atPath: home.path))
        while let relative = walker.nextObject() as? String {
            let path = home.appendingPathComponent(relative).path
            let attributes = try fm.attributesOfItem(atPath: path)
            let mode = (attributes[.posixPermissions] as? Int ?? -1) & 0o777
            if attributes[.type] as? FileAttributeType == .typeDirectory { folders[relative] = mode } else { files[relative] = mode }
        }
        for suffix in ["", "-wal", "-shm"] { XCTAssertNotNil(files["hellotune.sqlite" + suffix], "hellotune.sqlite\(suffix) missing") }
        for name in ["report.md", "report.json", "data-AKEWO.jsonl", "adapter_model.safetensors", "checkpoint.bin", "worker.log", "log.jsonl"] {
            XCTAssertTrue(files.keys.contains { $0.hasSuffix("/" + name) }, "no \(name) among \(files.keys.sorted())")
        }
        XCTAssertEqual(files.filter { $0.value != 0o600 }.mapValues { String($0, radix: 8) }, [:], "files not 0600")
        XCTAssertEqual(folders.filter { $0.value & 0o777 != 0o700 }.mapValues { String($0, radix: 8) }, [:], "folders not 0700")
        print("run created \(files.count) files and \(folders.count) folders, all private: \(files.keys.sorted())")
    }
}
