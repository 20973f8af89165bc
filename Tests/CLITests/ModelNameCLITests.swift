import Foundation
import XCTest
import Support
import ModelCore

/// Issue 14: models by name. `model list` says which are fetched; `--model NAME` (and an experiment file's `model`)
/// opens the fetched file, and an unknown or unfetched name says what to do.
final class ModelNameCLITests: XCTestCase {
    func testListShowsEachModelAndWhetherItIsFetched() throws {
        let home = try temporaryHome()
        var r = try CLI.run(["model", "list", "--json"], env: ["HELLOTUNE_HOME": home.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        var rows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["name"] as? String }, ["smollm2-135m", "qwen2.5-coder-1.5b"])
        XCTAssertEqual(rows.map { $0["fetched"] as? Bool }, [false, false])
        let qwen = rows[1]
        XCTAssertEqual(qwen["architecture"] as? String, "qwen2")
        XCTAssertEqual(qwen["parameters"] as? String, "1.5B")
        XCTAssertEqual(qwen["quantisation"] as? String, "Q4_K_M")
        XCTAssertEqual(qwen["size"] as? Int, 1_117_320_768)
        XCTAssertEqual(qwen["sha256"] as? String, "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046")

        // A file of the model's size under its name counts as fetched (only a verified fetch puts one there).
        let models = home.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        let file = models.appendingPathComponent(try XCTUnwrap(URL(string: qwen["path"] as! String)).lastPathComponent)
        XCTAssertTrue(FileManager.default.createFile(atPath: file.path, contents: nil))
        let h = try FileHandle(forWritingTo: file)
        try h.truncate(atOffset: 1_117_320_768)
        try h.close()
        r = try CLI.run(["model", "list", "--json"], env: ["HELLOTUNE_HOME": home.path])
        rows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["fetched"] as? Bool }, [false, true])
        XCTAssertEqual(rows[1]["path"] as? String, file.path)

        let table = try CLI.run(["model", "list"], env: ["HELLOTUNE_HOME": home.path])
        XCTAssertEqual(table.status, 0, table.stderr)
        let lines = table.stdout.split(separator: "\n")
        XCTAssertTrue(lines.first?.hasPrefix("NAME") == true, table.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("qwen2.5-coder-1.5b") && $0.contains("Q4_K_M") && $0.contains(" yes ") }, table.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("smollm2-135m") && $0.contains(" no ") }, table.stdout)
    }

    func testUnknownAndUnfetchedNamesSayWhatToDo() throws {
        let home = try temporaryHome()
        let env = ["HELLOTUNE_HOME": home.path]
        var r = try CLI.run(["chat", "--model", "qwen-nope", "--prompt", "hi"], env: env)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("unknown model 'qwen-nope'"), r.stderr)
        XCTAssertTrue(r.stderr.contains("qwen2.5-coder-1.5b"), "the message lists the known names: \(r.stderr)")

        r = try CLI.run(["chat", "--model", "qwen2.5-coder-1.5b", "--prompt", "hi"], env: env)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("run `hellotune model fetch qwen2.5-coder-1.5b`"), r.stderr)

        r = try CLI.run(["model", "fetch", "qwen-nope"], env: env)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("unknown model 'qwen-nope'"), r.stderr)

        // An experiment file's model is a name too; the message names the file.
        let file = home.appendingPathComponent("exp.toml")
        try "name = \"x\"\nwords = [\"AKEWO\"]\nmodel = \"qwen-nope\"\n".write(to: file, atomically: true, encoding: .utf8)
        r = try CLI.run(["run", file.path, "--headless"], env: env)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("\(file.path): model: unknown model 'qwen-nope'"), r.stderr)
        try "name = \"x\"\nwords = [\"AKEWO\"]\nmodel = \"qwen2.5-coder-1.5b\"\n".write(to: file, atomically: true, encoding: .utf8)
        r = try CLI.run(["run", file.path, "--headless"], env: env)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("run `hellotune model fetch qwen2.5-coder-1.5b`"), r.stderr)
    }

    /// `--model smollm2-135m` opens the same file as its path (skipped when the default model is not fetched).
    func testANameOpensItsFetchedFile() throws {
        let path = Paths.defaultModel.path
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("the default model is not fetched") }
        let byName = try CLI.run(["model", "info", "--model", "smollm2-135m", "--json"])
        XCTAssertEqual(byName.status, 0, byName.stderr)
        let info = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(byName.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(info["path"] as? String, path)
    }

    /// The 1.5B model by name answers a simple question greedily (skipped when it is not fetched: tests never
    /// download it).
    func testQwenByNameAnswers() throws {
        guard let qwen = ModelCatalogue.named("qwen2.5-coder-1.5b"), qwen.isFetched else {
            throw XCTSkip("qwen2.5-coder-1.5b is not fetched (run `hellotune model fetch qwen2.5-coder-1.5b`)")
        }
        let r = try CLI.run(["chat", "--model", "qwen2.5-coder-1.5b", "--prompt", "What is the capital of France? Answer in one word.",
                             "--max-tokens", "8"], timeout: 900)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("Paris"), r.stdout)
    }
}
