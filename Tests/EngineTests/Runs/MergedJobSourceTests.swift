import Foundation
import XCTest
import Experiment
import Store
import ModelCore
import TestSupport

/// The Jobs screen's one list: the store's jobs first, then launched runs and run folders the store does not know.
final class MergedJobSourceTests: XCTestCase {
    var home: URL!
    var runs: URL { home.appendingPathComponent("runs") }

    override func setUpWithError() throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("hellotune-merged-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: home) }

    func writeRun(_ name: String) throws -> URL {
        let folder = runs.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try """
        {"event":"started","total_steps":4,"start_step":0,"examples":2,"tokens_per_epoch":100}
        {"event":"step","step":1,"total_steps":4,"epoch":1,"loss":2.5,"lr":0.001,"grad_norm":1.0,"tokens":50,"tok_s":400.5,"eta_s":3.0}

        """.write(to: folder.appendingPathComponent("log.jsonl"), atomically: true, encoding: .utf8)
        return folder
    }

    func testStoreJobsComeFirstAndHideTheirOwnRunFolder() async throws {
        // A worker started by `hellotune run` writes its run folder's log.jsonl and the store; `hellotune train` by
        // hand writes only the folder.
        let workerFolder = try writeRun("akewo-mixed-1-AKEWO-s1")
        _ = try writeRun("by-hand")
        let store = try Store(path: home.appendingPathComponent("hellotune.sqlite").path)
        defer { try? store.close() }
        let job = try store.createJob(experimentID: nil, kind: "train", backend: "local", config: "{}", outputDir: workerFolder.path)
        try store.updateJob(job.id) { $0.status = .running; $0.pid = getpid(); $0.step = 1; $0.totalSteps = 4; $0.loss = 2.5 }
        try store.appendEvents(jobID: job.id, [(kind: "step", payload: #"{"event":"step","step":1,"total_steps":4,"epoch":1,"loss":2.5,"tok_s":400,"eta_s":3}"#, externalID: nil)])
        let launched = runs.appendingPathComponent("akewo-mixed-AKEWO-seed1")
        try FileManager.default.createDirectory(at: launched, withIntermediateDirectories: true)
        try RunLaunch(pid: getpid(), arguments: ["run", "--headless"], backend: "local", directory: home.path).save(in: launched)
        try "dataset: AKEWO\n".write(to: runs.appendingPathComponent("akewo-mixed-AKEWO-seed1/run.log"), atomically: true, encoding: .utf8)

        let merged = MergedJobSource([StoreJobSource(home: home, executable: "/bin/false"),
                                      LaunchedRunsJobSource(runsDirectory: runs, executable: "/bin/false"),
                                      LocalRunsJobSource(runsDirectory: runs)])
        let jobs = try await merged.listJobs()
        XCTAssertEqual(jobs.map(\.id), ["#\(job.id)", "run:akewo-mixed-AKEWO-seed1", "by-hand"])
        XCTAssertEqual(jobs.map(\.kind), ["train", "run", "train"])
        XCTAssertEqual(jobs.map(\.status), [.running, .running, .running])

        // Events come from the source that listed the job.
        let storeEvents = try await merged.events(of: "#\(job.id)")
        XCTAssertEqual(storeEvents, [.step(step: 1, totalSteps: 4, epoch: 1, loss: 2.5, tokensPerSecond: 400, etaSeconds: 3)])
        let runEvents = try await merged.events(of: "run:akewo-mixed-AKEWO-seed1")
        XCTAssertEqual(runEvents, [.message("dataset: AKEWO")])
        let folderEvents = try await merged.events(of: "by-hand")
        XCTAssertEqual(folderEvents.count, 2)
        do {
            _ = try await merged.cancel("by-hand")
            XCTFail("a folder run without a process cannot be cancelled")
        } catch {
            XCTAssertTrue("\(error)".contains("Ctrl-C"), "\(error)")
        }
    }

    /// One row per experiment: a run started from the UI lists its experiment's training job as its detail, not as
    /// a second row with other figures; finished, it shows full progress and the adapter its training wrote.
    func testARunListsItsExperimentsJobsAsOneRow() async throws {
        let store = try Store(path: home.appendingPathComponent("hellotune.sqlite").path)
        defer { try? store.close() }
        let experiment = try store.createExperiment(name: "akewo-mixed", config: "{}")
        let trainFolder = try writeRun("akewo-mixed-\(experiment.id)-AKEWO-s1")
        try Data("x".utf8).write(to: trainFolder.appendingPathComponent(AdapterIO.peftWeightsFile))
        let train = try store.createJob(experimentID: experiment.id, kind: "train", backend: "local", config: "{}",
                                        outputDir: trainFolder.path)
        try store.updateJob(train.id) { $0.status = .succeeded; $0.step = 4; $0.totalSteps = 4; $0.loss = 1.5 }
        let other = try store.createJob(experimentID: nil, kind: "train", backend: "local", config: "{}", outputDir: nil)
        let launched = runs.appendingPathComponent("akewo-mixed-AKEWO-seed1")
        try FileManager.default.createDirectory(at: launched, withIntermediateDirectories: true)
        try RunLaunch(pid: try deadPID(), arguments: ["run", "--headless"], backend: "local", directory: home.path).save(in: launched)
        try """
        --- started: hellotune run x.toml --headless
        experiment \(experiment.id): \(runs.appendingPathComponent("akewo-mixed-\(experiment.id)").path)
        dataset: AKEWO
        train: AKEWO-s1
        run 4/4 [########################] loss 1.5000  300 tok/s
        evaluate: AKEWO-s1
        run 0/1 [........................] base
        finished in 12 s

        """.write(to: launched.appendingPathComponent(RunLaunch.logFile), atomically: true, encoding: .utf8)

        let merged = MergedJobSource([StoreJobSource(home: home, executable: "/bin/false"),
                                      LaunchedRunsJobSource(runsDirectory: runs, executable: "/bin/false"),
                                      LocalRunsJobSource(runsDirectory: runs)])
        let jobs = try await merged.listJobs()
        XCTAssertEqual(jobs.map(\.id), ["#\(other.id)", "run:akewo-mixed-AKEWO-seed1"], "the training job and its folder are not rows")
        let run = try XCTUnwrap(jobs.last)
        XCTAssertEqual(run.experimentID, experiment.id)
        XCTAssertEqual(run.parts.map(\.id), ["#\(train.id)"])
        XCTAssertEqual(run.parts.first?.loss, 1.5)
        XCTAssertEqual(run.status, .succeeded)
        XCTAssertEqual(run.progress, 1, "a finished run is all done, not an empty 0/1 bar")
        XCTAssertEqual(run.adapterPath, trainFolder.path)
        // The same poll again: the same list.
        let again = try await merged.listJobs()
        XCTAssertEqual(again, jobs)
    }

    func testAnUnreadableStoreDoesNotHideTheRunFolders() async throws {
        _ = try writeRun("by-hand")
        try Data("not a database at all, just text".utf8).write(to: home.appendingPathComponent("hellotune.sqlite"))
        let merged = MergedJobSource([StoreJobSource(home: home, executable: "/bin/false"), LocalRunsJobSource(runsDirectory: runs)])
        let jobs = try await merged.listJobs()
        XCTAssertEqual(jobs.map(\.id), ["by-hand"])
        do {
            _ = try await MergedJobSource([StoreJobSource(home: home, executable: "/bin/false")]).listJobs()
            XCTFail("with nothing else to show, the store's error is the answer")
        } catch {
            XCTAssertTrue("\(error)".contains("hellotune.sqlite"), "\(error)")
        }
    }

    /// Stopping a run's row cancels each of its jobs that has not ended, queued ones included, and leaves the
    /// finished ones alone. The store source's CLI is /bin/echo here, so each cancel answers with its own command.
    func testStoppingARunCancelsEveryJobOfItThatHasNotEnded() async throws {
        let store = try Store(path: home.appendingPathComponent("hellotune.sqlite").path)
        defer { try? store.close() }
        let experiment = try store.createExperiment(name: "akewo-mixed", config: "{}")
        let queued = try store.createJob(experimentID: experiment.id, kind: "finetune", backend: "openai", config: "{}", outputDir: nil)
        let running = try store.createJob(experimentID: experiment.id, kind: "train", backend: "local", config: "{}", outputDir: nil)
        try store.updateJob(running.id) { $0.status = .running; $0.pid = getpid() }
        let done = try store.createJob(experimentID: experiment.id, kind: "train", backend: "local", config: "{}", outputDir: nil)
        try store.updateJob(done.id) { $0.status = .succeeded }
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["30"]
        try sleeper.run()
        defer { if sleeper.isRunning { sleeper.terminate() } }
        let launched = runs.appendingPathComponent("akewo-mixed-AKEWO-seed1")
        try FileManager.default.createDirectory(at: launched, withIntermediateDirectories: true)
        try RunLaunch(pid: sleeper.processIdentifier, arguments: ["run", "--headless"], backend: "local", directory: home.path).save(in: launched)
        try "experiment \(experiment.id): \(runs.appendingPathComponent("akewo-mixed-\(experiment.id)").path)\ntrain: AKEWO-s1\n"
            .write(to: launched.appendingPathComponent(RunLaunch.logFile), atomically: true, encoding: .utf8)

        let merged = MergedJobSource([StoreJobSource(home: home, executable: "/bin/echo"),
                                      LaunchedRunsJobSource(runsDirectory: runs, executable: "/bin/false"),
                                      LocalRunsJobSource(runsDirectory: runs)])
        let jobs = try await merged.listJobs()
        let run = try XCTUnwrap(jobs.first { $0.id == "run:akewo-mixed-AKEWO-seed1" })
        XCTAssertEqual(Set(run.parts.map(\.id)), ["#\(queued.id)", "#\(running.id)", "#\(done.id)"])
        let message = try await merged.cancel(run.id)
        XCTAssertTrue(message.contains("jobs cancel \(queued.id)"), "the queued job was left to start: \(message)")
        XCTAssertTrue(message.contains("jobs cancel \(running.id)"), message)
        XCTAssertFalse(message.contains("jobs cancel \(done.id)"), "a finished job is not cancelled: \(message)")
    }
}
