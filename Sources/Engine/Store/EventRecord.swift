import Foundation

/// One thing that happened to a job: a log line, a metrics point, an OpenAI event.
public struct EventRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var jobID: Int64
    public var kind: String
    /// JSON text.
    public var payload: String
    /// The event's id at its source (OpenAI), so that re-reading a page of events stores each one once.
    public var externalID: String?
    public var createdAt: Date

    public init(id: Int64, jobID: Int64, kind: String, payload: String, externalID: String?, createdAt: Date) {
        self.id = id
        self.jobID = jobID
        self.kind = kind
        self.payload = payload
        self.externalID = externalID
        self.createdAt = createdAt
    }
}
