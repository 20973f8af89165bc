import Foundation

/// One generated reply and, once scored, its score.
public struct SampleRecord: Codable, Sendable, Equatable {
    /// nil until stored.
    public var id: Int64?
    public var key: SampleKey
    public var prompt: String
    public var reply: String
    /// JSON text, nil until scored.
    public var score: String?
    public var createdAt: Date

    public init(id: Int64? = nil, key: SampleKey, prompt: String, reply: String, score: String? = nil,
                createdAt: Date = StoreClock.now()) {
        self.id = id
        self.key = key
        self.prompt = prompt
        self.reply = reply
        self.score = score
        self.createdAt = createdAt
    }
}
