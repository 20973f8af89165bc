import Foundation
import Support
import ModelCore
import Training
import Store

/// Training runs on disk: every folder under `runs/` that has `training.json` (the summary of a
/// finished or cancelled run) and/or `checkpoint.bin`, plus `log.jsonl` (`hellotune train --json`
/// output). A folder with only a log is listed too, as long as the log has a `started` event.
public struct LocalRunsJobSource: JobSource {
    public var runsDirectory: URL
    /// A run whose log changed less than this long ago, and that has not finished, counts as running.
    public var runningWindow: TimeInterval
    /// The `hellotune` binary used to resume runs.
    public var executable: String?

    public init(runsDirectory: URL = Paths.home.appendingPathComponent("runs"), runningWindow: TimeInterval = 120,
                executable: String? = nil) {
        self.runsDirectory = runsDirectory
        self.runningWindow = runningWindow
        self.executable = executable
    }

    static let logFile = "log.jsonl"
    static let summaryFile = "training.json"
    static let pidFile = "pid"
    /// stderr of a training run resumed from the Jobs screen.
    static let errorLogFile = "train.err.log"

    func folders() -> [URL] {
        let fm = FileManager.default
        let names = (try? fm.contentsOfDirectory(atPath: runsDirectory.path)) ?? []
        return names.sorted().map { runsDirectory.appendingPathComponent($0) }.filter { url in
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue else { return false }
            return [Self.summaryFile, Checkpoint.fileName, Self.logFile].contains {
                fm.fileExists(atPath: url.appendingPathComponent($0).path)
            }
        }
    }

    public func listJobs() async throws -> [JobSummary] {
        folders().compactMap { summary(of: $0) }
    }

    private let parsedLogs = ParsedFileCache<[JobEvent]>()

    func readEvents(_ folder: URL) -> [JobEvent] {
        parsedLogs.value(at: folder.appendingPathComponent(Self.logFile).path) { data in
            String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
                .compactMap { JobEvent.parse(jsonLine: String($0)) }
        } ?? []
    }

    func summary(of folder: URL) -> JobSummary? {
        let fm = FileManager.default
        let name = folder.lastPathComponent
        let events = readEvents(folder)
        var job = JobSummary(id: name, kind: "train", backend: "local", status: nil, folder: folder.path)
        let hasCheckpoint = fm.fileExists(atPath: folder.appendingPathComponent(Checkpoint.fileName).path)
        let hasAdapter = fm.fileExists(atPath: folder.appendingPathComponent(AdapterIO.ggufFile).path)
            || fm.fileExists(atPath: folder.appendingPathComponent(AdapterIO.peftWeightsFile).path)
        if hasAdapter { job.adapterPath = folder.path }
        var finishedInLog: JobEvent?
        for e in events {
            switch e {
            case let .started(total, start, _, _):
                job.totalSteps = total
                job.step = start
            case let .step(s, total, _, loss, tps, eta):
                job.step = s
                job.totalSteps = total
                job.loss = loss
                job.tokensPerSecond = tps
                job.etaSeconds = eta
            case let .finished(steps, _, _, _, _):
                job.step = steps
                finishedInLog = e
            default: break
            }
        }
        if let data = fm.contents(atPath: folder.appendingPathComponent(Self.summaryFile).path) {
            guard let s = try? JSONDecoder().decode(TrainingSummary.self, from: data) else {
                job.status = .failed
                job.note = "training.json is unreadable"
                return job
            }
            job.status = s.cancelled ? .cancelled : .succeeded
            job.step = s.steps
            if job.totalSteps == 0, !s.cancelled { job.totalSteps = s.steps }
            if job.loss == nil || !s.cancelled { job.loss = s.finalLoss }
            job.etaSeconds = nil
            if !s.cancelled, let tps = s.epochTokensPerSecond.last { job.tokensPerSecond = tps }
            return job
        }
        if case let .finished(_, _, _, cancelled, _)? = finishedInLog {
            job.status = cancelled ? .cancelled : .succeeded
            job.etaSeconds = nil
            return job
        }
        if hasCheckpoint, let ck = try? Checkpoint.read(from: folder.appendingPathComponent(Checkpoint.fileName)) {
            job.step = max(job.step, ck.header.step)
            if job.totalSteps == 0 { job.note = "checkpoint at step \(ck.header.step)" }
            if job.loss == nil { job.loss = ck.header.epochLosses.last }
        }
        if events.isEmpty && !hasCheckpoint { return nil }
        let logDate = (try? fm.attributesOfItem(atPath: folder.appendingPathComponent(Self.logFile).path))?[.modificationDate] as? Date
        let recent = logDate.map { Date().timeIntervalSince($0) < runningWindow } ?? false
        if recent || processAlive(folder) {
            job.status = .running
        } else {
            job.status = .interrupted
            job.etaSeconds = nil
            job.tokensPerSecond = nil
            job.note = hasCheckpoint ? "stopped; resumable from its checkpoint" : "stopped before its first checkpoint"
        }
        return job
    }

    func pid(_ folder: URL) -> Int32? {
        guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(Self.pidFile).path) else { return nil }
        return Int32(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func processAlive(_ folder: URL) -> Bool {
        guard let p = pid(folder), p > 0 else { return false }
        return kill(p, 0) == 0
    }

    public func events(of jobID: String) async throws -> [JobEvent] {
        readEvents(runsDirectory.appendingPathComponent(jobID))
    }

    public func cancel(_ jobID: String) async throws -> String {
        let folder = runsDirectory.appendingPathComponent(jobID)
        guard let p = pid(folder), p > 0, kill(p, 0) == 0 else {
            throw JobSourceError("\(jobID) has no running process started from here; stop it with Ctrl-C where it runs (its checkpoint lets it resume)")
        }
        guard kill(p, SIGINT) == 0 else { throw JobSourceError("could not signal process \(p): \(String(cString: strerror(errno)))") }
        return "asked \(jobID) (pid \(p)) to stop; resume it later with r"
    }

    /// Continues a run from its checkpoint in a child process (`hellotune train --resume`), appending
    /// to its log. Needs the run's training data as `data.jsonl` (or `dataset.jsonl`) in the folder.
    public func resume(_ jobID: String) async throws -> String {
        let folder = runsDirectory.appendingPathComponent(jobID)
        let fm = FileManager.default
        let ckURL = folder.appendingPathComponent(Checkpoint.fileName)
        guard fm.fileExists(atPath: ckURL.path) else { throw JobSourceError("\(jobID) has no checkpoint to resume from") }
        if processAlive(folder) { throw JobSourceError("\(jobID) is still running") }
        if let data = fm.contents(atPath: folder.appendingPathComponent(Self.summaryFile).path),
           let s = try? JSONDecoder().decode(TrainingSummary.self, from: data), !s.cancelled {
            throw JobSourceError("\(jobID) has finished; nothing to resume")
        }
        guard let data = ["data.jsonl", "dataset.jsonl", "train.jsonl"].map({ folder.appendingPathComponent($0) })
            .first(where: { fm.fileExists(atPath: $0.path) }) else {
            throw JobSourceError("\(jobID): no data.jsonl in the run folder; resume with `hellotune train --resume --data FILE --out \(folder.path)`")
        }
        let ck: Checkpoint
        do { ck = try Checkpoint.read(from: ckURL) } catch { throw JobSourceError("\(jobID): \(error)") }
        let o = ck.header.options
        var args = ["train", "--resume", "--json", "--data", data.path, "--out", folder.path,
                    "--epochs", String(o.epochs), "--lr", String(o.learningRate), "--rank", String(o.lora.rank),
                    "--alpha", String(o.lora.alpha), "--dropout", String(o.lora.dropout),
                    "--targets", o.lora.targets.map(\.rawValue).joined(separator: ","), "--batch-size", String(o.batchSize),
                    "--seed", String(o.seed), "--warmup", String(o.warmupSteps), "--schedule", o.schedule.rawValue,
                    "--max-grad-norm", String(o.maxGradNorm), "--weight-decay", String(o.weightDecay),
                    "--checkpoint-every", String(o.checkpointEvery), "--val-split", String(o.validationShare ?? 0)]
        if !o.shuffle { args.append("--no-shuffle") }
        // The model it was trained on; older checkpoints did not record it, and resume with the default one.
        if let model = ck.header.modelPath { args += ["--model", model] }
        let exe = executable ?? CommandLine.arguments[0]
        // Its own session, as every job started from here: closing the terminal does not stop it. Its events
        // go on in log.jsonl; what it says on stderr goes to train.err.log, which keeps log.jsonl one event a line.
        let process: SessionProcess
        do {
            process = try SessionProcess.start(exe, args, appendingTo: folder.appendingPathComponent(Self.logFile),
                                               errorsTo: folder.appendingPathComponent(Self.errorLogFile))
        } catch {
            throw JobSourceError("\(error)")
        }
        try? AtomicFile.write(Data(String(process.pid).utf8), to: folder.appendingPathComponent(Self.pidFile))
        return "resuming \(jobID) from step \(ck.header.step) (pid \(process.pid))"
    }
}
