/// Why a remote fine-tuning job could not be followed, each saying what to do.
public enum FineTuneTrackerError: Error, CustomStringConvertible, Equatable {
    /// The job has no remote id yet: it was never submitted.
    case notSubmitted(Int64)
    /// The job runs on another backend (a local worker).
    case notRemote(Int64, backend: String)
    case unreadableData(String)

    public var description: String {
        switch self {
        case let .notSubmitted(id):
            return "job \(id) has not been submitted to the API yet; run the command that made it again to submit it."
        case let .notRemote(id, backend):
            return "job \(id) runs on the \(backend) backend, not on a remote API; see `hellotune jobs show \(id)`."
        case let .unreadableData(path):
            return "cannot read the training data \(path): it was moved or deleted. Put it back, or start a new run."
        }
    }
}
