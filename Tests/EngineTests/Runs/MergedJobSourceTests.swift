import Foundation
import XCTest
import Experiment
import Store
import Store

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
}
