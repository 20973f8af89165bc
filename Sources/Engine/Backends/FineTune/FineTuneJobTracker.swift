import Foundation
import Support
import Training
import Store

/// Remote fine-tuning jobs recorded in the store, followed from any process: submitting one (uploading its data),
/// re-attaching to it, storing its events oldest first and each once, and cancelling it. The job row holds all it
/// needs: the remote id (`externalID`), the id of the newest stored event (`cursor`) and the spec (`config`, an
/// `OpenAIJobSpec`); a process that dies at any point loses nothing a rerun cannot pick up.
public struct FineTuneJobTracker: Sendable {
    public let store: Store
    public let backend: any FineTuneBackend
    /// The job row's backend name.
    public let backendName: String

    /// The status `hellotune jobs cancel` records for a job whose remote side has not been told yet.
    public static let cancelRequested = "cancel-requested"

    /// Waits between polls of an uploaded file; tests pass one that returns at once.
    public let sleep: @Sendable (Double) async throws -> Void

    public init(store: Store, backend: any FineTuneBackend, backendName: String = "openai",
                sleep: @escaping @Sendable (Double) async throws -> Void = OpenAIClient.realSleep) {
        self.store = store
        self.backend = backend
        self.backendName = backendName
        self.sleep = sleep
    }

    /// A new, not yet submitted job for `spec`.
    public func record(_ spec: OpenAIJobSpec, experimentID: Int64?, outputDir: String?) throws -> JobRecord {
        try store.createJob(experimentID: experimentID, kind: "train", backend: backendName, config: try spec.json(),
                            outputDir: outputDir)
    }

    /// What one `sync` found.
    public struct Sync: Sendable {
        public var job: JobRecord
        public var remote: FineTuneJob
        /// Events stored by this call, oldest first.
        public var newEvents: [FineTuneEvent]
    }

    /// What `submit` did.
    public struct Submission: Sendable {
        public var job: JobRecord
        /// The remote job as the API returned it, when this call created or found it.
        public var remote: FineTuneJob?
    }

    /// Uploads the data and creates the remote job, each step only if no earlier call did it. A job whose cancel
    /// was requested before it was submitted is marked cancelled instead. The API's limits are checked before
    /// anything is uploaded. A request the API refuses (a 4xx: a bad key, a bad file) marks the job failed with the
    /// reason, so that it does not sit queued; calling `submit` again retries it from the step that failed.
    @discardableResult
    public func submit(jobID: Int64) async throws -> Submission {
        var job = try stored(jobID)
        if job.externalID != nil { return Submission(job: job) }
        if job.statusText == Self.cancelRequested || job.status == .cancelled {
            return Submission(job: try store.updateJob(jobID) { $0.status = .cancelled })
        }
        var spec = try OpenAIJobSpec.decode(job.config)
        try spec.checkLimits()
        if job.status == .failed {
            job = try store.updateJob(jobID) { $0.status = .queued; $0.error = nil }
        }
        do {
            if spec.submitted, let found = try await findRemote(token: spec.token) {
                return Submission(job: try store.updateJob(jobID) { $0.externalID = found.id; Self.apply(found, to: &$0) },
                                  remote: found)
            }
            if spec.trainingFile == nil {
                spec.trainingFile = try await upload(spec.data).id
                job = try save(spec, jobID)
            }
            if let validation = spec.validationData, spec.validationFile == nil {
                spec.validationFile = try await upload(validation).id
                job = try save(spec, jobID)
            }
            // A `jobs cancel` while the data was uploading.
            if let now = try store.job(jobID), now.statusText == Self.cancelRequested || now.status == .cancelled {
                return Submission(job: try store.updateJob(jobID) { $0.status = .cancelled })
            }
            spec.submitted = true
            job = try save(spec, jobID)
            let remote = try await backend.createJob(spec.request!)
            return Submission(job: try store.updateJob(jobID) { $0.externalID = remote.id; Self.apply(remote, to: &$0) },
                              remote: remote)
        } catch let error as OpenAIError where Self.refused(error) {
            try store.updateJob(jobID) { j in
                j.status = .failed
                j.error = "not submitted: \(error)"
            }
            throw error
        }
    }

    /// A 4xx that says no: nothing was made. 408, 409 and 429 (retried, then given up) may have come after the
    /// API acted, so they leave the job as it was, for the next `submit` to look up by its token.
    static func refused(_ error: OpenAIError) -> Bool {
        guard let status = error.status, (400..<500).contains(status) else { return false }
        return ![408, 409, 429].contains(status)
    }

    /// Fetches the remote job and the events newer than the cursor, stores the events and updates status and
    /// progress. A cancel request stored meanwhile is carried out first.
    public func sync(jobID: Int64) async throws -> Sync {
        let job = try stored(jobID)
        guard let remoteID = job.externalID else { throw FineTuneTrackerError.notSubmitted(jobID) }
        var remote = try await backend.retrieveJob(remoteID)
        if job.statusText == Self.cancelRequested, !remote.status.isFinal {
            remote = try await backend.cancelJob(remoteID)
        }
        let events = try await backend.allEvents(jobID: remoteID, newerThan: job.cursor)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try store.appendEvents(jobID: jobID, try events.map {
            (kind: $0.type ?? "message", payload: String(decoding: try encoder.encode($0), as: UTF8.self), externalID: $0.id)
        })
        let updated = try store.updateJob(jobID) { j in
            if let last = events.last { j.cursor = last.id }
            Self.apply(remote, to: &j)
            for m in events.compactMap(\.metrics) where m.step != nil {
                j.step = m.step
                j.totalSteps = m.totalSteps ?? j.totalSteps
                j.loss = m.trainLoss ?? j.loss
            }
            if remote.status == .succeeded, let name = remote.fineTunedModel, var spec = try? OpenAIJobSpec.decode(j.config) {
                spec.fineTunedModel = name
                if let json = try? spec.json() { j.config = json }
            }
        }
        if let folder = updated.outputDir { mirror(events, before: job, after: updated, remote: remote, to: folder) }
        return Sync(job: updated, remote: remote, newEvents: events)
    }

    /// Cancels the remote job now; one not yet submitted is marked cancelled and never will be. One whose create
    /// request went out but whose id was never stored is looked up by its token first, and cancelled there.
    @discardableResult
    public func cancel(jobID: Int64) async throws -> JobRecord {
        let job = try stored(jobID)
        var remoteID = job.externalID
        if remoteID == nil, let spec = try? OpenAIJobSpec.decode(job.config), spec.submitted,
           let found = try await findRemote(token: spec.token) {
            remoteID = found.id
            _ = try store.updateJob(jobID) { $0.externalID = found.id }
        }
        guard let remoteID else {
            return try store.updateJob(jobID) { $0.status = .cancelled }
        }
        let remote = try await backend.cancelJob(remoteID)
        return try store.updateJob(jobID) { Self.apply(remote, to: &$0) }
    }

    /// Runs a job the API paused again (POST .../resume), and records the status the API answers. A job in any other
    /// state is refused with what it is, untouched.
    @discardableResult
    public func resume(jobID: Int64) async throws -> JobRecord {
        let job = try stored(jobID)
        guard let remoteID = job.externalID else { throw FineTuneTrackerError.notSubmitted(jobID) }
        let remote = try await backend.retrieveJob(remoteID)
        guard remote.status == .paused else {
            _ = try store.updateJob(jobID) { Self.apply(remote, to: &$0) }
            throw FineTuneTrackerError.notPaused(jobID, status: Self.status(remote.status))
        }
        let resumed = try await backend.resumeJob(remoteID)
        return try store.updateJob(jobID) { Self.apply(resumed, to: &$0) }
    }

    /// What a user can do about a job the API paused: the line `run`, `jobs show` and the Jobs screen print.
    public static func pausedAdvice(jobID: Int64, remoteID: String) -> String {
        "the API paused \(remoteID) (hellotune job \(jobID)); it waits there until it is resumed: "
            + "`hellotune jobs resume \(jobID)` resumes it, `hellotune jobs cancel \(jobID)` cancels it"
    }

    // MARK: - Steps

    func stored(_ jobID: Int64) throws -> JobRecord {
        guard let job = try store.job(jobID) else { throw StoreError.noSuchJob(jobID) }
        guard job.backend == backendName else { throw FineTuneTrackerError.notRemote(jobID, backend: job.backend) }
        return job
    }

    func save(_ spec: OpenAIJobSpec, _ jobID: Int64) throws -> JobRecord {
        let json = try spec.json()
        return try store.updateJob(jobID) { $0.config = json }
    }

    func upload(_ path: String) async throws -> RemoteFile {
        let url = URL(fileURLWithPath: path)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw FineTuneTrackerError.unreadableData(path)
        }
        let uploaded = try await backend.uploadFile(data, filename: url.lastPathComponent, purpose: "fine-tune")
        return try await backend.waitUntilProcessed(uploaded, sleep: sleep)
    }

    /// The remote job created with `token`, found with the API's metadata filter (a server that ignores the filter
    /// still returns only matching jobs here: each is checked).
    func findRemote(token: String) async throws -> FineTuneJob? {
        try await backend.jobs(withMetadata: OpenAIJobSpec.metadataKey, value: token)
            .first { $0.metadata?[OpenAIJobSpec.metadataKey] == token }
    }

    /// The remote status and error on the job row. A cancel request that the remote job has not seen yet stays.
    static func apply(_ remote: FineTuneJob, to job: inout JobRecord) {
        if job.statusText != cancelRequested || remote.status.isFinal {
            job.statusText = status(remote.status)
        }
        if let message = remote.error?.message, !message.isEmpty { job.error = message }
        if let finish = remote.estimatedFinish, !remote.status.isFinal {
            job.etaSeconds = max(0, Double(finish) - Date().timeIntervalSince1970)
        } else {
            job.etaSeconds = nil
        }
    }

    /// The store's name for a remote status; one this build does not know is kept as the API says it.
    public static func status(_ s: FineTuneStatus) -> String {
        switch s {
        case .validatingFiles: JobStatus.validating.rawValue
        case .queued: JobStatus.queued.rawValue
        case .running: JobStatus.running.rawValue
        case .succeeded: JobStatus.succeeded.rawValue
        case .failed: JobStatus.failed.rawValue
        case .cancelled: JobStatus.cancelled.rawValue
        case .paused: JobStatus.paused.rawValue
        case let .other(raw): raw
        }
    }

    /// The Jobs screen reads a run folder's log.jsonl (the lines `hellotune train` writes); a remote job writes the
    /// same lines, so that the screen does not care where training ran.
    func mirror(_ events: [FineTuneEvent], before: JobRecord, after: JobRecord, remote: FineTuneJob, to folder: String) {
        var lines: [[String: Any]] = []
        var started = before.step != nil
        for e in events {
            guard let m = e.metrics, let step = m.step else { continue }
            let total = m.totalSteps ?? after.totalSteps ?? step
            if !started {
                lines.append(TrainingEvent.started(totalSteps: total, startStep: 0, examples: 0, tokensPerEpoch: 0).jsonObject)
                started = true
            }
            // Not TrainingEvent.step: the API reports no learning rate, gradient norm or token counts.
            lines.append(["event": "step", "step": step, "total_steps": total, "epoch": 0, "loss": m.trainLoss ?? 0,
                          "tok_s": 0, "eta_s": after.etaSeconds ?? 0])
        }
        let wasFinal = before.status?.isFinal ?? false
        if remote.status == .succeeded || remote.status == .cancelled, !wasFinal {
            let seconds = Double((remote.finishedAt ?? 0) - (remote.createdAt ?? 0))
            lines.append(["event": "finished", "steps": after.step ?? 0, "final_loss": after.loss ?? 0,
                          "seconds": max(0, seconds), "cancelled": remote.status == .cancelled, "adapter": NSNull()])
        }
        guard !lines.isEmpty else { return }
        let url = URL(fileURLWithPath: folder).appendingPathComponent("log.jsonl")
        guard let handle = try? AppendFile.open(url) else { return }
        defer { try? handle.close() }
        for line in lines {
            if let data = try? JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]) {
                handle.write(data + Data("\n".utf8))
            }
        }
    }
}
