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
        tracker = FineTuneJobTracker(store: store, backend: service.client(), sleep: { _ in })
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

    func testACreateWhoseAnswerIsLostMakesExactlyOneJob() throws {
        // The API makes the job, then the connection drops before the answer arrives: a blind retry would pay twice.
        service.dropCreateResponses = 1
        let sleeper = RecordingSleeper()
        let client = OpenAIClient(configuration: OpenAIConfiguration(apiKey: key, baseURL: service.baseURL, timeout: 10, maxRetries: 2),
                                  sleep: sleeper.sleeper, jitter: { 0 })
        let tracker = FineTuneJobTracker(store: store, backend: client, sleep: { _ in })
        let job = try tracker.record(spec(), experimentID: nil, outputDir: nil)
        let submitted = try runBlocking { try await tracker.submit(jobID: job.id) }
        XCTAssertEqual(service.createdJobIDs.count, 1, "exactly one job")
        XCTAssertEqual(submitted.job.externalID, service.createdJobIDs.first)
        XCTAssertEqual(submitted.remote?.id, service.createdJobIDs.first)
        XCTAssertEqual(posts("/v1/fine_tuning/jobs"), 1, "not sent again once found")
        let lookups = service.requests.filter { $0.method == "GET" && $0.path == "/v1/fine_tuning/jobs" }
        XCTAssertEqual(lookups.count, 1)
        XCTAssertEqual(lookups.first?.query["metadata[\(OpenAIJobSpec.metadataKey)]"],
                       try OpenAIJobSpec.decode(job.config).token, "looked up by its token with the metadata filter")
        XCTAssertEqual(sleeper.recorded, [0.5])
    }

    func testACreateThatNeverReachedTheAPIIsSentAgain() throws {
        // A 500 before anything was made: the lookup finds nothing, and the retry makes the one job.
        let calls = CallCounter()
        let inner = service!
        let proxy = try FakeOpenAIServer { request in
            if request.method == "POST", request.path == "/v1/fine_tuning/jobs", calls.next() == 1 {
                return .error(500, message: "The server had an error", type: "server_error")
            }
            return inner.handle(request)
        }
        defer { proxy.stop() }
        let client = OpenAIClient(configuration: OpenAIConfiguration(apiKey: key, baseURL: proxy.baseURL, timeout: 10, maxRetries: 2),
                                  sleep: { _ in }, jitter: { 0 })
        let tracker = FineTuneJobTracker(store: store, backend: client, sleep: { _ in })
        let job = try tracker.record(spec(), experimentID: nil, outputDir: nil)
        let submitted = try runBlocking { try await tracker.submit(jobID: job.id) }
        XCTAssertEqual(service.createdJobIDs.count, 1)
        XCTAssertEqual(submitted.job.externalID, service.createdJobIDs.first)
        XCTAssertEqual(proxy.requests.filter { $0.method == "POST" && $0.path == "/v1/fine_tuning/jobs" }.count, 2)
    }

    func testFindingAJobAgainUsesTheMetadataFilterNotAScan() throws {
        let others = try tracker.record(spec(), experimentID: nil, outputDir: nil)
        let tracker = self.tracker!
        for _ in 0..<3 { _ = try runBlocking { try await tracker.submit(jobID: others.id) } }
        let job = try tracker.record(spec(), experimentID: nil, outputDir: nil)
        let remoteID = try XCTUnwrap(try runBlocking { try await tracker.submit(jobID: job.id) }.job.externalID)
        try store.updateJob(job.id) { $0.externalID = nil }
        let before = service.requests.count
        XCTAssertEqual(try runBlocking { try await tracker.submit(jobID: job.id) }.job.externalID, remoteID)
        let lookups = service.requests.dropFirst(before).filter { $0.method == "GET" && $0.path == "/v1/fine_tuning/jobs" }
        XCTAssertEqual(lookups.count, 1)
        XCTAssertNil(lookups.first?.query["after"], "one filtered request, no paging through the organisation's jobs")
        XCTAssertNotNil(lookups.first?.query["metadata[\(OpenAIJobSpec.metadataKey)]"])
    }

    func testTheJobWaitsUntilTheUploadedFileIsProcessed() throws {
        let job = try tracker.record(spec(), experimentID: nil, outputDir: nil)
        let tracker = self.tracker!
        let remoteID = try XCTUnwrap(try runBlocking { try await tracker.submit(jobID: job.id) }.job.externalID)
        let fileID = try XCTUnwrap(service.job(remoteID)?["training_file"] as? String)
        let paths = service.requests.map { "\($0.method) \($0.path)" }
        XCTAssertEqual(paths, ["POST /v1/files", "GET /v1/files/\(fileID)", "GET /v1/files/\(fileID)", "POST /v1/fine_tuning/jobs"],
                       "created only after the API reported the file processed")
    }

    func testLimitsAreCheckedBeforeAnythingIsUploaded() throws {
        let tracker = self.tracker!
        var few = try spec()
        let nine = dir.appendingPathComponent("nine.jsonl")
        let lines = try String(contentsOfFile: few.data, encoding: .utf8).split(separator: "\n").prefix(9)
        try lines.joined(separator: "\n").write(to: nine, atomically: true, encoding: .utf8)
        few.data = nine.path
        var epochs = try spec(); epochs.epochs = 51
        var batch = try spec(); batch.batchSize = 257
        var seed = try spec(); seed.seed = Int(Int32.max) + 1
        var negative = try spec(); negative.seed = -1
        var rate = try spec(); rate.learningRateMultiplier = -1
        for (bad, expected) in [(few, "has 9 examples"), (epochs, "n_epochs 51"), (batch, "batch_size 257"),
                                (seed, "seed 2147483648"), (negative, "seed -1"), (rate, "learning_rate_multiplier -1.0")] {
            let job = try tracker.record(bad, experimentID: nil, outputDir: nil)
            XCTAssertThrowsError(try runBlocking { try await tracker.submit(jobID: job.id) }) { error in
                guard case FineTuneTrackerError.outsideLimits = error else { return XCTFail("\(error)") }
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
        XCTAssertEqual(service.requests.count, 0, "nothing was uploaded")
        XCTAssertNoThrow(try spec().checkLimits(), "ten examples are enough")
    }

    func testARefusedUploadFailsTheJobAndASecondSubmitRetriesIt() throws {
        let wrong = FineTuneJobTracker(store: store, backend: OpenAIClient(configuration: OpenAIConfiguration(
            apiKey: "sk-wrong-key-0000", baseURL: service.baseURL, timeout: 10, maxRetries: 0)), sleep: { _ in })
        let job = try wrong.record(spec(), experimentID: nil, outputDir: nil)
        XCTAssertThrowsError(try runBlocking { try await wrong.submit(jobID: job.id) }) { error in
            XCTAssertEqual((error as? OpenAIError)?.status, 401)
        }
        let failed = try XCTUnwrap(store.job(job.id))
        XCTAssertEqual(failed.status, .failed, "not left queued")
        XCTAssertTrue(failed.error?.contains("not submitted") ?? false, failed.error ?? "")
        XCTAssertTrue(failed.error?.contains("401") ?? false, failed.error ?? "")

        let tracker = self.tracker!
        let retried = try runBlocking { try await tracker.submit(jobID: job.id) }
        XCTAssertEqual(retried.job.externalID, service.createdJobIDs.first)
        XCTAssertEqual(retried.job.status, .validating)
        XCTAssertNil(retried.job.error)
        XCTAssertEqual(service.createdJobIDs.count, 1)
    }

    func testCancellingAJobWhoseCreateWentOutFindsItByItsToken() throws {
        let job = try tracker.record(spec(), experimentID: nil, outputDir: nil)
        let tracker = self.tracker!
        let remoteID = try XCTUnwrap(try runBlocking { try await tracker.submit(jobID: job.id) }.job.externalID)
        try store.updateJob(job.id) { $0.externalID = nil }
        let cancelled = try runBlocking { try await tracker.cancel(jobID: job.id) }
        XCTAssertEqual(cancelled.status, .cancelled)
        XCTAssertEqual(cancelled.externalID, remoteID)
        XCTAssertEqual(service.job(remoteID)?["status"] as? String, "cancelled", "cancelled where it runs, not only here")
    }

    func testCheckpointsResultFilesAndCleanup() throws {
        let tracker = self.tracker!
        let job = try tracker.record(spec(), experimentID: nil, outputDir: dir.path)
        let remoteID = try XCTUnwrap(try runBlocking { try await tracker.submit(jobID: job.id) }.job.externalID)
        XCTAssertThrowsError(try runBlocking { try await tracker.deleteUploads(jobID: job.id) }) { error in
            XCTAssertEqual(error as? FineTuneTrackerError, .stillRunning(job.id, status: "validating"), "the API still needs them")
        }
        while !(try runBlocking { try await tracker.sync(jobID: job.id) }.remote.status.isFinal) {}

        let checkpoints = try runBlocking { try await tracker.checkpoints(jobID: job.id) }
        XCTAssertEqual(checkpoints.map(\.stepNumber), [3, 2, 1])

        let written = try runBlocking { try await tracker.fetchResultFiles(jobID: job.id) }
        let file = try XCTUnwrap(written.first)
        XCTAssertEqual(written.count, 1)
        XCTAssertEqual(file.deletingLastPathComponent().standardizedFileURL.path, dir.standardizedFileURL.path,
                       "in the job's folder, though the server named it ../../")
        XCTAssertTrue(file.lastPathComponent.hasPrefix("result-file-fake"), file.lastPathComponent)
        XCTAssertTrue(file.lastPathComponent.hasSuffix("-step_metrics__31m.csv"), file.lastPathComponent)
        XCTAssertEqual(try String(contentsOf: file, encoding: .utf8), "step,train_loss\n1,2.0\n")

        let trainingFile = try XCTUnwrap(service.job(remoteID)?["training_file"] as? String)
        XCTAssertEqual(try runBlocking { try await tracker.deleteUploads(jobID: job.id) }, [trainingFile])
        XCTAssertEqual(service.deletedFileIDs, [trainingFile])
        XCTAssertEqual(try runBlocking { try await tracker.deleteUploads(jobID: job.id) }, [], "once")
    }

    func testResultFileNamesAreSafe() {
        XCTAssertEqual(FineTuneJobTracker.resultFileName(id: "file-1", serverName: "metrics.csv"), "result-file-1-metrics.csv")
        XCTAssertEqual(FineTuneJobTracker.resultFileName(id: "../x", serverName: "/etc/passwd"), "result-.._x-passwd")
        XCTAssertEqual(FineTuneJobTracker.resultFileName(id: "f", serverName: ".."), "result-f-")
        XCTAssertEqual(FineTuneJobTracker.resultFileName(id: "f", serverName: "a\u{1b}]0;pwned\u{07}b"), "result-f-a_]0_pwned_b".replacingOccurrences(of: "]", with: "_"))
        XCTAssertEqual(FineTuneJobTracker.resultFileName(id: "f", serverName: String(repeating: "x", count: 500)).count, 120)
        XCTAssertEqual(FineTuneJobTracker.resultFileName(id: "f", serverName: nil), "result-f")
    }
}
