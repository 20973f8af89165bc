import Foundation
import Support
import Training
import Store

/// Starting the worker of a stopped local training job again, detached, as `hellotune run` starts it: it continues
/// from the checkpoint in the job's folder. `hellotune jobs resume` and the Jobs screen both start it here.
public enum TrainingJobResume {
    /// Why a job cannot resume.
    public enum Refusal: Error, CustomStringConvertible, Equatable {
        case notLocalTraining(job: Int64, backend: String)
        case stillRunning(job: Int64, pid: Int32)
        case finished(job: Int64)
        case noFolder(job: Int64)
        /// A fine-tuner that trains in its own process has no worker binary to start.
        case noWorker(job: Int64)

        public var description: String {
            switch self {
            case let .notLocalTraining(job, backend):
                return "job \(job) runs on \(backend): only local training jobs resume; start a new \(backend) fine-tune "
                    + "instead (an OpenAI job that is still running is followed by running its experiment again)"
            case let .stillRunning(job, pid):
                return "job \(job) is still running (worker pid \(pid)); follow it with `hellotune jobs show \(job)`"
            case let .finished(job):
                return "job \(job) has finished; nothing to resume"
            case let .noFolder(job):
                return "job \(job) has no output folder to resume in"
            case let .noWorker(job):
                return "job \(job) cannot resume here: no hellotune binary to run its worker; run `hellotune jobs resume \(job)`"
            }
        }
    }

    /// A worker started for a job.
    public struct Started: Sendable {
        public let jobID: Int64
        public let pid: Int32
        public let log: URL
        public let fromCheckpoint: Bool
        /// The worker, for a caller that follows it.
        public let process: SessionProcess

        public var message: String {
            "resuming job \(jobID) \(fromCheckpoint ? "from its checkpoint" : "from the start (no checkpoint)") "
                + "in a detached worker (pid \(pid))"
        }
    }

    /// Starts `executable worker --job ID` for `job` in a session of its own, its output appended to the job
    /// folder's worker.log, or says why the job cannot resume. Given the store, the job is queued again first, so
    /// that one following it does not take its old ending for this attempt's.
    public static func start(_ job: JobRecord, executable: String, environment: [String: String] = [:],
                             requeueIn store: Store? = nil) throws -> Started {
        guard job.backend == "local", job.kind == "train" else {
            throw Refusal.notLocalTraining(job: job.id, backend: job.backend)
        }
        if let pid = job.pid, ProcessLiveness.isAlive(pid), job.status?.isFinal != true {
            throw Refusal.stillRunning(job: job.id, pid: pid)
        }
        if job.status == .succeeded { throw Refusal.finished(job: job.id) }
        guard let folder = job.outputDir.map({ URL(fileURLWithPath: $0, isDirectory: true) }) else {
            throw Refusal.noFolder(job: job.id)
        }
        // The worker would create it too, but its log goes there first.
        try Paths.ensureDirectory(folder)
        let log = folder.appendingPathComponent("worker.log")
        let fromCheckpoint = FileManager.default.fileExists(atPath: folder.appendingPathComponent(Checkpoint.fileName).path)
        if let store {
            _ = try store.updateJob(job.id) {
                $0.status = .queued
                $0.error = nil
                $0.pid = nil
            }
        }
        let worker = try SessionProcess.start(executable, ["worker", "--job", String(job.id)], appendingTo: log,
                                              environment: environment)
        return Started(jobID: job.id, pid: worker.pid, log: log, fromCheckpoint: fromCheckpoint, process: worker)
    }
}
