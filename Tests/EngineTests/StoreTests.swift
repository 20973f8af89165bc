import Foundation
import TestSupport
import XCTest
import Support
import Store

/// The job database through its public API, on real SQLite files in a temporary folder.
final class StoreTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("hellotune-store-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    var path: String { folder.appendingPathComponent("hellotune.sqlite").path }

    func mode(_ path: String) throws -> Int {
        try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    // MARK: - Opening

    func testCreatesPrivateFolderAndFileWithCurrentSchema() throws {
        let nested = folder.appendingPathComponent("a/b/hellotune.sqlite").path
        let store = try Store(path: nested)
        XCTAssertEqual(store.path, nested)
        XCTAssertEqual(try store.storedSchemaVersion(), Store.schemaVersion)
        XCTAssertEqual(try store.integrityCheck(), "ok")
        XCTAssertEqual(try mode(folder.appendingPathComponent("a").path) & 0o777, 0o700)
        XCTAssertEqual(try mode(folder.appendingPathComponent("a/b").path) & 0o777, 0o700)
        XCTAssertEqual(try mode(nested) & 0o777, 0o600)
        XCTAssertTrue(FileManager.default.fileExists(atPath: nested + "-wal"), "the database should be in WAL mode")
        XCTAssertEqual(try mode(nested + "-wal") & 0o777, 0o600)
    }

    func testDefaultPathIsUnderHellotuneHome() {
        XCTAssertEqual(Store.defaultPath, Paths.home.appendingPathComponent("hellotune.sqlite").path)
    }

    func testReopeningKeepsTheData() throws {
        let first = try Store(path: path)
        let experiment = try first.createExperiment(name: "akewo", config: #"{"word":"AKEWO"}"#)
        let job = try first.createJob(experimentID: experiment.id, kind: "train", backend: "local", config: "{}",
                                      outputDir: "/tmp/run")
        try first.close()
        let second = try Store(path: path)
        XCTAssertEqual(try second.experiments(), [experiment])
        XCTAssertEqual(try second.job(job.id), job)
    }

    func testNewerSchemaIsRefusedWithoutTouchingTheFile() throws {
        let store = try Store(path: path)
        _ = try store.createExperiment(name: "x", config: "{}")
        try store.close()
        try stampSchemaVersion(UInt32(Store.schemaVersion + 7), at: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let modified = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date

        XCTAssertThrowsError(try Store(path: path)) { error in
            XCTAssertEqual(error as? StoreError,
                           .newerSchema(path: path, found: Store.schemaVersion + 7, supported: Store.schemaVersion))
            let message = "\(error)"
            XCTAssertTrue(message.contains("\(path) was written by a newer hellotune (schema \(Store.schemaVersion + 7))"), message)
            XCTAssertTrue(message.contains("this one reads up to \(Store.schemaVersion)"), message)
            XCTAssertTrue(message.contains("Upgrade hellotune, or point HELLOTUNE_HOME elsewhere."), message)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date, modified)
    }

    func testNonDatabaseFileIsRefusedWithoutTouchingIt() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let junk = Data(repeating: 0x41, count: 8192)
        try junk.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Store(path: path)) { error in
            guard case .notADatabase(let p, _)? = error as? StoreError else { return XCTFail("\(error)") }
            XCTAssertEqual(p, path)
            XCTAssertTrue("\(error)".contains("Move it away"), "\(error)")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), junk)
    }

    func testAnotherProgramsDatabaseIsRefusedWithoutTouchingIt() throws {
        // Made by Python's own sqlite3 module: this test target links no SQLite API of its own.
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('CREATE TABLE photos (x)'); c.commit()", path]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw XCTSkip("python3 with its sqlite3 module is needed for this test") }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Store(path: path)) { error in
            guard case .notADatabase(_, let reason)? = error as? StoreError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("photos"), reason)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before)
    }

    func testUnwritableFolderIsAStoreError() throws {
        // A regular file where a folder should be fails even for root, who ignores permission bits.
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let blocker = folder.appendingPathComponent("not-a-folder")
        try Data("x".utf8).write(to: blocker)
        XCTAssertThrowsError(try Store(path: blocker.appendingPathComponent("hellotune.sqlite").path)) { error in
            guard case .unwritable? = error as? StoreError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains(blocker.path), "\(error)")
        }
    }

    /// Without the setup lock, two of them sometimes both apply the first migration ("table already exists");
    /// a few fresh files make that race likely enough to be seen.
    func testManyStoresOpeningAFreshFileAtOnceAllSucceed() throws {
        for round in 0..<4 {
            let path = folder.appendingPathComponent("fresh-\(round).sqlite").path
            let errors = Collected<String>()
            DispatchQueue.concurrentPerform(iterations: 6) { i in
                do {
                    let store = try Store(path: path)
                    _ = try store.createJob(experimentID: nil, kind: "evaluate", backend: "local",
                                            config: "{\"n\":\(i)}", outputDir: nil)
                } catch {
                    errors.append("\(error)")
                }
            }
            XCTAssertEqual(errors.values, [], "round \(round)")
            XCTAssertEqual(try Store(path: path).jobs().count, 6)
        }
    }

    // MARK: - Experiments and jobs

    func testExperiments() throws {
        let store = try Store(path: path)
        let a = try store.createExperiment(name: "a", config: "{}")
        let b = try store.createExperiment(name: "b", config: #"{"epochs":3}"#)
        XCTAssertEqual(a.status, "created")
        XCTAssertEqual(try store.experiments(), [a, b])
        try store.setExperimentStatus(b.id, "done")
        XCTAssertEqual(try store.experiment(b.id)?.status, "done")
        XCTAssertNil(try store.experiment(999))
        XCTAssertThrowsError(try store.setExperimentStatus(999, "done")) { XCTAssertEqual($0 as? StoreError, .noSuchExperiment(999)) }
    }

    func testJobRoundTripAndUpdate() throws {
        let store = try Store(path: path)
        let experiment = try store.createExperiment(name: "e", config: "{}")
        let job = try store.createJob(experimentID: experiment.id, kind: "train", backend: "openai",
                                      config: #"{"model":"gpt-4.1-nano"}"#, outputDir: nil)
        XCTAssertEqual(job.status, .queued)
        XCTAssertEqual(try store.job(job.id), job)

        let updated = try store.updateJob(job.id) {
            $0.status = .running
            $0.externalID = "ftjob-abc"
            $0.cursor = "ftevent-9"
            $0.step = 12
            $0.totalSteps = 100
            $0.loss = 1.25
            $0.tokensPerSecond = 900.5
            $0.etaSeconds = 61
            $0.pid = 4242
            $0.id = 777          // ignored: the id names the row
        }
        XCTAssertEqual(updated.id, job.id)
        XCTAssertEqual(updated.createdAt, job.createdAt)
        XCTAssertGreaterThanOrEqual(updated.updatedAt, job.updatedAt)
        XCTAssertEqual(try store.job(job.id), updated)
        XCTAssertEqual(try store.jobs(experimentID: experiment.id), [updated])
        XCTAssertEqual(try store.jobs(experimentID: experiment.id + 1), [])

        // A change that changes nothing writes nothing.
        Thread.sleep(forTimeInterval: 0.01)
        XCTAssertEqual(try store.updateJob(job.id) { $0.step = 12 }, updated)
    }

    func testUnknownStatusTextIsKeptAndNeverFails() throws {
        let store = try Store(path: path)
        let job = try store.createJob(experimentID: nil, kind: "train", backend: "openai", config: "{}", outputDir: nil)
        let odd = try store.updateJob(job.id) { $0.statusText = "cancel-requested" }
        XCTAssertNil(odd.status)
        XCTAssertEqual(try store.job(job.id)?.statusText, "cancel-requested")
        XCTAssertEqual(try store.updateJob(job.id) { $0.status = .cancelled }.statusText, "cancelled")
    }

    func testMissingRowsAndBadJSONAreTypedErrors() throws {
        let store = try Store(path: path)
        XCTAssertNil(try store.job(5))
        XCTAssertThrowsError(try store.updateJob(5) { $0.step = 1 }) { error in
            XCTAssertEqual(error as? StoreError, .noSuchJob(5))
            XCTAssertEqual("\(error)", "no job 5 (see `hellotune jobs list`)")
        }
        XCTAssertThrowsError(try store.createJob(experimentID: 3, kind: "train", backend: "local", config: "{}", outputDir: nil)) {
            XCTAssertEqual($0 as? StoreError, .noSuchExperiment(3))
        }
        XCTAssertThrowsError(try store.createJob(experimentID: nil, kind: "train", backend: "local", config: "{", outputDir: nil)) {
            guard case .invalidJSON(let field, _)? = $0 as? StoreError else { return XCTFail("\($0)") }
            XCTAssertEqual(field, "jobs.config")
        }
        XCTAssertThrowsError(try store.appendEvents(jobID: 5, [(kind: "log", payload: "{}", externalID: nil)])) {
            XCTAssertEqual($0 as? StoreError, .noSuchJob(5))
        }
    }

    func testMarkInterruptedJobsOnlyTouchesRunningJobsWithADeadWorker() throws {
        let store = try Store(path: path)
        let dead = try deadPID()
        let crashed = try store.createJob(experimentID: nil, kind: "train", backend: "local", config: "{}", outputDir: nil)
        try store.updateJob(crashed.id) { $0.status = .running; $0.pid = dead }
        let alive = try store.createJob(experimentID: nil, kind: "train", backend: "local", config: "{}", outputDir: nil)
        try store.updateJob(alive.id) { $0.status = .running; $0.pid = getpid() }
        let finished = try store.createJob(experimentID: nil, kind: "train", backend: "local", config: "{}", outputDir: nil)
        try store.updateJob(finished.id) { $0.status = .succeeded; $0.pid = dead }
        let remote = try store.createJob(experimentID: nil, kind: "train", backend: "openai", config: "{}", outputDir: nil)
        try store.updateJob(remote.id) { $0.status = .running }

        let changed = try store.markInterruptedJobs()
        XCTAssertEqual(changed.map(\.id), [crashed.id])
        XCTAssertEqual(changed.first?.status, .interrupted)
        XCTAssertTrue(changed.first?.error?.contains("pid \(dead)") ?? false, "\(String(describing: changed.first?.error))")
        XCTAssertEqual(try store.job(crashed.id), changed.first)
        XCTAssertEqual(try store.job(alive.id)?.status, .running)
        XCTAssertEqual(try store.job(finished.id)?.status, .succeeded)
        XCTAssertEqual(try store.job(remote.id)?.status, .running)
        XCTAssertEqual(try store.markInterruptedJobs(), [])
    }

    // MARK: - Events

    func testEventsAreDeduplicatedByExternalID() throws {
        let store = try Store(path: path)
        let job = try store.createJob(experimentID: nil, kind: "train", backend: "openai", config: "{}", outputDir: nil)
        let first = try store.appendEvents(jobID: job.id, [
            (kind: "message", payload: #"{"text":"a"}"#, externalID: "ev-1"),
            (kind: "metrics", payload: #"{"loss":1.5}"#, externalID: "ev-2"),
            (kind: "log", payload: #""local line""#, externalID: nil),
        ])
        XCTAssertEqual(first, 3)
        // The same page read again after a restart, plus one new event: only the new ones count.
        let again = try store.appendEvents(jobID: job.id, [
            (kind: "message", payload: #"{"text":"a"}"#, externalID: "ev-1"),
            (kind: "metrics", payload: #"{"loss":1.5}"#, externalID: "ev-2"),
            (kind: "message", payload: #"{"text":"b"}"#, externalID: "ev-3"),
            (kind: "log", payload: #""another line""#, externalID: nil),
        ])
        XCTAssertEqual(again, 2)
        let all = try store.events(jobID: job.id)
        XCTAssertEqual(all.map(\.externalID), ["ev-1", "ev-2", nil, "ev-3", nil])
        XCTAssertEqual(all.map(\.jobID), Array(repeating: job.id, count: 5))
        XCTAssertEqual(try store.events(jobID: job.id, afterID: all[1].id, limit: 2), Array(all[2...3]))
        XCTAssertEqual(try store.latestEvents(jobID: job.id, limit: 2), Array(all[3...4]))

        let other = try store.createJob(experimentID: nil, kind: "train", backend: "openai", config: "{}", outputDir: nil)
        XCTAssertEqual(try store.appendEvents(jobID: other.id, [(kind: "message", payload: "{}", externalID: "ev-1")]), 1,
                       "an external id is unique per job, not across jobs")
        XCTAssertThrowsError(try store.appendEvents(jobID: job.id, [(kind: "x", payload: "not json", externalID: nil)])) {
            guard case .invalidJSON(let field, _)? = $0 as? StoreError else { return XCTFail("\($0)") }
            XCTAssertEqual(field, "events[0].payload")
        }
    }

    // MARK: - Samples

    func testFinishedSamplesAreNeverRedone() throws {
        let store = try Store(path: path)
        let experiment = try store.createExperiment(name: "e", config: "{}")
        let key = SampleKey(experimentID: experiment.id, condition: "trained", model: "smollm2", promptID: "q17", sampleIndex: 0)
        XCTAssertTrue(try store.insertSample(SampleRecord(key: key, prompt: "Why?", reply: "Because.")))
        XCTAssertFalse(try store.insertSample(SampleRecord(key: key, prompt: "Why?", reply: "A different reply.")))
        var other = key
        other.condition = "base"
        XCTAssertTrue(try store.insertSample(SampleRecord(key: other, prompt: "Why?", reply: "No idea.", score: #"{"matches":0}"#)))

        XCTAssertEqual(try store.sampleKeys(experimentID: experiment.id), [key, other])
        let trained = try store.samples(experimentID: experiment.id, condition: "trained")
        XCTAssertEqual(trained.map(\.reply), ["Because."])
        XCTAssertNil(trained.first?.score)
        let id = try XCTUnwrap(trained.first?.id)
        try store.setScore(sampleID: id, score: #"{"matches":5,"exact":true}"#)
        XCTAssertEqual(try store.samples(experimentID: experiment.id).map(\.score), [#"{"matches":5,"exact":true}"#, #"{"matches":0}"#])
        XCTAssertThrowsError(try store.setScore(sampleID: 999, score: "{}")) { XCTAssertEqual($0 as? StoreError, .noSuchSample(999)) }
        var orphan = key
        orphan.experimentID = 999
        XCTAssertThrowsError(try store.insertSample(SampleRecord(key: orphan, prompt: "", reply: ""))) {
            XCTAssertEqual($0 as? StoreError, .noSuchExperiment(999))
        }
    }

    // MARK: - Concurrency

    /// A training worker and an evaluation each hold their own Store on the same file and write many small
    /// transactions at once; neither may fail with "database is locked".
    func testTwoStoresWritingAtOnceNeverFailLocked() throws {
        let setup = try Store(path: path)
        let experiment = try setup.createExperiment(name: "e", config: "{}")
        let job = try setup.createJob(experimentID: experiment.id, kind: "train", backend: "local", config: "{}", outputDir: nil)
        let writers = [try Store(path: path), try Store(path: path)]
        let rounds = 150
        let errors = Collected<String>()
        DispatchQueue.concurrentPerform(iterations: 2) { w in
            let store = writers[w]
            for i in 0..<rounds {
                do {
                    try store.appendEvents(jobID: job.id, [(kind: "metrics", payload: #"{"w":\#(w),"i":\#(i)}"#, externalID: "\(w)-\(i)")])
                    try store.updateJob(job.id) { $0.step = ($0.step ?? 0) + 1 }
                    let key = SampleKey(experimentID: experiment.id, condition: "c\(w)", model: "m", promptID: "p\(i)", sampleIndex: 0)
                    try store.insertSample(SampleRecord(key: key, prompt: "p", reply: "r"))
                    _ = try store.jobs()
                } catch {
                    errors.append("writer \(w), round \(i): \(error)")
                }
            }
        }
        XCTAssertEqual(errors.values, [])
        XCTAssertEqual(try setup.events(jobID: job.id).count, 2 * rounds)
        XCTAssertEqual(try setup.job(job.id)?.step, 2 * rounds, "read-modify-write lost an update")
        XCTAssertEqual(try setup.samples(experimentID: experiment.id).count, 2 * rounds)
        XCTAssertEqual(try setup.integrityCheck(), "ok")
    }
}

/// Values gathered from several threads.
private final class Collected<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [T] = []
    func append(_ item: T) { lock.withLock { items.append(item) } }
    var values: [T] { lock.withLock { items } }
}
