import FakeOpenAI
import Foundation
import XCTest
import Support
import Store
import Backends

/// Remote fine-tuning jobs followed through the store, against the fake OpenAI service.
final class FineTuneJobTrackerTests: XCTestCase {
    let key = "sk-tracker-test-0077"
    var service: FakeOpenAIService!
    var tracker: FineTuneJobTracker!
    var store: Store!
    var dir: URL!

    override func setUpWithError() throws {
        service = try startFakeOpenAIService(apiKey: key)
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("tracker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        store = try Store(path: dir.appendingPathComponent("hellotune.sqlite").path)
        tracker = FineTuneJobTracker(store: store, backend: service.client())
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func spec() throws -> OpenAIJobSpec {
        OpenAIJobSpec(model: "gpt-4o-mini-2024-07-18", data: try ChatDatasetTests.trelis("akewo.jsonl"),
                      baseURL: service.baseURL.absoluteString, suffix: "akewo-s1", seed: 1, epochs: 2)
    }

    func posts(_ path: String) -> Int { service.requests.filter { $0.method == "POST" && $0.path == path }.count }

    func testSubmitsOnceAndFollowsTheJobToItsEnd() throws {
        let job = try tracker.record(spec(), experimentID: nil, outputDir: dir.path)
        let tracker = self.tracker!
        let submitted = try runBlocking { try await tracker.submit(jobID: job.id) }
        let remoteID = try XCTUnwrap(submitted.job.externalID)
        XCTAssertEqual(submitted.remote?.id, remoteID)
        XCTAssertEqual(submitted.job.statusText, "validating")
        XCTAssertEqual(try runBlocking { try await tracker.submit(jobID: job.id) }.job.externalID, remoteID)
        XCTAssertEqual(posts("/v1/files"), 1)
        XCTAssertEqual(posts("/v1/fine_tuning/jobs"), 1)
        XCTAssertEqual(try OpenAIJobSpec.decode(try XCTUnwrap(store.job(job.id)).config).trainingFile,
                       service.job(remoteID)?["training_file"] as? String)

        var statuses: [String] = []
        var sync: FineTuneJobTracker.Sync
        repeat {
            sync = try runBlocking { try await tracker.sync(jobID: job.id) }
            statuses.append(sync.job.statusText)
        } while !sync.remote.status.isFinal
        XCTAssertEqual(statuses, ["queued", "running", "running", "running", "succeeded"])
        XCTAssertEqual(sync.job.step, 3)
        XCTAssertEqual(sync.job.totalSteps, 3)
        XCTAssertEqual(sync.job.loss ?? 0, 2.0 / 3, accuracy: 1e-9)
        XCTAssertNil(sync.job.etaSeconds)
        XCTAssertEqual(try OpenAIJobSpec.decode(sync.job.config).fineTunedModel, sync.remote.fineTunedModel)

        let again = try runBlocking { try await tracker.sync(jobID: job.id) }
        XCTAssertEqual(again.newEvents, [])
        let stored = try store.events(jobID: job.id)
        XCTAssertEqual(stored.map(\.externalID), service.eventIDs(of: remoteID).map { $0 as String? })
        XCTAssertEqual(stored.filter { $0.kind == "metrics" }.count, 3)
        XCTAssertEqual(sync.job.cursor, service.eventIDs(of: remoteID).last)

        // The Jobs screen's view of it: started, three steps, finished.
        let log = try String(contentsOf: dir.appendingPathComponent("log.jsonl"), encoding: .utf8).split(separator: "\n")
        let kinds = log.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.map { $0["event"] as? String }
        XCTAssertEqual(kinds, ["started", "step", "step", "step", "finished"])
    }

    func testAJobCreatedButNotRecordedIsFoundAgainByItsToken() throws {
        let job = try tracker.record(spec(), experimentID: nil, outputDir: nil)
        let tracker = self.tracker!
        let remoteID = try XCTUnwrap(try runBlocking { try await tracker.submit(jobID: job.id) }.job.externalID)
        // As if the process died right after the create request: the remote id never reached the store.
        try store.updateJob(job.id) { $0.externalID = nil }
        let found = try runBlocking { try await tracker.submit(jobID: job.id) }
        XCTAssertEqual(found.job.externalID, remoteID)
        XCTAssertEqual(service.createdJobIDs, [remoteID], "no second job")
        XCTAssertEqual(posts("/v1/files"), 1)
    }

    func testCancelBeforeAndAfterSubmitting() throws {
        let tracker = self.tracker!
        let early = try tracker.record(spec(), experimentID: nil, outputDir: nil)
        try store.updateJob(early.id) { $0.statusText = FineTuneJobTracker.cancelRequested }
        let never = try runBlocking { try await tracker.submit(jobID: early.id) }
        XCTAssertEqual(never.job.status, .cancelled)
        XCTAssertNil(never.job.externalID)
        XCTAssertEqual(service.requests.count, 0, "nothing was uploaded")

        let late = try tracker.record(spec(), experimentID: nil, outputDir: nil)
        let remoteID = try XCTUnwrap(try runBlocking { try await tracker.submit(jobID: late.id) }.job.externalID)
        try store.updateJob(late.id) { $0.statusText = FineTuneJobTracker.cancelRequested }
        let sync = try runBlocking { try await tracker.sync(jobID: late.id) }
        XCTAssertEqual(sync.remote.status, .cancelled, "the stored request is carried out on the next sync")
        XCTAssertEqual(sync.job.status, .cancelled)
        XCTAssertEqual(service.job(remoteID)?["status"] as? String, "cancelled")

        let direct = try tracker.record(spec(), experimentID: nil, outputDir: nil)
        _ = try runBlocking { try await tracker.submit(jobID: direct.id) }
        XCTAssertEqual(try runBlocking { try await tracker.cancel(jobID: direct.id) }.status, .cancelled)
    }

    func testALocalJobIsNotFollowedRemotely() throws {
        let local = try store.createJob(experimentID: nil, kind: "train", backend: "local", config: "{}", outputDir: nil)
        let tracker = self.tracker!
        XCTAssertThrowsError(try runBlocking { try await tracker.sync(jobID: local.id) }) { error in
            XCTAssertEqual(error as? FineTuneTrackerError, .notRemote(local.id, backend: "local"))
        }
        let unsent = try tracker.record(spec(), experimentID: nil, outputDir: nil)
        XCTAssertThrowsError(try runBlocking { try await tracker.sync(jobID: unsent.id) }) { error in
            XCTAssertEqual(error as? FineTuneTrackerError, .notSubmitted(unsent.id))
        }
        var missing = try spec()
        missing.data = dir.appendingPathComponent("gone.jsonl").path
        let gone = try tracker.record(missing, experimentID: nil, outputDir: nil)
        XCTAssertThrowsError(try runBlocking { try await tracker.submit(jobID: gone.id) }) { error in
            XCTAssertEqual(error as? FineTuneTrackerError, .unreadableData(missing.data))
        }
    }
}
