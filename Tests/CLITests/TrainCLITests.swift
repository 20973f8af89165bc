import Foundation
import TUI
import XCTest
import Store
import Experiment
import Support
import ModelCore
import Training

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
        let source = CLI.trelisDataset("akewo-mixed.jsonl")
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

    /// The adapter of a run that was stopped and resumed must be the one an uninterrupted run wrote: the same
    /// tensors, every value within 1e-3 relative.
    func assertSameAdapter(_ resumed: URL, as whole: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let a = try adapterValues(whole), b = try adapterValues(resumed)
        XCTAssertEqual(a.keys.sorted(), b.keys.sorted(), file: file, line: line)
        var worst: Float = 0
        for (name, va) in a {
            let vb = b[name]!
            for i in va.indices { worst = max(worst, abs(va[i] - vb[i]) / max(1e-3, abs(va[i]))) }
        }
        XCTAssertLessThan(worst, 1e-3, "largest relative difference between the adapters", file: file, line: line)
    }

    /// The Jobs screen resumes a stopped run folder on the model it was trained on, in a session of its own as
    /// every job it starts (closing the terminal does not stop it): the job finishes, its events go on in
    /// log.jsonl, its stderr to train.err.log.
    func testJobsScreenResumesAStoppedRunInItsOwnSession() async throws {
        // A model other than the default one: resuming on the default model would fail (other LoRA shapes).
        try TinyChatModel.install(in: dir, examples: 4)
        let tiny = TinyChatModel.modelPath(in: dir)
        let data = URL(fileURLWithPath: TinyChatModel.dataPath(in: dir))
        let out = dir.appendingPathComponent("stopped")
        let r = try CLI.run(["train", "--model", tiny, "--data", data.path, "--out", out.path, "--epochs", "1",
                             "--rank", "4", "--checkpoint-every", "1", "--val-split", "0", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Checkpoint.read(from: out.appendingPathComponent(Checkpoint.fileName)).header.modelPath, tiny)
        // Stopped before its end: the checkpoint stays; the summary and the adapter are not written yet.
        for name in ["training.json", "adapter_model.safetensors", "adapter_config.json", "adapter.gguf"] {
            try? FileManager.default.removeItem(at: out.appendingPathComponent(name))
        }
        // What a run folder the Jobs screen lists holds besides: its data and its events (`train --json`'s stdout).
        try FileManager.default.copyItem(at: data, to: out.appendingPathComponent("data.jsonl"))
        try r.stdout.write(to: out.appendingPathComponent("log.jsonl"), atomically: true, encoding: .utf8)
        let eventsBefore = r.stdout.split(separator: "\n").count

        let source = LocalRunsJobSource(runsDirectory: dir, executable: CLI.binary.path)
        let message = try await source.resume("stopped")
        let pidText = try String(contentsOf: out.appendingPathComponent("pid"), encoding: .utf8)
        let pid = try XCTUnwrap(Int32(pidText))
        XCTAssertTrue(message.hasPrefix("resuming stopped from step 4 (pid \(pid))"), message)
        let session = getsid(pid)
        XCTAssertTrue(session == pid || (session == -1 && errno == ESRCH), "the resumed job leads its own session")

        let summary = out.appendingPathComponent("training.json")
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: summary.path) && Date() < deadline { try await Task.sleep(nanoseconds: 100_000_000) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("adapter_model.safetensors").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("train.err.log").path))
        // training.json is written before the last events reach log.jsonl: wait for the process to end.
        while kill(pid, 0) == 0 && Date() < deadline { try await Task.sleep(nanoseconds: 50_000_000) }
        let events = try String(contentsOf: out.appendingPathComponent("log.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertGreaterThan(events.count, eventsBefore, "the resumed job appends to log.jsonl")
        XCTAssertTrue(events.allSatisfy { JobEvent.parse(jsonLine: String($0)) != nil }, "log.jsonl holds only events")
        let listed = try await source.listJobs()
        XCTAssertEqual(listed.first { $0.id == "stopped" }?.status, .succeeded)
    }

    /// Kill a training process mid-run with SIGKILL, resume it, and get the adapter of an uninterrupted run.
    func testResumeAfterKillGivesTheSameAdapter() throws {
        let data = try smallDataset()
        let whole = dir.appendingPathComponent("whole")
        let r = try CLI.run(trainArgs(data, whole))
        XCTAssertEqual(r.status, 0, r.stderr)

        let broken = dir.appendingPathComponent("broken")
        let p = try CLI.start(trainArgs(data, broken))
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

        try assertSameAdapter(broken, as: whole)
    }

    /// A full disk while a checkpoint is written: simulated with a file size limit (RLIMIT_FSIZE, which
    /// hellotune meets with EFBIG, not a SIGXFSZ death) just below the checkpoint's size, so the very write of
    /// the checkpoint fails part way. The previous checkpoint must stay byte for byte, and resuming once
    /// there is room must give the adapter of an uninterrupted run.
    func testCheckpointWriteOnAFullDiskKeepsThePreviousCheckpoint() throws {
        let model = dir.appendingPathComponent("tiny.gguf")
        try TinyChatModel.write(to: model)
        let data = dir.appendingPathComponent("tiny.jsonl")
        try TinyChatModel.dataset(examples: 6).write(to: data, atomically: true, encoding: .utf8)
        func args(_ out: URL) -> [String] {
            ["train", "--model", model.path, "--data", data.path, "--out", out.path, "--epochs", "2", "--rank", "4",
             "--alpha", "8", "--lr", "1e-2", "--checkpoint-every", "1", "--seed", "3"]
        }
        let whole = dir.appendingPathComponent("whole")
        let r = try CLI.run(args(whole))
        XCTAssertEqual(r.status, 0, r.stderr)

        // A run stopped part way (kill -9 once a checkpoint of step 3 or later exists); the tiny model is fast,
        // so a run that finished before the kill is simply started again in a new folder.
        var broken: URL = dir
        var saved: Checkpoint?
        for attempt in 1...20 where saved == nil {
            broken = dir.appendingPathComponent("broken-\(attempt)")
            let p = try CLI.start(args(broken))
            let checkpoint = broken.appendingPathComponent(Checkpoint.fileName)
            while p.isRunning {
                if let ck = try? Checkpoint.read(from: checkpoint), ck.header.step >= 3 { break }
                usleep(200)
            }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            if p.terminationReason == .uncaughtSignal, let ck = try? Checkpoint.read(from: checkpoint), ck.header.step < 12 {
                saved = ck
            }
        }
        let previous = try XCTUnwrap(saved, "no run could be stopped part way")
        let checkpoint = broken.appendingPathComponent(Checkpoint.fileName)
        let before = try Data(contentsOf: checkpoint)

        // A run killed while it wrote its next checkpoint leaves that temporary file (nothing runs after SIGKILL);
        // it is not what this test is about, so it goes before the full-disk run.
        for name in try FileManager.default.contentsOfDirectory(atPath: broken.path) where name.contains(".tmp") {
            try FileManager.default.removeItem(at: broken.appendingPathComponent(name))
        }
        // bash's ulimit -f counts KiB: the largest whole number of KiB below the checkpoint's size.
        let limit = (before.count - 1) / 1024
        let full = try CLI.run(["-c", "ulimit -f \(limit) && exec \"$@\"", "bash", CLI.binary.path]
            + args(broken) + ["--resume"], executable: URL(fileURLWithPath: "/bin/bash"))
        XCTAssertEqual(full.status, 1, full.stderr)
        XCTAssertTrue(full.stderr.contains("training stopped at step \(previous.header.step + 1): cannot write "
            + "\(checkpoint.path): the file is too large"), full.stderr)
        XCTAssertTrue(full.stderr.contains("resume from the last saved checkpoint"), full.stderr)
        XCTAssertEqual(try Data(contentsOf: checkpoint), before, "the previous checkpoint must be left as it was")
        XCTAssertEqual(try Checkpoint.read(from: checkpoint), previous)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: broken.path).filter { $0.contains(".tmp") }
        XCTAssertEqual(leftovers, [], "the half-written temporary file must be removed")

        let resumed = try CLI.run(args(broken) + ["--resume", "--json"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("\"start_step\":\(previous.header.step)"), resumed.stdout)
        try assertSameAdapter(broken, as: whole)
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
