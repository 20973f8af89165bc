import Foundation
import TestSupport
import XCTest
import ModelCore
import Training
import Store
import Backends

/// The fine-tune protocol on the local backend: a real tiny training, in a detached `hellotune worker` (as
/// `hellotune run` trains) and in this process, submitted, followed, cancelled and resumed through `FineTuner` alone.
final class LocalFineTunerCLITests: XCTestCase {
    var home: URL!
    var store: Store!
    var experimentID: Int64!

    override func setUpWithError() throws {
        home = try temporaryHome()
        try TinyChatModel.install(in: home, examples: 6)
        store = try Store(path: home.appendingPathComponent("hellotune.sqlite").path)
        experimentID = try store.createExperiment(name: "local", config: "{}").id
    }

    func makeTuner(worker: Bool) -> LocalFineTuner {
        var o = TrainingOptions()
        o.epochs = 1
        o.learningRate = 1e-2
        o.lora = LoRAConfig(rank: 4, alpha: 8)
        o.checkpointEvery = 0
        let tuner = LocalFineTuner(store: store, modelPath: TinyChatModel.modelPath(in: home), options: o,
                                   workerBinary: worker ? CLI.binary : nil)
        tuner.workerEnvironment = ["HELLOTUNE_HOME": home.path]
        return tuner
    }

    func makeRequest(_ run: String, seed: UInt64 = 3) throws -> FineTuneRequest {
        let folder = home.appendingPathComponent("runs/\(run)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return FineTuneRequest(data: URL(fileURLWithPath: TinyChatModel.dataPath(in: home)), folder: folder, seed: seed,
                               suffix: run, experimentID: experimentID)
    }

    /// The folder of an adapter result (its path: a URL made from a directory's path ends in "/").
    func folder(_ outcome: FineTuneOutcome) -> String? {
        guard case let .adapter(url) = outcome.result else { return nil }
        return url.standardizedFileURL.path
    }

    func hasAdapter(_ folder: URL) -> Bool {
        FileManager.default.fileExists(atPath: folder.appendingPathComponent(AdapterIO.peftWeightsFile).path)
    }

    func testTrainsInAWorkerLikeInThisProcessAndReusesTheAdapter() throws {
        let tuner = makeTuner(worker: true)
        let request = try makeRequest("worker")
        guard case let .submitted(jobID) = try tuner.submit(request, progress: { _ in }) else {
            return XCTFail("a new request is submitted")
        }
        var steps: [FineTuneProgress] = []
        let outcome = try tuner.follow(jobID: jobID, cancel: CancellationFlag()) { steps.append($0) }
        XCTAssertEqual(folder(outcome), request.folder.path)
        XCTAssertNil(outcome.summary)
        XCTAssertTrue(hasAdapter(request.folder))
        let job = try XCTUnwrap(store.job(jobID))
        XCTAssertEqual(job.status, .succeeded)
        XCTAssertEqual(job.backend, "local")
        XCTAssertEqual(try TrainingJobSpec.decode(job.config).options.seed, 3)
        XCTAssertEqual(steps.last?.step, job.totalSteps)
        XCTAssertTrue(FileManager.default.fileExists(atPath: request.folder.appendingPathComponent("worker.log").path))

        // A finished adapter is reused: no second job.
        guard case let .finished(again) = try tuner.submit(request, progress: { _ in }) else {
            return XCTFail("a finished adapter is reused")
        }
        XCTAssertEqual(folder(again), request.folder.path)
        XCTAssertEqual(try store.jobs(experimentID: experimentID).count, 1)

        // Without a worker binary, the same protocol trains in this process. (Not compared bit for bit with the
        // worker's adapter: the binary picks OpenBLAS's kernel itself, this test process gets OpenBLAS's own choice.)
        let here = try makeRequest("here")
        let trained = try makeTuner(worker: false).fineTune(here, cancel: CancellationFlag(), progress: { _ in })
        XCTAssertEqual(folder(trained), here.folder.path)
        XCTAssertTrue(hasAdapter(here.folder))
        XCTAssertEqual(try store.jobs(experimentID: experimentID).map(\.status), [.succeeded, .succeeded])
    }

    func testACancelledJobResumesInAWorker() throws {
        let inProcess = makeTuner(worker: false)
        let request = try makeRequest("resume")
        // Without a worker binary, submit only queues the job: follow would train it here.
        guard case let .submitted(jobID) = try inProcess.submit(request, progress: { _ in }) else {
            return XCTFail("a new request is submitted")
        }
        XCTAssertEqual(try inProcess.cancel(jobID: jobID).status, .cancelled)
        XCTAssertThrowsError(try inProcess.resume(jobID: jobID)) {
            XCTAssertEqual($0 as? TrainingJobResume.Refusal, .noWorker(job: jobID))
        }
        let tuner = makeTuner(worker: true)
        let message = try tuner.resume(jobID: jobID)
        XCTAssertTrue(message.hasPrefix("resuming job \(jobID) from the start (no checkpoint) in a detached worker"), message)
        XCTAssertEqual(folder(try tuner.follow(jobID: jobID, cancel: CancellationFlag(), progress: { _ in })), request.folder.path)
        XCTAssertTrue(hasAdapter(request.folder))
        XCTAssertEqual(try store.job(jobID)?.status, .succeeded)
        XCTAssertThrowsError(try tuner.resume(jobID: jobID)) {
            XCTAssertEqual($0 as? TrainingJobResume.Refusal, .finished(job: jobID))
        }
    }
}
