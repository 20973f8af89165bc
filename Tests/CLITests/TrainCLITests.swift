import Engine
import Foundation
import XCTest

/// `hellotune train` as a user runs it: resumable after kill -9, clear errors on bad input.
final class TrainCLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try CLI.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    var model: String {
        ProcessInfo.processInfo.environment["HELLOTUNE_MODEL"] ?? Paths.defaultModel.path
    }

    /// Four short conversations from the real Trelis data.
    func smallDataset() throws -> URL {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/datasets/trelis-hello/akewo-mixed.jsonl")
        let lines = try String(contentsOf: source, encoding: .utf8).split(separator: "\n").prefix(4)
        let url = dir.appendingPathComponent("small.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func trainArgs(_ data: URL, _ out: URL) -> [String] {
        ["train", "--model", model, "--data", data.path, "--out", out.path, "--epochs", "3", "--checkpoint-every", "1",
         "--seed", "3", "--json"]
    }

    func adapterValues(_ dir: URL) throws -> [String: [Float]] {
        let f = try SafetensorsFile(path: dir.appendingPathComponent("adapter_model.safetensors").path)
        var out: [String: [Float]] = [:]
        for name in f.tensorNames { out[name] = try f.floats(name) }
        return out
    }

    /// Kill a training process mid-run with SIGKILL, resume it, and get the adapter of an uninterrupted run.
    func testResumeAfterKillGivesTheSameAdapter() throws {
        let data = try smallDataset()
        let whole = dir.appendingPathComponent("whole")
        let r = try CLI.run(trainArgs(data, whole))
        XCTAssertEqual(r.status, 0, r.stderr)

        let broken = dir.appendingPathComponent("broken")
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = trainArgs(data, broken)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        // wait for the checkpoint of step 5 (of 12), then kill without warning
        let deadline = Date().addingTimeInterval(240)
        while Date() < deadline {
            if let ck = try? Checkpoint.read(from: broken.appendingPathComponent(Checkpoint.fileName)), ck.header.step >= 5 { break }
            usleep(20_000)
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal)
        XCTAssertFalse(FileManager.default.fileExists(atPath: broken.appendingPathComponent("adapter_model.safetensors").path))
        let stoppedAt = try Checkpoint.read(from: broken.appendingPathComponent(Checkpoint.fileName)).header.step
        XCTAssertLessThan(stoppedAt, 12)

        let resumed = try CLI.run(trainArgs(data, broken) + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("\"start_step\":\(stoppedAt)"), resumed.stdout)

        let a = try adapterValues(whole), b = try adapterValues(broken)
        XCTAssertEqual(a.keys.sorted(), b.keys.sorted())
        var worst: Float = 0
        for (name, va) in a {
            let vb = b[name]!
            for i in va.indices { worst = max(worst, abs(va[i] - vb[i]) / max(1e-3, abs(va[i]))) }
        }
        XCTAssertLessThan(worst, 1e-3, "largest relative difference between the adapters")
    }

    func testResumeWithOtherOptionsIsRefused() throws {
        let data = try smallDataset()
        let out = dir.appendingPathComponent("run")
        XCTAssertEqual(try CLI.run(trainArgs(data, out) + ["--epochs", "1"]).status, 0)
        let r = try CLI.run(trainArgs(data, out) + ["--lr", "5e-4", "--resume"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("options differ"), r.stderr)
    }

    func assertTrainFails(data contents: String, mentions needles: [String], extra: [String] = [],
                          file: StaticString = #filePath, line: UInt = #line) throws {
        let data = dir.appendingPathComponent("data.jsonl")
        try contents.write(to: data, atomically: true, encoding: .utf8)
        let r = try CLI.run(["train", "--model", model, "--data", data.path, "--out", dir.appendingPathComponent("o").path] + extra)
        XCTAssertNotEqual(r.status, 0, file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr, file: file, line: line)
        for n in needles { XCTAssertTrue(r.stderr.contains(n), "stderr lacks '\(n)': \(r.stderr)", file: file, line: line) }
    }

    func testBadTrainingInputs() throws {
        let ok = #"{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}"#
        try assertTrainFails(data: "", mentions: ["data.jsonl"])
        try assertTrainFails(data: ok + "\n{\"messages\": [}\n", mentions: ["data.jsonl:2"])
        try assertTrainFails(data: #"{"messages": [{"role": "user", "content": "Hi"}]}"# + "\n", mentions: ["data.jsonl:1", "assistant"])
        try assertTrainFails(data: #"{"messages": [{"role": "bot", "content": "Hi"}, {"role": "assistant", "content": "x"}]}"# + "\n",
                             mentions: ["data.jsonl:1", "messages[0].role", "bot"])
        try assertTrainFails(data: ok + "\n", mentions: ["data.jsonl:1", "context"], extra: ["--context", "8"])
        try assertTrainFails(data: ok + "\n", mentions: ["--targets", "attn"], extra: ["--targets", "q,attn"])
        try assertTrainFails(data: ok + "\n", mentions: ["--rank"], extra: ["--rank", "0"])
    }

    func testNonWritableOutputFolder() throws {
        let data = try smallDataset()
        let blocker = dir.appendingPathComponent("file")
        try Data("x".utf8).write(to: blocker)
        let r = try CLI.run(["train", "--model", model, "--data", data.path, "--out", blocker.appendingPathComponent("out").path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains(blocker.appendingPathComponent("out").path), r.stderr)
    }
}
