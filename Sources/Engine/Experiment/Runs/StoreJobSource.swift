import Foundation
import Support
import ModelCore
import Store
import Backends

/// Jobs recorded in the store ($HELLOTUNE_HOME/hellotune.sqlite) by `hellotune run` and its workers, on any
/// backend. Only reads the store: a worker that died shows as stopped here without this source writing
/// anything (`hellotune jobs list` records that), and reads never wait for a worker's writes (WAL). Cancel and
/// resume run the CLI itself (`hellotune jobs cancel N`, `hellotune worker --job N`), so they behave exactly
/// as they do from a shell. Job ids on screen are `#N`.
public final class StoreJobSource: JobSource, @unchecked Sendable {
    public let home: URL
    /// The `hellotune` binary for cancel and resume.
    public let executable: String
    public var storePath: String { home.appendingPathComponent("hellotune.sqlite").path }

    private let lock = NSLock()
    private var opened: Store?
    /// Each job's events read so far, so a poll reads only the new ones.
    private var cache: [Int64: (lastID: Int64, events: [JobEvent])] = [:]
    /// Most events kept per job (the loss chart and the recent list need far fewer).
    static let eventLimit = 20_000

    public init(home: URL = Paths.home, executable: String) {
        self.home = home
        self.executable = executable
    }

    /// The store, opened on first use; nil while no store file exists (nothing has been recorded yet), so that
    /// looking never creates one.
    func store() throws -> Store? {
        lock.lock()
        defer { lock.unlock() }
        if let opened { return opened }
        guard FileManager.default.fileExists(atPath: storePath) else { return nil }
        let store = try Store(path: storePath)
        opened = store
        return store
    }

    public static func jobID(_ id: String) -> Int64? {
        guard id.hasPrefix("#") else { return nil }
        return Int64(id.dropFirst())
    }

    private let listing = StoreJobListing()

    /// Newest first: the job just started is at the top. Kept between calls: a call reads only the jobs that changed
    /// since the last one, and none when nothing was committed (see `StoreJobListing`).
    public func listJobs() async throws -> [JobSummary] {
        guard let store = try store() else { return [] }
        return try listing.jobs(in: store)
    }

    /// Whole job rows the last `listJobs` read from the store: all of them the first time, then only those that changed.
    public var rowsReadByLastList: Int { listing.rowsRead }

    public func events(of jobID: String) async throws -> [JobEvent] {
        guard let id = Self.jobID(jobID) else { throw JobSourceError("\(jobID) is not a job in the store") }
        guard let store = try store() else { return [] }
        var (lastID, events) = lock.withLock { cache[id] ?? (0, []) }
        while true {
            let page = try store.events(jobID: id, afterID: lastID, limit: 2000)
            events += page.compactMap(Self.event)
            lastID = page.last?.id ?? lastID
            if page.count < 2000 { break }
        }
        if events.count > Self.eventLimit { events.removeFirst(events.count - Self.eventLimit) }
        lock.withLock { cache[id] = (lastID, events) }
        return events
    }

    /// `hellotune jobs cancel N`: SIGTERM to a local worker (it stops after its step, with a checkpoint), a cancel
    /// request for a remote job.
    public func cancel(_ jobID: String) async throws -> String {
        guard let id = Self.jobID(jobID) else { throw JobSourceError("\(jobID) is not a job in the store") }
        return try runCLI(["jobs", "cancel", String(id)])
    }

    /// Starts the job's worker again, detached (`hellotune worker --job N`, as `hellotune run` starts it); it
    /// continues from the checkpoint in the job's folder. Only local training jobs that stopped can resume.
    public func resume(_ jobID: String) async throws -> String {
        guard let id = Self.jobID(jobID) else { throw JobSourceError("\(jobID) is not a job in the store") }
        guard let store = try store(), let job = try store.job(id) else {
            throw JobSourceError("job \(id) is not in the store (see `hellotune jobs list`)")
        }
        // A remote job resumes through its API, as `hellotune jobs resume N` does it from a shell; one that has ended
        // is refused here, without a process and an API call that could only say so.
        if job.backend != "local" {
            if let status = job.status, [.succeeded, .failed, .cancelled].contains(status) {
                throw JobSourceError("job \(id) runs on \(job.backend) and is \(job.statusText): only a paused one resumes "
                                     + "(or one whose submission stopped halfway)")
            }
            return try runCLI(["jobs", "resume", String(id)])
        }
        do {
            let started = try TrainingJobResume.start(job, executable: executable, environment: ["HELLOTUNE_HOME": home.path])
            return started.message + "; output in \(abbreviatePath(started.log.path))"
        } catch {
            throw JobSourceError("\(error)")
        }
    }

    /// Runs `hellotune ARGS` against this store; its message, or its error as a `JobSourceError`.
    func runCLI(_ args: [String]) throws -> String {
        let r = try DetachedProcess.run(executable, args, environment: ["HELLOTUNE_HOME": home.path])
        let out = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var err = r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        if err.hasPrefix("Error: ") { err.removeFirst("Error: ".count) }
        guard r.status == 0 else {
            throw JobSourceError(err.isEmpty ? "hellotune \(args.joined(separator: " ")) failed (exit \(r.status))" : err)
        }
        return out.isEmpty ? err : out
    }

    // MARK: - Reading records

    /// A metrics point from events: a local worker's `step` line or an OpenAI `metrics` event.
    struct Metrics: Equatable {
        var step: Int?
        var totalSteps: Int?
        var loss: Double?
    }

    static func latestMetrics(_ events: [EventRecord]) -> Metrics? {
        for record in events.reversed() {
            if case let .step(step, total, _, loss, _, _)? = event(record) {
                return Metrics(step: step, totalSteps: total > 0 ? total : nil, loss: loss)
            }
        }
        return nil
    }

    static func object(_ payload: String) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any]
    }

    /// One stored event as the Jobs screen shows it. A local worker stores its log.jsonl lines; an OpenAI event
    /// has a message and, for metrics, `data` with step and train_loss.
    static func event(_ record: EventRecord) -> JobEvent? {
        guard let obj = object(record.payload) else {
            let text = record.payload.trimmingCharacters(in: .whitespacesAndNewlines)
            let plain = (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) as? String
            return text.isEmpty ? nil : .message("\(record.kind): \(plain ?? text)")
        }
        if obj["event"] is String { return JobEvent.parse(jsonLine: record.payload) }
        let data = obj["data"] as? [String: Any] ?? obj
        func number(_ key: String) -> Double? { (data[key] as? NSNumber)?.doubleValue }
        if let loss = number("train_loss") ?? number("loss"), let step = number("step") {
            return .step(step: Int(step), totalSteps: Int(number("total_steps") ?? 0), epoch: Int(number("epoch") ?? 0),
                         loss: loss, tokensPerSecond: number("tok_s") ?? 0, etaSeconds: number("eta_s") ?? 0)
        }
        if let message = obj["message"] as? String ?? obj["text"] as? String { return .message(message) }
        return .message("\(record.kind): \(record.payload)")
    }

    static func status(_ job: JobRecord) -> (JobStatus?, note: String?) {
        switch job.status {
        case .running?:
            if job.backend == "local", let pid = job.pid, !ProcessLiveness.isAlive(pid) {
                return (.interrupted, "interrupted: its worker (pid \(pid)) is gone; r resumes it from its checkpoint")
            }
            return (.running, nil)
        case .validating?: return (.validating, "validating")
        case .paused?:
            return (.paused, job.backend == "openai" ? "paused by the API: r resumes it, x cancels it" : "paused")
        case .interrupted?: return (.interrupted, "interrupted: r resumes it from its checkpoint")
        case let status?: return (status, nil)
        case nil:
            if job.statusText == "cancel-requested" { return (.running, "cancel requested; its \(job.backend) worker cancels it on its next poll") }
            return (nil, "status \(job.statusText) (written by a newer hellotune?)")
        }
    }

    static func summary(_ job: JobRecord, metrics: Metrics?) -> JobSummary {
        let label = job.outputDir.map { URL(fileURLWithPath: $0).lastPathComponent } ?? job.externalID
            ?? job.experimentID.map { "experiment \($0)" }
        var (status, note) = Self.status(job)
        if let error = job.error, status != .succeeded { note = note.map { $0 + ": " + error } ?? error }
        if note == nil, let remote = job.externalID { note = "remote id \(remote)" }
        var summary = JobSummary(id: "#\(job.id)", name: "#\(job.id) \(job.kind)" + (label.map { " " + $0 } ?? ""),
                                 kind: job.kind, backend: job.backend, status: status,
                                 step: job.step ?? metrics?.step ?? 0, totalSteps: job.totalSteps ?? metrics?.totalSteps ?? 0,
                                 loss: job.loss ?? metrics?.loss, tokensPerSecond: status == .running ? job.tokensPerSecond : nil,
                                 etaSeconds: status == .running ? job.etaSeconds : nil, folder: job.outputDir, note: note,
                                 experimentID: job.experimentID)
        if status == .succeeded, summary.totalSteps == 0 { summary.totalSteps = summary.step }
        if job.backend == "local", let folder = job.outputDir {
            let fm = FileManager.default
            let dir = URL(fileURLWithPath: folder)
            if fm.fileExists(atPath: dir.appendingPathComponent(AdapterIO.peftWeightsFile).path)
                || fm.fileExists(atPath: dir.appendingPathComponent(AdapterIO.ggufFile).path) {
                summary.adapterPath = folder
            }
        }
        return summary
    }
}
