import Foundation
import TUI
import XCTest
import Training
import Store
import Backends
import Experiment

/// The Jobs screen's cancel and resume of store jobs run the real `hellotune` against the store of the
/// HELLOTUNE_HOME the source was made for.
final class StoreJobSourceCLITests: XCTestCase {
    var home: URL!
    var dbPath: String { home.appendingPathComponent("hellotune.sqlite").path }

    override func setUpWithError() throws { home = try CLI.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: home) }

    func source() -> StoreJobSource { StoreJobSource(home: home, executable: CLI.binary.path) }

    func testCancelRunsJobsCancelAndStopsTheWorker() async throws {
        let worker = Process()
        worker.executableURL = URL(fileURLWithPath: "/bin/sleep")
        worker.arguments = ["60"]
        // This test runs on a thread that blocks signals, which a child inherits.
        try DetachedProcess.withSignalsUnblocked { try worker.run() }
        defer { if worker.isRunning { worker.terminate() } }
        let store = try Store(path: dbPath)
        defer { try? store.close() }
        let job = try store.createJob(experimentID: nil, kind: "train", backend: "local", config: "{}", outputDir: nil)
        try store.updateJob(job.id) { $0.status = .running; $0.pid = worker.processIdentifier }

        let message = try await source().cancel("#\(job.id)")
        XCTAssertEqual(message, "job \(job.id): sent SIGTERM to its worker (pid \(worker.processIdentifier)); marked cancelled")
        worker.waitUntilExit()
        XCTAssertEqual(worker.terminationStatus, SIGTERM)
        XCTAssertEqual(try store.job(job.id)?.status, .cancelled)
        let listed = try await source().listJobs()
        XCTAssertEqual(listed.map(\.status), [.cancelled])

        // The CLI's refusal comes back as the error, without its "Error: " prefix.
        do {
            _ = try await source().cancel("#999")
            XCTFail("no job 999")
        } catch {
            XCTAssertEqual("\(error)", "no job 999 (see `hellotune jobs list`)")
        }
    }

    /// Resume starts `hellotune worker --job N` detached on this store: here the job's model is missing, so the
    /// worker records that it failed and why, in the store and in the job folder's worker.log.
    func testResumeStartsTheJobsWorkerOnThisStore() async throws {
        let folder = home.appendingPathComponent("runs/exp-1-AKEWO-s1")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let missing = home.appendingPathComponent("no-such-model.gguf").path
        let spec = TrainingJobSpec(model: missing, data: folder.appendingPathComponent("data.jsonl").path,
                                   outputDirectory: folder.path, options: TrainingOptions())
        let store = try Store(path: dbPath)
        defer { try? store.close() }
        let job = try store.createJob(experimentID: nil, kind: "train", backend: "local", config: try spec.json(), outputDir: folder.path)
        try store.updateJob(job.id) { $0.status = .interrupted }

        let message = try await source().resume("#\(job.id)")
        XCTAssertTrue(message.hasPrefix("resuming job \(job.id) from the start (no checkpoint) in a detached worker (pid "), message)
        let deadline = Date().addingTimeInterval(60)
        while try store.job(job.id)?.status != .failed, Date() < deadline { try await Task.sleep(nanoseconds: 50_000_000) }
        let after = try XCTUnwrap(try store.job(job.id))
        XCTAssertEqual(after.status, .failed)
        XCTAssertTrue(after.error?.contains(missing) == true, after.error ?? "")
        // The worker records the failure in the store before it prints the error and exits.
        let logURL = folder.appendingPathComponent("worker.log")
        var log = ""
        while Date() < deadline {
            log = try String(contentsOf: logURL, encoding: .utf8)
            if log.contains(missing) { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        XCTAssertTrue(log.contains(missing), log)
    }
}
