/// Where a job is in its life. Stored as text; a status this build does not know (written by a newer
/// hellotune, or a transitional marker such as "cancel-requested") stays readable as `JobRecord.statusText`.
public enum JobStatus: String, Codable, Sendable, CaseIterable {
    case queued, validating, running, succeeded, failed, cancelled, paused, interrupted

    /// A job in one of these states will not change again by itself.
    public var isFinal: Bool {
        switch self {
        case .succeeded, .failed, .cancelled, .interrupted: return true
        case .queued, .validating, .running, .paused: return false
        }
    }
}
