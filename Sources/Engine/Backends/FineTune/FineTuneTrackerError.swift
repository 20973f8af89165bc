/// Why a remote fine-tuning job could not be followed, each saying what to do.
public enum FineTuneTrackerError: Error, CustomStringConvertible, Equatable {
    /// The job has no remote id yet: it was never submitted.
    case notSubmitted(Int64)
    /// The job runs on another backend (a local worker).
    case notRemote(Int64, backend: String)
    case unreadableData(String)
    /// The API did not process an uploaded file.
    case fileNotProcessed(String, status: String, details: String?)
    /// A setting outside what the fine-tuning API accepts, found before anything was uploaded.
    case outsideLimits(String)
    /// The uploaded files are still needed: the job has not ended.
    case stillRunning(Int64, status: String)
    /// Resume asked of a remote job that is not paused.
    case notPaused(Int64, status: String)

    public var description: String {
        switch self {
        case let .notSubmitted(id):
            return "job \(id) has not been submitted to the API yet; run the command that made it again to submit it."
        case let .notRemote(id, backend):
            return "job \(id) runs on the \(backend) backend, not on a remote API; see `hellotune jobs show \(id)`."
        case let .unreadableData(path):
            return "cannot read the training data \(path): it was moved or deleted. Put it back, or start a new run."
        case let .fileNotProcessed(id, status, details):
            return "the API did not process the uploaded file \(id) (status \(status)\(details.map { ": \($0)" } ?? "")); "
                + "check the data with `hellotune dataset check`, then try again."
        case let .stillRunning(id, status):
            return "job \(id) is \(status): the API still needs its uploaded files. Clean up once it has ended "
                + "(`hellotune jobs show \(id)` shows when), or cancel it first."
        case let .notPaused(id, status):
            return "job \(id) is \(status), not paused: there is nothing to resume (`hellotune jobs show \(id)` follows it)."
        case let .outsideLimits(message):
            return "\(message); nothing was uploaded."
        }
    }
}
