import Foundation
import ModelCore

// The chat half of the seam: what an experiment asks of any model, the local engine or a hosted API.

/// Generates chat replies. `LocalChatBackend` runs the local engine; `OpenAIClient` calls the API. Every probe, the
/// `chat` command and the playground ask for replies through this protocol, so each is written once.
public protocol ChatBackend: Sendable {
    func complete(_ request: ChatRequest) async throws -> ChatCompletion
    /// Replies as they are generated; the last chunk carries usage where the backend reports it.
    func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatChunk, Error>
    /// The completions of several requests, in their order, at most `inFlight` at a time: the local engine decodes
    /// that many together, each next request taking a finished one's place; an API has that many requests open.
    func completeBatch(_ requests: [ChatRequest], inFlight: Int) async throws -> [ChatCompletion]
}

extension ChatBackend {
    /// All requests at once: one decode batch locally, all in flight for an API; the caller bounds how many it passes.
    public func completeBatch(_ requests: [ChatRequest]) async throws -> [ChatCompletion] {
        try await completeBatch(requests, inFlight: requests.count)
    }

    /// `inFlight` requests open at a time, the next sent as each one is answered.
    public func completeBatch(_ requests: [ChatRequest], inFlight: Int) async throws -> [ChatCompletion] {
        try await withThrowingTaskGroup(of: (Int, ChatCompletion).self) { group in
            var next = 0
            while next < min(max(1, inFlight), requests.count) {
                let (i, r) = (next, requests[next])
                group.addTask { (i, try await self.complete(r)) }
                next += 1
            }
            var out = [ChatCompletion?](repeating: nil, count: requests.count)
            for try await (i, completion) in group {
                out[i] = completion
                if next < requests.count {
                    let (j, r) = (next, requests[next])
                    group.addTask { (j, try await self.complete(r)) }
                    next += 1
                }
            }
            return out.map { $0! }
        }
    }
}

/// One chat completion request, in the OpenAI API's terms. Nil fields are left to the backend's defaults.
public struct ChatRequest: Sendable, Equatable {
    public var messages: [ChatMessage]
    public var model: String
    /// How many replies to generate.
    public var n: Int?
    public var seed: Int?
    public var temperature: Double?
    public var topP: Double?
    /// The older limit; `maxCompletionTokens` is the newer name (reasoning models accept only that one).
    public var maxTokens: Int?
    public var maxCompletionTokens: Int?
    public var logprobs: Bool?
    /// 0...20 alternatives per token; needs `logprobs`.
    public var topLogprobs: Int?
    public var stop: [String]?
    /// Samplers of the local engine that the OpenAI API does not have; it never receives them.
    public var topK: Int?
    public var minP: Double?
    public var repetitionPenalty: Double?
    /// The local engine stops a reply after this many seconds (finish reason "time"); not part of the API either.
    public var timeLimit: Double?

    public init(messages: [ChatMessage], model: String, n: Int? = nil, seed: Int? = nil, temperature: Double? = nil,
                topP: Double? = nil, maxTokens: Int? = nil, maxCompletionTokens: Int? = nil, logprobs: Bool? = nil,
                topLogprobs: Int? = nil, stop: [String]? = nil, topK: Int? = nil, minP: Double? = nil,
                repetitionPenalty: Double? = nil, timeLimit: Double? = nil) {
        self.messages = messages
        self.model = model
        self.n = n
        self.seed = seed
        self.temperature = temperature
        self.topP = topP
        self.maxTokens = maxTokens
        self.maxCompletionTokens = maxCompletionTokens
        self.logprobs = logprobs
        self.topLogprobs = topLogprobs
        self.stop = stop
        self.topK = topK
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.timeLimit = timeLimit
    }

    /// The most tokens a reply may have, whichever limit was given.
    public var tokenLimit: Int? { maxCompletionTokens ?? maxTokens }

    /// The Double that prints as `x` does (0.7, not 0.699999988): a temperature written in a file or a flag as 0.7
    /// reaches the API as 0.7.
    public static func decimal(_ x: Float) -> Double { Double("\(x)") ?? Double(x) }
}

public struct ChatUsage: Codable, Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int

    public init(promptTokens: Int, completionTokens: Int, totalTokens: Int? = nil) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.totalTokens = totalTokens ?? promptTokens + completionTokens
    }

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        promptTokens = try c.decodeIfPresent(Int.self, forKey: .promptTokens) ?? 0
        completionTokens = try c.decodeIfPresent(Int.self, forKey: .completionTokens) ?? 0
        totalTokens = try c.decodeIfPresent(Int.self, forKey: .totalTokens) ?? promptTokens + completionTokens
    }
}

/// One alternative token and its log probability.
public struct TopLogprob: Codable, Sendable, Equatable {
    public var token: String
    public var logprob: Double
    public var bytes: [Int]?

    public init(token: String, logprob: Double, bytes: [Int]? = nil) {
        self.token = token
        self.logprob = logprob
        self.bytes = bytes
    }
}

/// A generated token, its log probability and the most likely alternatives at its position.
public struct TokenLogprob: Codable, Sendable, Equatable {
    public var token: String
    public var logprob: Double
    public var bytes: [Int]?
    public var topLogprobs: [TopLogprob]

    public init(token: String, logprob: Double, bytes: [Int]? = nil, topLogprobs: [TopLogprob] = []) {
        self.token = token
        self.logprob = logprob
        self.bytes = bytes
        self.topLogprobs = topLogprobs
    }

    enum CodingKeys: String, CodingKey { case token, logprob, bytes, topLogprobs = "top_logprobs" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        token = try c.decode(String.self, forKey: .token)
        logprob = try c.decode(Double.self, forKey: .logprob)
        bytes = try c.decodeIfPresent([Int].self, forKey: .bytes)
        topLogprobs = try c.decodeIfPresent([TopLogprob].self, forKey: .topLogprobs) ?? []
    }
}

public struct ChatChoice: Sendable, Equatable {
    public var index: Int
    public var message: ChatMessage
    /// "stop", "length", "content_filter", ... as the backend says it.
    public var finishReason: String?
    /// Per generated token, when requested and supported.
    public var logprobs: [TokenLogprob]?

    public init(index: Int, message: ChatMessage, finishReason: String?, logprobs: [TokenLogprob]? = nil) {
        self.index = index
        self.message = message
        self.finishReason = finishReason
        self.logprobs = logprobs
    }
}

public struct ChatCompletion: Sendable, Equatable {
    public var id: String
    public var model: String
    public var created: Int?
    public var choices: [ChatChoice]
    public var usage: ChatUsage?
    public var systemFingerprint: String?

    public init(id: String, model: String, created: Int? = nil, choices: [ChatChoice], usage: ChatUsage? = nil,
                systemFingerprint: String? = nil) {
        self.id = id
        self.model = model
        self.created = created
        self.choices = choices
        self.usage = usage
        self.systemFingerprint = systemFingerprint
    }

    /// The first reply's text ("" when there is none).
    public var text: String { choices.first?.message.content ?? "" }
}

/// A piece of a streamed reply.
public struct ChatChunkChoice: Sendable, Equatable {
    public var index: Int
    public var role: String?
    public var content: String?
    public var finishReason: String?
    public var logprobs: [TokenLogprob]?

    public init(index: Int, role: String? = nil, content: String? = nil, finishReason: String? = nil,
                logprobs: [TokenLogprob]? = nil) {
        self.index = index
        self.role = role
        self.content = content
        self.finishReason = finishReason
        self.logprobs = logprobs
    }
}

public struct ChatChunk: Sendable, Equatable {
    public var id: String
    public var model: String
    public var created: Int?
    public var choices: [ChatChunkChoice]
    /// Only in the last chunk (OpenAI: with `stream_options.include_usage`), whose `choices` is empty.
    public var usage: ChatUsage?

    public init(id: String, model: String, created: Int? = nil, choices: [ChatChunkChoice], usage: ChatUsage? = nil) {
        self.id = id
        self.model = model
        self.created = created
        self.choices = choices
        self.usage = usage
    }
}

extension Array where Element == ChatChunk {
    /// The streamed text of one choice, joined.
    public func text(choice: Int = 0) -> String {
        flatMap { $0.choices }.filter { $0.index == choice }.compactMap(\.content).joined()
    }
}
