import Foundation

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
