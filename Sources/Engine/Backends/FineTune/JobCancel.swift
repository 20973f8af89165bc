import Foundation
import Support
import Store

/// Cancelling a job through the store, whichever process asks: a local worker gets SIGTERM (it stops after its current
/// step, with a checkpoint); a remote job is marked cancel-requested, which whatever polls it next carries out.
public enum JobCancel {
    /// What the store's transaction decided, acted on after it commits (a signal cannot be rolled back).
    public enum Outcome: Sendable, Equatable {
        /// The worker got SIGTERM; the job is marked cancelled.
        case signalled(pid: Int32)
        /// The job had not started; marked cancelled.
        case cancelledQueued
        /// Its worker was gone already; marked interrupted.
        case workerGone(pid: Int32)
        /// A remote job: its cancel is requested.
        case requested
        case alreadyRequested
        /// The job had ended already, with this status.
        case final(String)
    }

    /// The status a job whose remote side has not been told yet is recorded with.
    public static let cancelRequested = FineTuneJobTracker.cancelRequested

    /// Decides inside the store's transaction, so that a worker finishing at the same moment is never overwritten with
    /// "cancelled", then signals the worker.
    public static func cancel(jobID: Int64, store: Store) throws -> (job: JobRecord, outcome: Outcome) {
        guard try store.job(jobID) != nil else { throw StoreError.noSuchJob(jobID) }
        var outcome = Outcome.final("")
        var job = try store.updateJob(jobID) { job in
            outcome = decide(&job)
        }
        if case let .signalled(pid) = outcome, kill(pid, SIGTERM) != 0 {
            // It died between the check and the signal: it did not stop because we asked.
            job = try store.updateJob(jobID) { $0.status = .interrupted }
            outcome = .workerGone(pid: pid)
        }
        return (job, outcome)
    }

    static func decide(_ job: inout JobRecord) -> Outcome {
        if let status = job.status, status.isFinal { return .final(status.rawValue) }
        guard job.backend == "local" else {
            // No create request ever went out: there is nothing remote to wait for.
            if job.externalID == nil, let spec = try? OpenAIJobSpec.decode(job.config), !spec.submitted {
                job.status = .cancelled
                return .cancelledQueued
            }
            if job.statusText == cancelRequested { return .alreadyRequested }
            job.statusText = cancelRequested
            return .requested
        }
        guard let pid = job.pid else {
            job.status = .cancelled
            return .cancelledQueued
        }
        guard ProcessLiveness.isAlive(pid) else {
            job.status = .interrupted
            return .workerGone(pid: pid)
        }
        job.status = .cancelled
        return .signalled(pid: pid)
    }
}
