import Foundation
import XCTest
import Store

/// `hellotune run` stopped during training leaves its worker going (it has a session of its own). Running the same
/// command again must follow that worker, not start a second one training into the same checkpoint; and a worker
/// started by hand on a job that a live worker runs refuses, leaving the job as it is.
final class RunFollowsWorkerCLITests: XCTestCase {
    var home: URL!
    var env: [String: String] { ["HELLOTUNE_HOME": home.path] }
    var paused: Int32?

    override func setUpWithError() throws {
        home = try CLI.temporaryDirectory()
        try TinyChatModel.install(in: home, examples: 4)
    }

    override func tearDownWithError() throws {
        if let paused {
            kill(paused, SIGCONT)
            kill(paused, SIGKILL)
        }
        try? FileManager.default.removeItem(at: home)
    }

    func testARerunFollowsTheLiveWorkerOfItsJob() throws {
        // Enough epochs that the worker is still training when it is found; it is then paused (SIGSTOP), so the
        // rest of the test does not depend on how fast this machine trains.
        let file = try TinyChatModel.experiment(name: "follow", in: home, acrostic: 2, normal: 2, complianceQuestions: 1,
                                                samplesPerPrompt: 1, maxTokens: 8, epochs: 400)
        let store = try Store(path: home.appendingPathComponent("hellotune.sqlite").path)
        let first = try CLI.start(["run", file.path, "--headless"], env: env, log: home.appendingPathComponent("first.out"))
        var claimed: JobRecord?
        let deadline = Date().addingTimeInterval(120)
        while claimed == nil, first.isRunning, Date() < deadline {
            claimed = try store.jobs().first { $0.kind == "train" && $0.status == .running && $0.pid != nil }
            if claimed == nil { usleep(2_000) }
        }
        let job = try XCTUnwrap(claimed, "no worker claimed the training job")
        let worker = try XCTUnwrap(job.pid)
        kill(worker, SIGSTOP)
        paused = worker
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        XCTAssertEqual(WorkerProcesses.pids(home: home), [worker], "the worker outlives its run")

        // A worker started by hand on the job refuses and changes nothing.
        let before = try XCTUnwrap(store.job(job.id))
        let second = try CLI.run(["worker", "--job", String(job.id)], env: env)
        XCTAssertNotEqual(second.status, 0)
        XCTAssertTrue(second.stderr.contains("training job \(job.id) is already running in worker pid \(worker)"), second.stderr)
        XCTAssertEqual(try store.job(job.id), before)

        // The same command again follows the paused worker and starts none of its own.
        let out = home.appendingPathComponent("rerun.out")
        let rerun = try CLI.start(["run", file.path, "--headless"], env: env, log: out)
        defer { if rerun.isRunning { rerun.terminate() } }
        var output = ""
        while !output.contains("following it"), rerun.isRunning, Date() < deadline {
            usleep(20_000)
            output = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        }
        XCTAssertTrue(output.contains("training job \(job.id) is already running in worker pid \(worker); following it"), output)
        usleep(500_000)
        XCTAssertEqual(WorkerProcesses.pids(home: home), [worker], "the rerun started a second worker")

        kill(worker, SIGCONT)
        paused = nil
        while rerun.isRunning, Date() < deadline.addingTimeInterval(120) { usleep(20_000) }
        output = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        XCTAssertFalse(rerun.isRunning, "the rerun did not finish: \(output)")
        XCTAssertEqual(rerun.terminationStatus, 0, output)
        let experiment = try XCTUnwrap(store.experiments().first { $0.name == "follow" })
        XCTAssertEqual(experiment.status, "finished")
        let jobs = try store.jobs(experimentID: experiment.id).filter { $0.kind == "train" }
        XCTAssertEqual(jobs.map(\.id), [job.id])
        XCTAssertEqual(jobs.map(\.status), [.succeeded])
    }
}
