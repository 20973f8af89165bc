import Foundation
import TestSupport
import XCTest
import Experiment
import Store
import Support

/// `hellotune run` processes started from the UI, followed through their run.log and launch.json, with real
/// child processes standing in for the run.
final class LaunchedRunsJobSourceTests: XCTestCase {
    var runs: URL!

    override func setUpWithError() throws {
        runs = FileManager.default.temporaryDirectory.appendingPathComponent("hellotune-launched-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: runs, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: runs) }

    /// What `hellotune run --headless` writes to run.log (stderr: stage notes and progress lines; stdout: the report).
    static let log = """
    dataset: AKEWO
    run 0/4 [........................] generating examples for AKEWO
    run 2/4 [############............] generating examples for AKEWO
    run 4/4 [########################] generating examples for AKEWO
    train: AKEWO-s1
    run 1/4 [######..................] loss 2.5000  240 tok/s
    run 2/4 [############............] loss 2.0000  250 tok/s

    """

    static let finishedLog = log + """
    evaluate: AKEWO-s1
    run 12/12 [########################] sampling base and fine-tuned replies
    report: akewo-mixed
    run 0/1 [........................] writing the report
    finished in 61 s
    /tmp/home/runs/akewo-mixed-1/report.md

    """

    @discardableResult
    func write(_ name: String, log: String, pid: Int32, backend: String = "local") throws -> URL {
        let folder = runs.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try log.write(to: folder.appendingPathComponent(RunLaunch.logFile), atomically: true, encoding: .utf8)
        try RunLaunch(pid: pid, arguments: ["run", "--preset", "akewo-mixed", "--headless"], backend: backend,
                      directory: runs.path).save(in: folder)
        return folder
    }

    func wait(until condition: () -> Bool, seconds: Double = 10) {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition(), Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    }

    func testReadsTheStageProgressAndLossOfARunLog() {
        let log = RunLog(text: Self.log)
        XCTAssertEqual(log.stage, "train")
        XCTAssertEqual(log.target, "AKEWO-s1")
        XCTAssertEqual(log.done, 2)
        XCTAssertEqual(log.total, 4)
        XCTAssertEqual(log.loss, 2.0)
        XCTAssertEqual(log.tokensPerSecond, 250)
        XCTAssertFalse(log.finished)
        XCTAssertNil(log.error)
        XCTAssertEqual(log.events.filter { if case .step = $0 { return true }; return false },
                       [.step(step: 1, totalSteps: 4, epoch: 0, loss: 2.5, tokensPerSecond: 240, etaSeconds: 0),
                        .step(step: 2, totalSteps: 4, epoch: 0, loss: 2.0, tokensPerSecond: 250, etaSeconds: 0)])
        XCTAssertEqual(log.events.first, .message("dataset: AKEWO"))

        let done = RunLog(text: Self.finishedLog)
        XCTAssertTrue(done.finished)
        XCTAssertEqual(done.stage, "report")

        let failed = RunLog(text: "dataset: AKEWO\nError: the default model is not fetched yet: run `hellotune model fetch`\n")
        XCTAssertEqual(failed.error, "the default model is not fetched yet: run `hellotune model fetch`")
        XCTAssertFalse(failed.interrupted)

        // Ctrl-C (or x): stopped, whatever error the interrupted run then reports.
        let stopped = RunLog(text: Self.log + "stopping: training goes on in its worker; run the same command again to continue\nError: cancelled\n")
        XCTAssertTrue(stopped.interrupted)

        // A restart appends to the log: the outcome is the restart's, the earlier events stay.
        let restarted = RunLog(text: Self.finishedLog.replacingOccurrences(of: "finished in 61 s", with: "Error: disk full")
            + "--- started: hellotune run --preset akewo-mixed --headless\ntrain: AKEWO-s1\n")
        XCTAssertNil(restarted.error)
        XCTAssertFalse(restarted.finished)
        XCTAssertEqual(restarted.stage, "train")
        XCTAssertEqual(restarted.events.suffix(2), [.message("--- started: hellotune run --preset akewo-mixed --headless"),
                                                    .message("train: AKEWO-s1")])
    }

    func testListsRunsByWhetherTheirProcessLives() async throws {
        let dead = try deadPID()
        try write("live", log: Self.log, pid: getpid())
        try write("done", log: Self.finishedLog, pid: dead)
        try write("broken", log: "Error: --acrostic must be >= 0\n", pid: dead, backend: "openai")
        try write("gone", log: Self.log, pid: dead)
        try write("halted", log: Self.log + "stopping: training goes on in its worker; run the same command again to continue\nError: cancelled\n", pid: dead)
        // A folder with a run.log but no launch.json is not a launched run.
        try FileManager.default.createDirectory(at: runs.appendingPathComponent("other"), withIntermediateDirectories: true)
        try "x".write(to: runs.appendingPathComponent("other/run.log"), atomically: true, encoding: .utf8)

        let source = LaunchedRunsJobSource(runsDirectory: runs, executable: "/bin/true")
        let jobs = try await source.listJobs()
        XCTAssertEqual(jobs.map(\.id), ["run:broken", "run:done", "run:gone", "run:halted", "run:live"])
        XCTAssertEqual(jobs.map(\.status), [.failed, .succeeded, .interrupted, .interrupted, .running])
        XCTAssertEqual(jobs.map(\.kind), ["run", "run", "run", "run", "run"])
        XCTAssertEqual(jobs.map(\.backend), ["openai", "local", "local", "local", "local"])
        XCTAssertEqual(jobs[0].note, "--acrostic must be >= 0")
        // Its log's last line counted 0/1 (writing the report): a finished run shows a full bar all the same.
        XCTAssertEqual([jobs[1].step, jobs[1].totalSteps], [1, 1])
        XCTAssertEqual(jobs[2].note, "stopped at train AKEWO-s1; r runs it again and it continues where it stopped")
        let live = jobs[4]
        XCTAssertEqual(live.name, "live")
        XCTAssertEqual(live.step, 2)
        XCTAssertEqual(live.totalSteps, 4)
        XCTAssertEqual(live.loss, 2.0)
        XCTAssertEqual(live.note, "train AKEWO-s1: loss 2.0000  250 tok/s (pid \(getpid()))")
        // Stage notes and training progress (the loss chart); other progress lines are left out.
        let events = try await source.events(of: "run:live")
        XCTAssertEqual(events.count, 4)
        do {
            _ = try await source.resume("run:live")
            XCTFail("a running run does not start twice")
        } catch {
            XCTAssertTrue("\(error)".contains("still running"), "\(error)")
        }
        do {
            _ = try await source.resume("run:done")
            XCTFail("a finished run has nothing to resume")
        } catch {
            XCTAssertTrue("\(error)".contains("has finished"), "\(error)")
        }
    }

    /// A real detached process stands in for `hellotune run`: it is listed running, x stops it with SIGINT, and r
    /// starts the recorded command again in the recorded folder, appending to the same log.
    func testCancelStopsTheProcessAndResumeStartsItAgain() async throws {
        let folder = runs.appendingPathComponent("sleepy")
        let launch = try RunLaunch.start("/bin/sleep", arguments: ["30"], backend: "local", folder: folder)
        XCTAssertEqual(RunLaunch.load(from: folder), launch)
        XCTAssertTrue(ProcessLiveness.isAlive(launch.pid))
        XCTAssertEqual(getpgid(launch.pid), launch.pid, "the run leads its own process group: Ctrl-C and hangups do not reach it")

        let source = LaunchedRunsJobSource(runsDirectory: runs, executable: "/bin/echo")
        var jobs = try await source.listJobs()
        XCTAssertEqual(jobs.map(\.status), [.running])
        XCTAssertEqual(jobs.first?.note, "starting (pid \(launch.pid))")

        let message = try await source.cancel("run:sleepy")
        XCTAssertTrue(message.contains("asked sleepy (pid \(launch.pid)) to stop"), message)
        wait { !ProcessLiveness.isAlive(launch.pid) }
        XCTAssertFalse(ProcessLiveness.isAlive(launch.pid), "SIGINT ends it and it is reaped")
        jobs = try await source.listJobs()
        XCTAssertEqual(jobs.map(\.status), [.interrupted])

        // Resume runs `executable arguments` (here echo, so the log shows what ran) with --fresh dropped.
        var recorded = try XCTUnwrap(RunLaunch.load(from: folder))
        recorded.arguments = ["run", "--fresh", "exp.toml", "--headless"]
        try recorded.save(in: folder)
        let resumed = try await source.resume("run:sleepy")
        XCTAssertTrue(resumed.contains("running sleepy again"), resumed)
        let again = try XCTUnwrap(RunLaunch.load(from: folder))
        XCTAssertNotEqual(again.pid, launch.pid)
        XCTAssertEqual(again.arguments, ["run", "exp.toml", "--headless"])
        let logURL = folder.appendingPathComponent(RunLaunch.logFile)
        wait { (try? String(contentsOf: logURL, encoding: .utf8))?.hasSuffix("\nrun exp.toml --headless\n") == true }
        XCTAssertEqual(try String(contentsOf: logURL, encoding: .utf8),
                       "--- started: hellotune 30\n--- started: hellotune run exp.toml --headless\nrun exp.toml --headless\n",
                       "each start is marked; a restart appends")
        let mode = try FileManager.default.attributesOfItem(atPath: logURL.path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
    }
}
