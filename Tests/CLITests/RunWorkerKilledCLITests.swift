import Engine
import Foundation
import XCTest

/// `hellotune run` whose training worker is killed with SIGKILL the moment it appears, before it claims its job
/// (it then leaves the job queued and records nothing): the run notices that its worker is gone, marks the job
/// interrupted, names the job and the worker's log and exits non-zero, instead of waiting forever; running the
/// same command again trains and finishes.
final class RunWorkerKilledCLITests: XCTestCase {
    var home: URL!
    var env: [String: String] { ["HELLOTUNE_HOME": home.path] }
    var modelPath: String { home.appendingPathComponent("tiny.gguf").path }
    var dataPath: String { home.appendingPathComponent("data.jsonl").path }

    override func setUpWithError() throws {
        home = try CLI.temporaryDirectory()
        try TinyChatModel.write(to: URL(fileURLWithPath: modelPath))
        try TinyChatModel.dataset(examples: 4).write(toFile: dataPath, atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: home) }

    func experimentFile(name: String) throws -> URL {
        let url = home.appendingPathComponent("\(name).toml")
        try """
            name = "\(name)"
            model = "\(modelPath)"
            words = ["AKEWO"]

            [dataset]
            source = "\(dataPath)"
            acrostic = 2
            normal = 2

            [training]
            epochs = 1
            rank = 4

            [evaluation]
            compliance_questions = 1
            samples_per_prompt = 1
            max_tokens = 8
            """.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// The pid of a `hellotune worker` process of this test's home, if one runs: found through /proc, since the
    /// run records nothing about it before the worker itself does.
    func workerPID() -> Int32? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        let homeVariable = Data("HELLOTUNE_HOME=\(home.path)\0".utf8)
        for entry in entries {
            guard let pid = Int32(entry),
                  let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { continue }
            let argv = cmdline.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            guard argv.count >= 3, argv[1] == "worker", argv[2] == "--job",
                  let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ"),
                  environ.range(of: homeVariable) != nil else { continue }
            return pid
        }
        return nil
    }

    func testAWorkerKilledBeforeItClaimsItsJobEndsTheRun() throws {
        let store = try Store(path: home.appendingPathComponent("hellotune.sqlite").path)
        var beforeClaim = 0
        var files: [URL] = []
        for trial in 1...3 {
            let file = try experimentFile(name: "gone-\(trial)")
            files.append(file)
            let log = home.appendingPathComponent("gone-\(trial).out")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let run = Process()
            run.executableURL = CLI.binary
            run.arguments = ["run", file.path, "--headless"]
            run.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
            run.standardOutput = try FileHandle(forWritingTo: log)
            run.standardError = run.standardOutput
            try run.run()

            var worker: Int32?
            let deadline = Date().addingTimeInterval(120)
            while worker == nil, run.isRunning, Date() < deadline {
                worker = workerPID()
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
