import Foundation

/// Why a fine-tune did not produce its result, each with what to do next.
public enum FineTuneError: Error, CustomStringConvertible, Equatable {
    case noSuchJob(Int64)
    case workerFailed(job: Int64, status: String, error: String?, log: String)
    /// A worker asked to run a job that a live worker already runs: two would train into one checkpoint.
    case jobAlreadyRunning(job: Int64, pid: Int32)
    /// A worker asked to run a job that has finished: training again would overwrite its adapter.
    case jobAlreadyFinished(job: Int64, folder: String?)
    /// Interrupted (Ctrl-C) while a local worker trains; the worker goes on.
    case trainingStopped(job: Int64, log: String)
    case remoteJobFailed(job: Int64, remoteID: String?, status: String, error: String?)
    case noFineTunedModel(job: Int64, remoteID: String)
    /// Interrupted (Ctrl-C) while a remote job runs; the job goes on.
    case stopped(job: Int64, remoteID: String?)

    public var description: String {
        switch self {
        case let .noSuchJob(id):
            return "no job \(id) in the store (see `hellotune jobs list`)."
        case let .workerFailed(job, status, error, log):
            return "training job \(job) ended \(status)\(error.map { ": \($0)" } ?? ""). Its log is \(log); run the same command again to resume from its checkpoint."
        case let .jobAlreadyRunning(job, pid):
            return "training job \(job) is already running in worker pid \(pid). Follow it with `hellotune jobs show \(job)`, "
                + "or stop it with `hellotune jobs cancel \(job)` and start it again."
        case let .jobAlreadyFinished(job, folder):
            return "training job \(job) has already finished\(folder.map { " (its adapter is in \($0))" } ?? ""); "
                + "nothing to run. Start a new run (hellotune run, or hellotune train) to train again."
        case let .trainingStopped(job, log):
            return "stopped; training job \(job) goes on in its worker (its log is \(log)): run the same command again to "
                + "follow it, or cancel it with `hellotune jobs cancel \(job)`."
        case let .remoteJobFailed(job, remoteID, status, error):
            return "fine-tuning job \(job)\(remoteID.map { " (\($0))" } ?? "") ended \(status)\(error.map { ": \($0)" } ?? ""). "
                + "See `hellotune jobs events \(job)`; run the same command again to start a new fine-tuning job."
        case let .noFineTunedModel(job, remoteID):
            return "fine-tuning job \(job) (\(remoteID)) succeeded but the API named no fine-tuned model; see `hellotune jobs show \(job)`."
        case let .stopped(job, remoteID):
            return "stopped; fine-tuning job \(job)\(remoteID.map { " (\($0))" } ?? "") goes on remotely: run the same command again to re-attach to it, or cancel it with `hellotune jobs cancel \(job)`."
        }
    }
}
