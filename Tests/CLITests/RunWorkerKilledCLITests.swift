import Foundation
import XCTest
import Store

/// `hellotune run` whose training worker is killed with SIGKILL the moment it appears, before it claims its job
/// (it then leaves the job queued and records nothing): the run notices that its worker is gone, marks the job
/// interrupted, names the job and the worker's log and exits non-zero, instead of waiting forever; running the
/// same command again trains and finishes.
final class RunWorkerKilledCLITests: XCTestCase {
    var home: URL!
    var env: [String: String] { ["HELLOTUNE_HOME": home.path] }

    override func setUpWithError() throws {
        home = try CLI.temporaryDirectory()
        try TinyChatModel.install(in: home, examples: 4)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: home) }

    func experimentFile(name: String) throws -> URL {
        try TinyChatModel.experiment(name: name, in: home, acrostic: 2, normal: 2, complianceQuestions: 1,
                                     samplesPerPrompt: 1, maxTokens: 8)
    }

    func testAWorkerKilledBeforeItClaimsItsJobEndsTheRun() throws {
        let store = try Store(path: home.appendingPathComponent("hellotune.sqlite").path)
        var beforeClaim = 0
        var files: [URL] = []
        for trial in 1...3 {
            let file = try experimentFile(name: "gone-\(trial)")
            files.append(file)
            let log = home.appendingPathComponent("gone-\(trial).out")
            let run = try CLI.start(["run", file.path, "--headless"], env: env, log: log)

            var worker: Int32?
            let deadline = Date().addingTimeInterval(120)
            while worker == nil, run.isRunning, Date() < deadline {
                worker = WorkerProcesses.pids(home: home).first
            }
            let killed = try XCTUnwrap(worker, "trial \(trial): no worker appeared")
            kill(killed, SIGKILL)

            // The run must end by itself; one still waiting long after is stopped, and the test fails.
            while run.isRunning, Date() < deadline { usleep(10_000) }
            let hung = run.isRunning
            if hung {
                run.terminate()
                run.waitUntilExit()
            }
            let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            XCTAssertFalse(hung, "trial \(trial): the run still waited for its killed worker (pid \(killed)): \(output)")
            if hung { return }
            XCTAssertEqual(run.terminationReason, .exit, "trial \(trial): \(output)")
            XCTAssertNotEqual(run.terminationStatus, 0, "trial \(trial): \(output)")

            let experiment = try XCTUnwrap(store.experiments().first { $0.name == "gone-\(trial)" })
            let job = try XCTUnwrap(store.jobs(experimentID: experiment.id).first { $0.kind == "train" })
            XCTAssertEqual(job.status, .interrupted, "trial \(trial): \(output)")
            let workerLog = try XCTUnwrap(job.outputDir) + "/worker.log"
            XCTAssertTrue(output.contains("training job \(job.id) ended interrupted"), "trial \(trial): \(output)")
            XCTAssertTrue(output.contains(workerLog), "trial \(trial): the message names the worker's log: \(output)")
            // A kill that came after the claim is the other case (the worker's recorded pid is dead); count the
            // ones this test is about.
            if job.error?.contains("before it started the job") == true { beforeClaim += 1 }
        }
        print("run with its worker killed at once: \(beforeClaim)/3 kills landed before the worker claimed its job; "
            + "every run ended non-zero with the job interrupted")
        XCTAssertGreaterThan(beforeClaim, 0, "no kill landed before the worker claimed its job")

        let rerun = try CLI.run(["run", files[0].path, "--headless", "--json"], env: env)
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        let experiment = try XCTUnwrap(store.experiments().first { $0.name == "gone-1" })
        XCTAssertEqual(experiment.status, "finished")
        XCTAssertEqual(try store.jobs(experimentID: experiment.id).filter { $0.kind == "train" }.map(\.status), [.succeeded])
    }
}
