import Foundation
import Support
import ModelCore
import Training
import Store

public enum JobStatus: String, Codable, Equatable, Sendable, CaseIterable {
    case queued, running, stopped, cancelled, finished, failed, unknown
}

/// One fine-tuning job as the Jobs screen lists it.
public struct JobSummary: Equatable, Sendable, Identifiable {
    /// Stable id: the run folder's name for local runs, `#N` for jobs in the store.
    public var id: String
    public var name: String
    /// "train", "generate", "evaluate" (store jobs) or "run" (a `hellotune run` started from here); nil when unknown.
    public var kind: String?
    /// "local" or "openai"; nil when unknown.
    public var backend: String?
    public var status: JobStatus
    public var step: Int
    public var totalSteps: Int
    public var loss: Double?
    public var tokensPerSecond: Double?
    public var etaSeconds: Double?
    /// Folder holding the adapter (for the playground), when one has been written.
    public var adapterPath: String?
    /// Folder of the run, when it has one.
    public var folder: String?
    /// Why it failed or other one-line detail.
    public var note: String?

    public init(id: String, name: String? = nil, kind: String? = nil, backend: String? = nil, status: JobStatus, step: Int = 0,
                totalSteps: Int = 0, loss: Double? = nil, tokensPerSecond: Double? = nil, etaSeconds: Double? = nil,
                adapterPath: String? = nil, folder: String? = nil, note: String? = nil) {
        self.id = id
        self.name = name ?? id
        self.kind = kind
        self.backend = backend
        self.status = status
        self.step = step
        self.totalSteps = totalSteps
        self.loss = loss
        self.tokensPerSecond = tokensPerSecond
        self.etaSeconds = etaSeconds
        self.adapterPath = adapterPath
        self.folder = folder
        self.note = note
    }

    public var progress: Double { totalSteps > 0 ? min(1, Double(step) / Double(totalSteps)) : (status == .finished ? 1 : 0) }
}

/// One event of a job's log (`hellotune train --json` lines, `TrainingEvent.jsonObject`).
public enum JobEvent: Equatable, Sendable {
    case started(totalSteps: Int, startStep: Int, examples: Int, tokensPerEpoch: Int)
    case step(step: Int, totalSteps: Int, epoch: Int, loss: Double, tokensPerSecond: Double, etaSeconds: Double)
    case epoch(epoch: Int, meanLoss: Double, tokensPerSecond: Double)
    case checkpoint(step: Int, path: String)
    case finished(steps: Int, finalLoss: Double, seconds: Double, cancelled: Bool, adapter: String?)
    case message(String)

    /// Reads one log line; nil for blank lines, `.message` for lines that are not known events.
    public static func parse(jsonLine line: String) -> JobEvent? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        guard let obj = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any],
              let kind = obj["event"] as? String else { return .message(trimmed) }
        func int(_ k: String) -> Int { (obj[k] as? NSNumber)?.intValue ?? 0 }
        func dbl(_ k: String) -> Double { (obj[k] as? NSNumber)?.doubleValue ?? 0 }
        switch kind {
        case "started":
            return .started(totalSteps: int("total_steps"), startStep: int("start_step"), examples: int("examples"),
                            tokensPerEpoch: int("tokens_per_epoch"))
        case "step":
            return .step(step: int("step"), totalSteps: int("total_steps"), epoch: int("epoch"), loss: dbl("loss"),
                         tokensPerSecond: dbl("tok_s"), etaSeconds: dbl("eta_s"))
        case "epoch":
            return .epoch(epoch: int("epoch"), meanLoss: dbl("mean_loss"), tokensPerSecond: dbl("tok_s"))
        case "checkpoint":
            return .checkpoint(step: int("step"), path: obj["path"] as? String ?? "")
        case "finished":
            return .finished(steps: int("steps"), finalLoss: dbl("final_loss"), seconds: dbl("seconds"),
                             cancelled: (obj["cancelled"] as? Bool) ?? false, adapter: obj["adapter"] as? String)
        default:
            return .message(trimmed)
        }
    }

    /// One line for the detail pane's event list.
    public var summary: String {
        switch self {
        case let .started(total, start, n, tokens):
            return "started: \(n) examples, \(tokens) tokens/epoch, \(total) steps" + (start > 0 ? ", resumed after \(start)" : "")
        case let .step(s, total, epoch, loss, tps, _):
            return String(format: "step %d/%d  epoch %d  loss %.4f  %.0f tok/s", s, total, epoch, loss, tps)
        case let .epoch(e, loss, tps):
            return String(format: "epoch %d done: mean loss %.4f, %.0f tok/s", e, loss, tps)
        case let .checkpoint(step, path):
            return "checkpoint at step \(step): \(URL(fileURLWithPath: path).lastPathComponent)"
        case let .finished(steps, loss, seconds, cancelled, _):
            return cancelled ? String(format: "cancelled after %d steps (%.0f s)", steps, seconds)
                : String(format: "finished: %d steps, final loss %.4f, %.0f s", steps, loss, seconds)
        case let .message(m):
            return m
        }
    }
}

/// Where the Jobs screen gets its jobs: `StoreJobSource` (jobs in the store), `LaunchedRunsJobSource` (`hellotune run`
/// processes started from here) and `LocalRunsJobSource` (run folders on disk), merged by `MergedJobSource`.
public protocol JobSource: Sendable {
    func listJobs() async throws -> [JobSummary]
    func events(of jobID: String) async throws -> [JobEvent]
    /// Returns a one-line message for the status bar.
    func cancel(_ jobID: String) async throws -> String
    func resume(_ jobID: String) async throws -> String
}

public struct JobSourceError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

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
        var job = JobSummary(id: name, kind: "train", backend: "local", status: .unknown, folder: folder.path)
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
            job.status = s.cancelled ? .cancelled : .finished
            job.step = s.steps
            if job.totalSteps == 0, !s.cancelled { job.totalSteps = s.steps }
            if job.loss == nil || !s.cancelled { job.loss = s.finalLoss }
            job.etaSeconds = nil
            if !s.cancelled, let tps = s.epochTokensPerSecond.last { job.tokensPerSecond = tps }
            return job
        }
        if case let .finished(_, _, _, cancelled, _)? = finishedInLog {
            job.status = cancelled ? .cancelled : .finished
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
            job.status = .stopped
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
                    "--checkpoint-every", String(o.checkpointEvery)]
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
