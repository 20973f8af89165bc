import Foundation

/// One experiment: a named configuration that groups the jobs and samples made for it.
public struct ExperimentRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var name: String
    /// JSON text.
    public var config: String
    public var status: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: Int64, name: String, config: String, status: String, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.name = name
        self.config = config
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
