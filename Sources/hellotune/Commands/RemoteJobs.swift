import ArgumentParser
import Foundation
import Support
import Store
import Backends

/// `hellotune jobs` on OpenAI jobs: fetching their new events and status before showing them, and cancelling them
/// through the API. Without OPENAI_API_KEY the stored state is shown as it is.
enum RemoteJobs {
    /// A job brought up to date, or as stored with the reason it could not be.
    struct Refresh {
        var job: JobRecord
        var failure: RemoteJobError?

        /// Called after the stored state is printed: a failed fetch still ends the command with an error.
        func finish() throws {
            if let failure { throw failure }
        }
    }

    /// A client for the job's API (the URL it was created on unless `baseURL` says otherwise); nil without a key.
    static func client(for job: JobRecord, baseURL: String?, allowInsecure: Bool) throws -> OpenAIClient? {
        let key = ProcessInfo.processInfo.environment["OPENAI_API_KEY"]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard !key.isEmpty else { return nil }
        let recorded = (try? OpenAIJobSpec.decode(job.config))?.baseURL
        let config = try OpenAIConfiguration.fromEnvironment(baseURL: baseURL ?? recorded, allowInsecure: allowInsecure)
        return OpenAIClient(configuration: config, log: { note($0) })
    }

    static func refresh(_ job: JobRecord, store: Store, baseURL: String?, allowInsecure: Bool) -> Refresh {
        guard job.backend == "openai", job.externalID != nil else { return Refresh(job: job) }
        do {
            guard let client = try client(for: job, baseURL: baseURL, allowInsecure: allowInsecure) else {
                note("job \(job.id): OPENAI_API_KEY is not set, so this is the job as last fetched; set it to fetch new events")
                return Refresh(job: job)
            }
            let tracker = FineTuneJobTracker(store: store, backend: client)
            let sync = try runBlocking { try await tracker.sync(jobID: job.id) }
            note("job \(job.id): fetched \(sync.newEvents.count) new event\(sync.newEvents.count == 1 ? "" : "s") from "
                 + "\(client.configuration.displayURL)")
            return Refresh(job: sync.job)
        } catch {
            return Refresh(job: job, failure: RemoteJobError(jobID: job.id, underlying: "\(error)"))
        }
    }

    struct Cancelled {
        var job: JobRecord
        var message: String
        /// Set when the remote job had already ended: its status.
        var alreadyFinal: String?
    }

    /// Cancels the job through the API after fetching its state (it may have ended meanwhile); nil when there is no
    /// key or it was never submitted, for the caller's stored cancel request.
    static func cancel(_ job: JobRecord, store: Store, baseURL: String?, allowInsecure: Bool) throws -> Cancelled? {
        guard let client = try client(for: job, baseURL: baseURL, allowInsecure: allowInsecure) else { return nil }
        let tracker = FineTuneJobTracker(store: store, backend: client)
        guard let remoteID = job.externalID else {
            // Never created, or created without its id stored: the tracker looks it up by its token first.
            guard !(job.status?.isFinal ?? false) else { return nil }
            let ended = try runBlocking { try await tracker.cancel(jobID: job.id) }
            let message = ended.externalID.map { "job \(job.id): cancelled \($0) through the API (now \(ended.statusText))" }
                ?? "job \(job.id): never reached the API; marked cancelled"
            return Cancelled(job: ended, message: message)
        }
        let sync = try runBlocking { try await tracker.sync(jobID: job.id) }
        if sync.remote.status.isFinal {
            return Cancelled(job: sync.job, message: "", alreadyFinal: sync.job.statusText)
        }
        let cancelled = try runBlocking { try await tracker.cancel(jobID: job.id) }
        return Cancelled(job: cancelled, message: "job \(job.id): cancelled \(remoteID) through the API (now \(cancelled.statusText))")
    }
}

/// An OpenAI job's state could not be fetched; what was stored has been shown.
struct RemoteJobError: Error, CustomStringConvertible {
    var jobID: Int64
    var underlying: String
    var description: String {
        "could not fetch job \(jobID) from the API, so it was shown as last fetched: \(underlying)"
    }
}
