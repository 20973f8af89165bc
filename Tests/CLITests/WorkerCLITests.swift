import Foundation
import TestSupport
import XCTest
import ModelCore
import Training
import Store
import Backends
import Experiment

/// `hellotune worker`, the detached process that trains one job of the store (what `hellotune run` starts),
/// killed with SIGKILL at random moments: `hellotune jobs` shows the job interrupted, a new worker resumes it,
/// and the adapter matches an uninterrupted run. Uses a tiny model so that a trial takes about a second.
final class WorkerCLITests: XCTestCase {
    var home: URL!
    var env: [String: String] { ["HELLOTUNE_HOME": home.path] }
    var modelPath: String { TinyChatModel.modelPath(in: home) }
    var dataPath: String { TinyChatModel.dataPath(in: home) }

    override func setUpWithError() throws {
        home = try temporaryHome()
        try TinyChatModel.install(in: home, examples: 6)
    }

    func store() throws -> Store { try Store(path: home.appendingPathComponent("hellotune.sqlite").path) }

    /// 12 steps, a checkpoint every 2, so kills land before, between and during checkpoint writes.
    func createJob(_ store: Store, name: String, epochs: Int = 2) throws -> (job: JobRecord, out: URL) {
        var o = TrainingOptions()
        o.epochs = epochs
        o.learningRate = 1e-2
        o.seed = 5
        o.lora = LoRAConfig(rank: 4, alpha: 8)
        o.checkpointEvery = 2
        let out = home.appendingPathComponent("runs/\(name)")
        let spec = TrainingJobSpec(model: modelPath, data: dataPath, outputDirectory: out.path, options: o)
        let job = try store.createJob(experimentID: nil, kind: "train", backend: "local", config: spec.json(),
                                      outputDir: out.path)
        return (job, out)
    }

    func startWorker(_ id: Int64, log: URL? = nil) throws -> Process {
        try CLI.start(["worker", "--job", String(id)], env: env, log: log)
    }

    /// Waits until the worker has claimed the job (recorded its pid), as `hellotune run` sees it. False when
    /// the worker ended first (a busy machine can keep this process from looking for the whole job).
    @discardableResult
    func waitForClaim(_ store: Store, _ id: Int64, worker: Process) throws -> Bool {
        let deadline = Date().addingTimeInterval(120)
        while try store.job(id)?.pid != worker.processIdentifier {
            if !worker.isRunning { return false }
            guard Date() < deadline else { throw Timeout(what: "worker \(worker.processIdentifier) to claim job \(id)") }
            usleep(1_000)
        }
        return true
    }

    func adapterValues(_ dir: URL) throws -> [String: [Float]] {
        let f = try SafetensorsFile(path: dir.appendingPathComponent("adapter_model.safetensors").path)
        var out: [String: [Float]] = [:]
        for name in f.tensorNames { out[name] = try f.floats(name) }
        return out
    }

    /// The largest relative difference over every value of every tensor (infinity when the tensors differ in kind).
    func worstDifference(_ a: [String: [Float]], _ b: [String: [Float]]) -> Float {
        guard a.keys.sorted() == b.keys.sorted() else { return .infinity }
        var worst: Float = 0
        for (name, va) in a {
            guard let vb = b[name], vb.count == va.count else { return .infinity }
            for i in va.indices { worst = max(worst, abs(va[i] - vb[i]) / max(1e-3, abs(va[i]))) }
        }
        return worst
    }

    /// A finished job is not trained again by a worker started on it: that would overwrite its adapter.
    func testAWorkerRefusesAFinishedJob() throws {
        let store = try store()
        let (job, out) = try createJob(store, name: "done", epochs: 1)
        let first = try CLI.run(["worker", "--job", String(job.id)], env: env)
        XCTAssertEqual(first.status, 0, first.stderr)
        let finished = try XCTUnwrap(store.job(job.id))
        XCTAssertEqual(finished.status, .succeeded)
        let adapter = out.appendingPathComponent(AdapterIO.peftWeightsFile)
        let bytes = try Data(contentsOf: adapter)
        let modified = try FileManager.default.attributesOfItem(atPath: adapter.path)[.modificationDate] as? Date

        let again = try CLI.run(["worker", "--job", String(job.id)], env: env)
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("training job \(job.id) has already finished (its adapter is in \(out.path)); nothing to run."),
                      again.stderr)
        XCTAssertEqual(try store.job(job.id), finished)
        XCTAssertEqual(try Data(contentsOf: adapter), bytes)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: adapter.path)[.modificationDate] as? Date, modified)
    }

    func testKilledWorkersAreInterruptedAndResumeToTheUninterruptedAdapter() throws {
        let store = try store()
        // The uninterrupted run, timed from the moment its worker claims the job: kills land within that span.
        let (baseJob, baseOut) = try createJob(store, name: "uninterrupted")
        let base = try startWorker(baseJob.id)
        let started = Date()
        let seenClaim = try waitForClaim(store, baseJob.id, worker: base)
        let claimed = seenClaim ? Date() : started
        base.waitUntilExit()
        var span = Date().timeIntervalSince(claimed)
        XCTAssertEqual(base.terminationStatus, 0)
        XCTAssertEqual(try store.job(baseJob.id)?.status, .succeeded)
        let reference = try adapterValues(baseOut)
        let totalSteps = try XCTUnwrap(store.job(baseJob.id)?.totalSteps)

        var rng = SplitMix64(seed: 0x6B11_1ED)
        let wanted = 20
        var passed = 0, attempts = 0, tooLate = 0
        var worst: Float = 0
        var report: [String] = []
        while passed < wanted, attempts < wanted * 3 {
            attempts += 1
            let delay = rng.nextDouble() * 0.9 * span
            let (job, out) = try createJob(store, name: "trial-\(attempts)")
            let worker = try startWorker(job.id)
            if try waitForClaim(store, job.id, worker: worker) { usleep(UInt32(delay * 1e6)) }
            kill(worker.processIdentifier, SIGKILL)
            worker.waitUntilExit()
            let killed = try XCTUnwrap(store.job(job.id))
            if killed.status == .succeeded {
                // The machine ran this trial faster than the reference: nothing was interrupted. Draw again,
                // from a span no longer than this run took.
                tooLate += 1
                span = min(span, delay)
                continue
            }
            var ok = worker.terminationReason == .uncaughtSignal
            XCTAssertEqual(worker.terminationReason, .uncaughtSignal, "trial \(attempts)")
            let checkpoint = out.appendingPathComponent(Checkpoint.fileName)
            var savedStep = 0
            if FileManager.default.fileExists(atPath: checkpoint.path) {
                // Written atomically: whatever the moment of the kill, the file is whole.
                do { savedStep = try Checkpoint.read(from: checkpoint).header.step } catch {
                    XCTFail("trial \(attempts): \(error)")
                    ok = false
                }
            }

            let list = try CLI.run(["jobs", "list", "--json"], env: env)
            let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]], list.stderr)
            let status = rows.first { ($0["id"] as? Int).map(Int64.init) == job.id }?["status"] as? String
            XCTAssertEqual(status, "interrupted", "trial \(attempts): \(list.stdout)")
            ok = ok && status == "interrupted"
            let show = try CLI.run(["jobs", "show", String(job.id)], env: env)
            let shown = show.stdout.contains("job \(job.id): train on local, interrupted")
                && show.stdout.contains("ended without recording a result")
            XCTAssertTrue(shown, "trial \(attempts): \(show.stdout)\(show.stderr)")
            ok = ok && shown

            let resumed = try CLI.run(["worker", "--job", String(job.id)], env: env)
            XCTAssertEqual(resumed.status, 0, "trial \(attempts): \(resumed.stderr)")
            let final = try store.job(job.id)
            XCTAssertEqual(final?.status, .succeeded, "trial \(attempts)")
            let difference = try worstDifference(reference, adapterValues(out))
            XCTAssertLessThan(difference, 1e-3, "trial \(attempts): largest relative difference from the uninterrupted adapter")
            ok = ok && resumed.status == 0 && final?.status == .succeeded && difference < 1e-3
            worst = max(worst, difference)
            if ok { passed += 1 }
            report.append("trial \(attempts): killed " + String(format: "%.3f", delay) + " s after the claim, at step "
                + "\(killed.step ?? 0)/\(totalSteps) (checkpoint of step \(savedStep)); interrupted, resumed, adapter "
                + "difference " + String(format: "%.2g", difference) + (ok ? "" : " FAILED"))
        }
        print(report.joined(separator: "\n"))
        print(String(format: "worker kill -9: %d/%d trials passed (kills drawn within %.2f s of the claim, %d draws "
            + "finished before the kill and were drawn again, worst adapter difference %.2g)",
            passed, wanted, span, tooLate, worst))
        XCTAssertEqual(passed, wanted, "\(passed)/\(wanted) trials")
    }

    /// Store durability across processes: training workers record every step (a row update and an event)
    /// while `hellotune run` evaluates (a row per sample) and `hellotune jobs list` checks for dead workers,
    /// all on one database. Nothing may fail with "database is locked", and nothing may be lost: the worker
    /// only logs a failed record and trains on, so every step must have its event.
    func testWorkersAndAnEvaluationWritingAtOnceLoseNothing() throws {
        let store = try store()
        let experiment = try TinyChatModel.experiment(name: "busy", in: home, acrostic: 3, normal: 3,
                                                      complianceQuestions: 2, samplesPerPrompt: 3, maxTokens: 16)
        let runLog = home.appendingPathComponent("run.out")
        _ = FileManager.default.createFile(atPath: runLog.path, contents: nil)
        let run = Process()
        run.executableURL = CLI.binary
        run.arguments = ["run", experiment.path, "--headless", "--json"]
        run.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        run.standardOutput = try FileHandle(forWritingTo: runLog)
        run.standardError = FileHandle.nullDevice

        // A worker is writing the whole time the run runs: when one finishes, the next starts.
        var workers: [(job: JobRecord, process: Process, log: URL)] = []
        func startNext() throws {
            let (job, _) = try createJob(store, name: "busy-\(workers.count)", epochs: 4)
            let log = home.appendingPathComponent("worker-\(workers.count).log")
            workers.append((job, try startWorker(job.id, log: log), log))
        }
        try startNext()
        try waitForClaim(store, workers[0].job.id, worker: workers[0].process)
        try run.run()
        var lists: [CLI.Result] = []
        while run.isRunning {
            if !workers.last!.process.isRunning { try startNext() }
            lists.append(try CLI.run(["jobs", "list"], env: env))
        }
        run.waitUntilExit()
        for w in workers { w.process.waitUntilExit() }

        XCTAssertEqual(run.terminationStatus, 0)
        let outcome = try JSONSerialization.jsonObject(with: Data(contentsOf: runLog)) as? [String: Any]
        let samples = try XCTUnwrap(outcome?["samples_generated"] as? Int)
        // Per model, besides compliance, self-reports and the probes: 20 reading-control acrostics asked two ways and
        // forced choice v2's 10 prompts (the tiny model writes no exact acrostic, so nothing of its own is read).
        XCTAssertEqual(samples, 2 * (2 * 2 * 3 + 24 * 2 * 1 + 1 + 6 + 40 + 10))
        let experimentID = try XCTUnwrap(store.experiments().first { $0.name == "busy" }?.id)
        XCTAssertEqual(try store.samples(experimentID: experimentID).count, samples)
        var steps = 0
        for w in workers {
            let output = try String(contentsOf: w.log, encoding: .utf8)
            XCTAssertEqual(w.process.terminationStatus, 0, output)
            XCTAssertFalse(output.contains("could not record"), output)
            XCTAssertFalse(output.contains("locked"), output)
            let job = try XCTUnwrap(store.job(w.job.id))
            XCTAssertEqual(job.status, .succeeded)
            let total = try XCTUnwrap(job.totalSteps)
            let recorded = try store.events(jobID: job.id, limit: 10_000).filter { $0.kind == "step" }.count
            XCTAssertEqual(recorded, total, "job \(job.id): one event per step")
            XCTAssertEqual(job.step, total)
            steps += recorded
        }
        for r in lists {
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertFalse(r.stderr.contains("locked"), r.stderr)
        }
        XCTAssertEqual(try store.integrityCheck(), "ok")
        print("store under load: \(workers.count) workers recorded \(steps) steps while the run stored \(samples) "
            + "samples and \(lists.count) `jobs list` ran; none failed")
    }
}

struct Timeout: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}
