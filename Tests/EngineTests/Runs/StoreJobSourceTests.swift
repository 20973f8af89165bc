import Foundation
import TestSupport
import XCTest
import Experiment
import Store
import ModelCore
import Store

/// The Jobs screen's view of a real store in a temporary HELLOTUNE_HOME, seeded through the Store API the way
/// `hellotune run`'s workers (and the OpenAI backend) write it. Cancel and resume run the CLI: CLITests cover them.
final class StoreJobSourceTests: XCTestCase {
    var home: URL!
    var dbPath: String { home.appendingPathComponent("hellotune.sqlite").path }

    override func setUpWithError() throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("hellotune-store-jobs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: home) }

    func source() -> StoreJobSource { StoreJobSource(home: home, executable: "/nonexistent/hellotune") }

    /// What a local worker stores for each training event: its log.jsonl line.
    static func workerEvents(steps: ClosedRange<Int>, total: Int) -> [(kind: String, payload: String, externalID: String?)] {
        var events: [(kind: String, payload: String, externalID: String?)] = []
        if steps.lowerBound == 1 {
            events.append((kind: "started", payload: #"{"event":"started","examples":4,"start_step":0,"tokens_per_epoch":300,"total_steps":\#(total)}"#, externalID: nil))
        }
        for s in steps {
            let loss = 3.0 - Double(s) * 0.25
            events.append((kind: "step", payload: #"{"epoch":1,"eta_s":\#(total - s),"event":"step","grad_norm":1,"loss":\#(loss),"lr":0.001,"step":\#(s),"tok_s":250,"tokens":60,"total_steps":\#(total)}"#, externalID: nil))
        }
        return events
    }

    func testNoStoreMeansNoJobsAndCreatesNone() async throws {
        let jobs = try await source().listJobs()
        XCTAssertEqual(jobs, [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dbPath), "looking must not create a store")
    }

    func testListsJobsOfEveryBackendNewestFirst() async throws {
        let store = try Store(path: dbPath)
        defer { try? store.close() }
        let experiment = try store.createExperiment(name: "akewo-mixed", config: "{}")
        let folder = home.appendingPathComponent("runs/akewo-mixed-1-AKEWO-s1")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)

        // A finished local job with its adapter.
        let done = try store.createJob(experimentID: experiment.id, kind: "train", backend: "local", config: "{}", outputDir: folder.path)
        try store.updateJob(done.id) { $0.status = .succeeded; $0.step = 8; $0.totalSteps = 8; $0.loss = 0.5 }
        try Data().write(to: folder.appendingPathComponent(AdapterIO.peftWeightsFile))
        // A running local job: progress in its row, the worker is this process.
        let live = try store.createJob(experimentID: experiment.id, kind: "train", backend: "local", config: "{}",
                                       outputDir: home.appendingPathComponent("runs/akewo-mixed-1-AKEWO-s2").path)
        try store.updateJob(live.id) {
            $0.status = .running; $0.pid = getpid(); $0.step = 3; $0.totalSteps = 12; $0.loss = 2.25
            $0.tokensPerSecond = 250; $0.etaSeconds = 9
        }
        try store.appendEvents(jobID: live.id, Self.workerEvents(steps: 1...3, total: 12))
        // A local job whose worker died without a word (kill -9): the store still says running.
        let crashed = try store.createJob(experimentID: nil, kind: "train", backend: "local", config: "{}", outputDir: nil)
        let dead = try deadPID()
        try store.updateJob(crashed.id) { $0.status = .running; $0.pid = dead; $0.step = 2; $0.totalSteps = 10 }
        // An OpenAI job: no progress in its row, only metrics events (as the OpenAI events API sends them).
        let remote = try store.createJob(experimentID: experiment.id, kind: "train", backend: "openai", config: "{}", outputDir: nil)
        try store.updateJob(remote.id) { $0.status = .running; $0.externalID = "ftjob-abc" }
        try store.appendEvents(jobID: remote.id, [
            (kind: "message", payload: #"{"id":"ev-1","created_at":1,"level":"info","message":"Fine-tuning job started","type":"message"}"#, externalID: "ev-1"),
            (kind: "metrics", payload: #"{"id":"ev-2","created_at":2,"level":"info","message":"Step 4/20: training loss=1.75","type":"metrics","data":{"step":4,"total_steps":20,"train_loss":1.75}}"#, externalID: "ev-2"),
        ])
        // A cancel asked of an OpenAI job, not yet carried out by its worker.
        let asked = try store.createJob(experimentID: nil, kind: "train", backend: "openai", config: "{}", outputDir: nil)
        try store.updateJob(asked.id) { $0.statusText = "cancel-requested" }

        let jobs = try await source().listJobs()
        XCTAssertEqual(jobs.map(\.id), ["#\(asked.id)", "#\(remote.id)", "#\(crashed.id)", "#\(live.id)", "#\(done.id)"])
        XCTAssertEqual(jobs.map(\.backend), ["openai", "openai", "local", "local", "local"])
        XCTAssertEqual(jobs.map(\.kind), Array(repeating: "train", count: 5))

        let a = jobs[0]
        XCTAssertEqual(a.status, .running)
        XCTAssertTrue(a.note?.contains("cancel requested") == true, a.note ?? "")

        let r = jobs[1]
        XCTAssertEqual(r.name, "#\(remote.id) train ftjob-abc")
        XCTAssertEqual(r.status, .running)
        XCTAssertEqual(r.step, 4, "progress from the latest metrics event")
        XCTAssertEqual(r.totalSteps, 20)
        XCTAssertEqual(r.loss, 1.75)

        let c = jobs[2]
        XCTAssertEqual(c.status, .interrupted, "a dead worker is not shown running")
        XCTAssertTrue(c.note?.contains("pid \(dead)") == true, c.note ?? "")
        XCTAssertEqual(try store.job(crashed.id)?.status, .running, "the source only reads: the store is unchanged")

        let l = jobs[3]
        XCTAssertEqual(l.name, "#\(live.id) train akewo-mixed-1-AKEWO-s2")
        assertRunning(l, step: 3, totalSteps: 12, loss: 2.25, tokensPerSecond: 250, etaSeconds: 9)

        let d = jobs[4]
        XCTAssertEqual(d.status, .succeeded)
        XCTAssertEqual(d.progress, 1)
        XCTAssertEqual(d.adapterPath, folder.path, "a finished local job's adapter goes to the playground")
        XCTAssertEqual(d.folder, folder.path)

        // The OpenAI job's events: its message and its metrics point (a loss chart point).
        let remoteEvents = try await source().events(of: "#\(remote.id)")
        XCTAssertEqual(remoteEvents, [.message("Fine-tuning job started"),
                                      .step(step: 4, totalSteps: 20, epoch: 0, loss: 1.75, tokensPerSecond: 0, etaSeconds: 0)])
    }

    func testEventsStreamAsTheWorkerAppendsThem() async throws {
        let store = try Store(path: dbPath)
        defer { try? store.close() }
        let job = try store.createJob(experimentID: nil, kind: "train", backend: "local", config: "{}", outputDir: nil)
        try store.appendEvents(jobID: job.id, Self.workerEvents(steps: 1...2, total: 4))
        let source = source()
        let first = try await source.events(of: "#\(job.id)")
        XCTAssertEqual(first, [.started(totalSteps: 4, startStep: 0, examples: 4, tokensPerEpoch: 300),
                               .step(step: 1, totalSteps: 4, epoch: 1, loss: 2.75, tokensPerSecond: 250, etaSeconds: 3),
                               .step(step: 2, totalSteps: 4, epoch: 1, loss: 2.5, tokensPerSecond: 250, etaSeconds: 2)])
        // The worker goes on (another connection, as another process would write).
        let writer = try Store(path: dbPath)
        try writer.appendEvents(jobID: job.id, Self.workerEvents(steps: 3...4, total: 4) + [
            (kind: "finished", payload: #"{"adapter":"/x","cancelled":false,"event":"finished","final_loss":2,"seconds":5,"steps":4}"#, externalID: nil),
        ])
        try writer.close()
        let second = try await source.events(of: "#\(job.id)")
        XCTAssertEqual(Array(second.prefix(3)), first, "earlier events are kept")
        XCTAssertEqual(second.count, 6)
        XCTAssertEqual(second.last, .finished(steps: 4, finalLoss: 2, seconds: 5, cancelled: false, adapter: "/x"))
        // Events of another job, and ids that are not store jobs.
        let none = try await source.events(of: "#999")
        XCTAssertEqual(none, [])
        do {
            _ = try await source.events(of: "akewo-mixed-AKEWO-seed1")
            XCTFail("a run folder's name is not a store job")
        } catch {
            XCTAssertTrue("\(error)".contains("not a job in the store"), "\(error)")
        }
    }

    func testResumeRefusesWhatCannotResume() async throws {
        let store = try Store(path: dbPath)
        defer { try? store.close() }
        let remote = try store.createJob(experimentID: nil, kind: "train", backend: "openai", config: "{}", outputDir: nil)
        try store.updateJob(remote.id) { $0.status = .cancelled }
        let done = try store.createJob(experimentID: nil, kind: "train", backend: "local", config: "{}", outputDir: home.path)
        try store.updateJob(done.id) { $0.status = .succeeded }
        let running = try store.createJob(experimentID: nil, kind: "train", backend: "local", config: "{}", outputDir: home.path)
        try store.updateJob(running.id) { $0.status = .running; $0.pid = getpid() }
        for (id, message) in [(remote.id, "runs on openai and is cancelled: only a paused one resumes"),
                              (done.id, "has finished; nothing to resume"), (running.id, "is still running"),
                              (Int64(77), "job 77 is not in the store")] {
            do {
                _ = try await source().resume("#\(id)")
                XCTFail("job \(id) should not resume")
            } catch {
                XCTAssertTrue("\(error)".contains(message), "\(error)")
            }
        }
    }
}
