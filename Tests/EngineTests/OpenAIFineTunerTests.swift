import FakeOpenAI
import Foundation
import XCTest
import Support
import ModelCore
import Store
import Backends

/// The fine-tune protocol on the OpenAI backend, against the fake OpenAI service: submit, follow, re-attach, stop,
/// cancel and resume, each through `FineTuner` alone.
final class OpenAIFineTunerTests: XCTestCase {
    let key = "sk-finetuner-test-0078"
    var service: FakeOpenAIService!
    var store: Store!
    var dir: URL!
    var experimentID: Int64!

    override func setUpWithError() throws {
        service = try startFakeOpenAIService(apiKey: key)
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("finetuner-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        store = try Store(path: dir.appendingPathComponent("hellotune.sqlite").path)
        experimentID = try store.createExperiment(name: "remote", config: "{}").id
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func makeTuner() -> any FineTuner {
        OpenAIFineTuner(store: store, client: service.client(), model: "gpt-4o-mini-2024-07-18", epochs: 2, batchSize: nil,
                        learningRateMultiplier: nil, pollInterval: 0.01)
    }

    func makeRequest(_ run: String = "AKEWO-s1") throws -> FineTuneRequest {
        let folder = dir.appendingPathComponent(run)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return FineTuneRequest(data: URL(fileURLWithPath: try ChatDatasetTests.trelis("akewo.jsonl")), folder: folder, seed: 1,
                               suffix: "akewo-s1", experimentID: experimentID)
    }

    func posts(_ path: String) -> Int { service.requests.filter { $0.method == "POST" && $0.path == path }.count }

    func testSubmitsFollowsAndReusesTheFinishedModel() throws {
        let tuner = makeTuner()
        let request = try makeRequest()
        var messages: [String] = []
        guard case let .submitted(jobID) = try tuner.submit(request, progress: { messages.append($0.message) }) else {
            return XCTFail("a new request is submitted")
        }
        XCTAssertEqual(messages, ["uploading the dataset"])
        let job = try XCTUnwrap(store.job(jobID))
        let remoteID = try XCTUnwrap(job.externalID)
        XCTAssertEqual(job.backend, tuner.backendName)
        XCTAssertEqual(try OpenAIJobSpec.decode(job.config).suffix, "akewo-s1")
        XCTAssertTrue(FileManager.default.fileExists(atPath: request.folder.appendingPathComponent("data.jsonl").path))

        var steps: [FineTuneProgress] = []
        let outcome = try tuner.follow(jobID: jobID, cancel: CancellationFlag()) { steps.append($0) }
        let model = try XCTUnwrap(service.job(remoteID)?["fine_tuned_model"] as? String)
        XCTAssertEqual(outcome.result, .remoteModel(model))
        XCTAssertEqual(outcome.summary, "OpenAI fine-tuning job \(remoteID) (hellotune job \(jobID)) made \(model)")
        XCTAssertEqual(steps.last?.step, 3)
        XCTAssertEqual(steps.last?.totalSteps, 3)
        XCTAssertEqual(try store.job(jobID)?.status, .succeeded)

        // The same request again finds the finished job: nothing is uploaded or created.
        XCTAssertEqual(try tuner.submit(request, progress: { _ in }), .finished(outcome))
        XCTAssertEqual(posts("/v1/files"), 1)
        XCTAssertEqual(posts("/v1/fine_tuning/jobs"), 1)
    }

    func testAStoppedFollowLeavesTheJobToBeReattached() throws {
        let request = try makeRequest()
        guard case let .submitted(jobID) = try makeTuner().submit(request, progress: { _ in }) else {
            return XCTFail("a new request is submitted")
        }
        let stop = CancellationFlag()
        stop.set()
        let remoteID = try XCTUnwrap(store.job(jobID)?.externalID)
        XCTAssertThrowsError(try makeTuner().follow(jobID: jobID, cancel: stop, progress: { _ in })) {
            XCTAssertEqual($0 as? FineTuneError, .stopped(job: jobID, remoteID: remoteID))
        }
        // Another fine-tuner (a rerun) re-attaches to the same job and follows it to its end.
        var messages: [String] = []
        XCTAssertEqual(try makeTuner().submit(request, progress: { messages.append($0.message) }), .submitted(jobID: jobID))
        XCTAssertEqual(messages, ["re-attaching to \(remoteID)"])
        XCTAssertEqual(try makeTuner().follow(jobID: jobID, cancel: CancellationFlag(), progress: { _ in }).result,
                       .remoteModel(try XCTUnwrap(service.job(remoteID)?["fine_tuned_model"] as? String)))
        XCTAssertEqual(posts("/v1/fine_tuning/jobs"), 1)
    }

    func testACancelledJobFailsItsFollowAndARerunStartsANewOne() throws {
        let tuner = makeTuner()
        let request = try makeRequest()
        guard case let .submitted(jobID) = try tuner.submit(request, progress: { _ in }) else {
            return XCTFail("a new request is submitted")
        }
        XCTAssertEqual(try tuner.cancel(jobID: jobID).status, .cancelled)
        let remoteID = try XCTUnwrap(store.job(jobID)?.externalID)
        XCTAssertEqual(service.job(remoteID)?["status"] as? String, "cancelled")
        XCTAssertThrowsError(try tuner.follow(jobID: jobID, cancel: CancellationFlag(), progress: { _ in })) {
            XCTAssertEqual($0 as? FineTuneError, .remoteJobFailed(job: jobID, remoteID: remoteID, status: "cancelled", error: nil))
        }
        guard case let .submitted(again) = try tuner.submit(request, progress: { _ in }) else {
            return XCTFail("a cancelled job's request is submitted again")
        }
        XCTAssertNotEqual(again, jobID)
        XCTAssertEqual(posts("/v1/fine_tuning/jobs"), 2)
    }

    /// A job the API pauses is said plainly, once, and followed on to its end: running → paused → running → succeeded.
    func testAPausedJobIsReportedAndFollowedToTheEnd() throws {
        service.pausedAtStep = 1
        service.pausedForRetrieves = 2
        let tuner = OpenAIFineTuner(store: store, client: service.client(), model: "gpt-4o-mini-2024-07-18", epochs: 2,
                                    batchSize: nil, learningRateMultiplier: nil, pollInterval: 0.01)
        let logged = LockedLines()
        tuner.log = { logged.append($0) }
        guard case let .submitted(jobID) = try tuner.submit(try makeRequest(), progress: { _ in }) else {
            return XCTFail("a new request is submitted")
        }
        let remoteID = try XCTUnwrap(store.job(jobID)?.externalID)
        var messages: [String] = []
        let outcome = try tuner.follow(jobID: jobID, cancel: CancellationFlag()) { messages.append($0.message) }
        XCTAssertEqual(outcome.result, .remoteModel(try XCTUnwrap(service.job(remoteID)?["fine_tuned_model"] as? String)))
        XCTAssertEqual(logged.lines, [FineTuneJobTracker.pausedAdvice(jobID: jobID, remoteID: remoteID),
                                      "\(remoteID) (hellotune job \(jobID)) was resumed; following it on"])
        XCTAssertTrue(logged.lines[0].contains("`hellotune jobs resume \(jobID)` resumes it, `hellotune jobs cancel \(jobID)` cancels it"))
        let paused = messages.filter { $0.hasPrefix("\(remoteID) paused: `hellotune jobs resume \(jobID)` resumes it") }
        XCTAssertEqual(paused.count, 3, "paused for the retrieve that paused it and two more: \(messages)")
        XCTAssertEqual(try store.job(jobID)?.status, .succeeded)
    }

    /// A job paused until someone resumes it: a follow keeps waiting (until stopped), `resume` resumes it through the
    /// API, and a follow then goes on to the end. Resume on a job that is not paused changes nothing.
    func testResumeRunsAPausedJob() throws {
        service.pausedAtStep = 1
        let tuner = makeTuner()
        guard case let .submitted(jobID) = try tuner.submit(try makeRequest(), progress: { _ in }) else {
            return XCTFail("a new request is submitted")
        }
        let remoteID = try XCTUnwrap(store.job(jobID)?.externalID)
        let stop = CancellationFlag()
        var pausedPolls = 0
        XCTAssertThrowsError(try tuner.follow(jobID: jobID, cancel: stop) { p in
            if p.message.contains("paused") { pausedPolls += 1 }
            if pausedPolls == 5 { stop.set() }
        }) { XCTAssertEqual($0 as? FineTuneError, .stopped(job: jobID, remoteID: remoteID)) }
        XCTAssertEqual(pausedPolls, 5, "a paused job is followed on, not given up")
        XCTAssertEqual(try store.job(jobID)?.status, .paused)

        XCTAssertEqual(try tuner.resume(jobID: jobID),
                       "job \(jobID): resumed \(remoteID) through the API (now running); follow it with `hellotune jobs show \(jobID)`")
        XCTAssertEqual(posts("/v1/fine_tuning/jobs/\(remoteID)/resume"), 1)
        XCTAssertEqual(try store.job(jobID)?.status, .running)
        XCTAssertEqual(try tuner.follow(jobID: jobID, cancel: CancellationFlag(), progress: { _ in }).result,
                       .remoteModel(try XCTUnwrap(service.job(remoteID)?["fine_tuned_model"] as? String)))
        XCTAssertEqual(try tuner.resume(jobID: jobID),
                       "job \(jobID) was submitted already (\(remoteID)); follow it with `hellotune jobs show \(jobID)`")
        XCTAssertEqual(posts("/v1/fine_tuning/jobs/\(remoteID)/resume"), 1)
    }

    func testResumeFinishesAnInterruptedSubmission() throws {
        let client = service.client()
        let tracker = FineTuneJobTracker(store: store, backend: client)
        let spec = OpenAIJobSpec(model: "gpt-4o-mini-2024-07-18", data: try ChatDatasetTests.trelis("akewo.jsonl"),
                                 baseURL: service.baseURL.absoluteString, suffix: "akewo-s1", seed: 1, epochs: 2)
        // Recorded but never submitted, as a process killed before its upload leaves it.
        let job = try tracker.record(spec, experimentID: experimentID, outputDir: dir.path)
        let tuner = makeTuner()
        let message = try tuner.resume(jobID: job.id)
        let remoteID = try XCTUnwrap(store.job(job.id)?.externalID)
        XCTAssertEqual(message, "job \(job.id) submitted as \(remoteID); follow it with `hellotune jobs show \(job.id)`")
        XCTAssertEqual(try tuner.resume(jobID: job.id),
                       "job \(job.id) was submitted already (\(remoteID)); follow it with `hellotune jobs show \(job.id)`")
        XCTAssertEqual(posts("/v1/fine_tuning/jobs"), 1)
    }
}

/// Lines a `@Sendable` log closure collects.
final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ line: String) { lock.withLock { stored.append(line) } }
    var lines: [String] { lock.withLock { stored } }
}
