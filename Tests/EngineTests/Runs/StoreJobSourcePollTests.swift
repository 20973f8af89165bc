import Foundation
import XCTest
import Experiment
import Store
import TestSupport

/// The Jobs screen polls the store every couple of seconds: a poll reads no job row while nothing was committed, and
/// only the rows that changed when something was (100,000 jobs read on every poll kept a core busy).
final class StoreJobSourcePollTests: XCTestCase {
    var home: URL!
    var store: Store!

    override func setUpWithError() throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("hellotune-poll-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        store = try Store(path: home.appendingPathComponent("hellotune.sqlite").path)
    }

    override func tearDownWithError() throws {
        try? store.close()
        try? FileManager.default.removeItem(at: home)
    }

    func testAnIdlePollReadsNoRowAndAChangeReadsOnlyItsRows() async throws {
        for i in 0..<300 {
            try store.createJob(experimentID: nil, kind: i % 2 == 0 ? "train" : "evaluate", backend: "local", config: "{}", outputDir: nil)
        }
        let source = StoreJobSource(home: home, executable: "/bin/false")
        let first = try await source.listJobs()
        XCTAssertEqual(first.count, 300)
        XCTAssertEqual(first.first?.id, "#300", "newest first")
        XCTAssertEqual(source.rowsReadByLastList, 300)

        let idle = try await source.listJobs()
        XCTAssertEqual(idle, first)
        XCTAssertEqual(source.rowsReadByLastList, 0, "nothing was committed: no row is read")

        try store.updateJob(5) { $0.status = .succeeded; $0.step = 8; $0.totalSteps = 8; $0.loss = 0.25 }
        let changed = try await source.listJobs()
        XCTAssertEqual(source.rowsReadByLastList, 1)
        XCTAssertEqual(changed.count, 300)
        let five = try XCTUnwrap(changed.first { $0.id == "#5" })
        XCTAssertEqual(five.status, .succeeded)
        XCTAssertEqual(five.loss, 0.25)
        XCTAssertEqual(changed.firstIndex { $0.id == "#5" }, first.firstIndex { $0.id == "#5" }, "a changed job keeps its place")

        let added = try store.createJob(experimentID: nil, kind: "train", backend: "openai", config: "{}", outputDir: nil)
        var now = try await source.listJobs()
        XCTAssertEqual(source.rowsReadByLastList, 1)
        XCTAssertEqual(now.first?.id, "#\(added.id)", "a new job goes on top")
        XCTAssertEqual(now.count, 301)

        // An OpenAI job's progress comes in as events, which change no job row.
        try store.appendEvents(jobID: added.id, [(kind: "metrics", payload: #"{"data":{"step":2,"total_steps":6,"train_loss":1.5}}"#,
                                                  externalID: "ftevent-1")])
        now = try await source.listJobs()
        XCTAssertEqual(source.rowsReadByLastList, 1)
        XCTAssertEqual(now.first?.step, 2)
        XCTAssertEqual(now.first?.totalSteps, 6)
        XCTAssertEqual(now.first?.loss, 1.5)
    }

    /// The poll tells a changed job by its change time: two writes in one millisecond must not share it, or the
    /// second is never read (a job that finished right after a progress write stayed "running").
    func testEveryWriteOfAJobIsSeenByTheNextPoll() async throws {
        let job = try store.createJob(experimentID: nil, kind: "train", backend: "local", config: "{}", outputDir: nil)
        let source = StoreJobSource(home: home, executable: "/bin/false")
        var previous = try XCTUnwrap(try store.job(job.id)).updatedAt
        for step in 1...200 {
            let written = try store.updateJob(job.id) { $0.step = step; $0.totalSteps = 200 }
            XCTAssertGreaterThan(written.updatedAt, previous, "write \(step) has the change time of the one before")
            previous = written.updatedAt
            let listed = try await source.listJobs()
            XCTAssertEqual(listed.first?.step, step, "write \(step) was missed by the poll")
        }
    }

    /// A worker that dies writes nothing: its job turns interrupted at the next poll all the same, without a row read.
    func testAWorkerThatDiesShowsAsInterruptedWithoutAWrite() async throws {
        let worker = Process()
        worker.executableURL = URL(fileURLWithPath: "/bin/sleep")
        worker.arguments = ["60"]
        try worker.run()
        // SIGKILL: the test process may hand its children an ignored SIGTERM.
        defer { if worker.isRunning { kill(worker.processIdentifier, SIGKILL) } }
        let job = try store.createJob(experimentID: nil, kind: "train", backend: "local", config: "{}", outputDir: nil)
        try store.updateJob(job.id) { $0.status = .running; $0.pid = worker.processIdentifier; $0.step = 1; $0.totalSteps = 4 }
        let source = StoreJobSource(home: home, executable: "/bin/false")
        var jobs = try await source.listJobs()
        XCTAssertEqual(jobs.map(\.status), [.running])
        kill(worker.processIdentifier, SIGKILL)
        worker.waitUntilExit()
        jobs = try await source.listJobs()
        XCTAssertEqual(source.rowsReadByLastList, 0)
        XCTAssertEqual(jobs.map(\.status), [.interrupted])
        XCTAssertTrue(jobs.first?.note?.contains("its worker (pid \(worker.processIdentifier)) is gone") ?? false, "\(jobs)")
    }
}
