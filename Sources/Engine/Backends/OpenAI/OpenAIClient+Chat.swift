import Foundation
import ModelCore

/// Splits a server-sent event stream into events as chunks arrive: lines end in \n, \r\n or \r; `data:` lines
/// of one event are joined with \n; a blank line ends the event; `:` comments and other fields are ignored.
/// Lines are split into field and value as bytes: a combining mark after the colon or the space would
/// otherwise join it into one Character, hiding the colon or keeping the space.
/// A line or an event over `maxLineBytes` is refused as soon as it passes the limit, so a server that never
/// ends its line cannot make the client buffer it all.
public struct SSEParser: Sendable {
    /// Far above any chat completion chunk (a few KiB, with logprobs).
    public static let maxLineBytes = 8 << 20

    private var pending = Data()
    private var data: [String] = []
    private var eventBytes = 0
    private var sawCR = false

    public init() {}

    /// The data of every event completed by `chunk`; throws `OpenAIError.invalidResponse` for a line or an
    /// event over the limit.
    public mutating func push(_ chunk: Data) throws -> [String] {
        var events: [String] = []
        try chunk.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var start = 0
            if sawCR, !bytes.isEmpty {
                sawCR = false
                if bytes[0] == 0x0A { start = 1 }
            }
            while start < bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != 0x0A, bytes[end] != 0x0D { end += 1 }
                try keep(UnsafeBufferPointer(rebasing: bytes[start..<end]))
                guard end < bytes.count else { break }
                try line(pending, into: &events)
                pending.removeAll(keepingCapacity: true)
                start = end + 1
                if bytes[end] == 0x0D {
                    if start == bytes.count { sawCR = true } else if bytes[start] == 0x0A { start += 1 }
                }
            }
        }
        return events
    }

    /// At the end of the stream: an event that was not followed by a blank line.
    public mutating func finish() throws -> [String] {
        var events: [String] = []
        if !pending.isEmpty {
            try line(pending, into: &events)
            pending.removeAll()
        }
        try line(Data(), into: &events)
        return events
    }

    private mutating func keep(_ bytes: UnsafeBufferPointer<UInt8>) throws {
        guard pending.count + bytes.count <= Self.maxLineBytes else {
            throw Self.tooLong("a line", excerpt: pending.isEmpty ? Data(bytes.prefix(80)) : pending.prefix(80))
        }
        pending.append(bytes)
    }

    private static func tooLong(_ what: String, excerpt: Data) -> OpenAIError {
        .invalidResponse(status: 200, reason: "the event stream sent \(what) longer than the \(maxLineBytes >> 20) MiB limit, "
                            + "so it was stopped there",
                         excerpt: String(decoding: excerpt, as: UTF8.self), requestID: nil)
    }

    private mutating func line(_ line: Data, into events: inout [String]) throws {
        let colon: UInt8 = 0x3A, space: UInt8 = 0x20
        if line.isEmpty {
            if !data.isEmpty { events.append(data.joined(separator: "\n")) }
            data.removeAll()
            eventBytes = 0
            return
        }
        if line.first == colon { return }
        var field = line[...], value = Data()
        if let c = line.firstIndex(of: colon) {
            field = line[..<c]
            value = line[(c + 1)...]
            if value.first == space { value = value.dropFirst() }
        }
        guard field.elementsEqual("data".utf8) else { return }
        // Many short data lines add up to one event too.
        eventBytes += value.count + 1
        guard eventBytes <= Self.maxLineBytes else {
            throw Self.tooLong("an event", excerpt: data.first.map { Data($0.utf8.prefix(80)) } ?? Data(value.prefix(80)))
        }
        data.append(String(decoding: value, as: UTF8.self))
    }
}

// Wire formats of /chat/completions.
struct WireLogprobs: Decodable { var content: [TokenLogprob]? }
struct WireMessage: Decodable { var role: String?; var content: String? }
struct WireChoice: Decodable {
    var index: Int?
    var message: WireMessage?
    var delta: WireMessage?
    var finish_reason: String?
    var logprobs: WireLogprobs?
}
struct WireCompletion: Decodable {
    var id: String?
    var model: String?
    var created: Int?
    var choices: [WireChoice]?
    var usage: ChatUsage?
    var system_fingerprint: String?
}

extension ChatRequest {
    /// Whether `model` takes only `max_completion_tokens`: the API refuses the deprecated `max_tokens` for the
    /// reasoning models (o1, o3, o4-mini, ..., gpt-5), fine-tuned ones (`ft:o4-mini-...`) included. Others get
    /// `max_tokens`, which servers compatible with the API also read.
    public static func usesMaxCompletionTokens(model: String) -> Bool {
        var name = Substring(model.lowercased())
        if name.hasPrefix("ft:") { name = name.dropFirst(3) }
        if name.hasPrefix("gpt-5") { return true }
        guard name.first == "o", let second = name.dropFirst().first else { return false }
        return second.isNumber
    }

    /// The JSON object POST /chat/completions takes.
    public func jsonObject(stream: Bool) -> [String: Any] {
        var o: [String: Any] = [
            "model": model,
            "messages": messages.map { ["role": $0.role, "content": $0.content] },
        ]
        if let n { o["n"] = n }
        if let seed { o["seed"] = seed }
        if let temperature { o["temperature"] = temperature }
        if let topP { o["top_p"] = topP }
        if let maxTokens {
            o[Self.usesMaxCompletionTokens(model: model) ? "max_completion_tokens" : "max_tokens"] = maxTokens
        }
        if let maxCompletionTokens { o["max_completion_tokens"] = maxCompletionTokens }
        if let logprobs { o["logprobs"] = logprobs }
        if let topLogprobs { o["top_logprobs"] = topLogprobs }
        if let stop { o["stop"] = stop }
        if stream {
            o["stream"] = true
            o["stream_options"] = ["include_usage": true]
        }
        return o
    }
}

extension OpenAIClient: ChatBackend {
    public func complete(_ request: ChatRequest) async throws -> ChatCompletion {
        let wire = try await post("/chat/completions", body: json(request.jsonObject(stream: false)), as: WireCompletion.self)
        return ChatCompletion(
            id: wire.id ?? "", model: wire.model ?? request.model, created: wire.created,
            choices: (wire.choices ?? []).enumerated().map { i, c in
                ChatChoice(index: c.index ?? i,
                           message: ChatMessage(role: c.message?.role ?? "assistant", content: c.message?.content ?? ""),
                           finishReason: c.finish_reason, logprobs: c.logprobs?.content)
            },
            usage: wire.usage, systemFingerprint: wire.system_fingerprint)
    }

    public func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatChunk, Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await runStream(request) { continuation.yield($0) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    func runStream(_ request: ChatRequest, yield: (ChatChunk) -> Void) async throws {
        let urlRequest = makeRequest("POST", "/chat/completions", body: json(request.jsonObject(stream: true)),
                                     accept: "text/event-stream")
        let (response, opened) = try await send(urlRequest, streaming: true)
        guard let connection = opened else { return }
        defer { connection.cancel() }
        let requestID = response.requestID
        var parser = SSEParser()
        var done = false

        func handle(_ event: String) throws {
            if event.trimmingCharacters(in: .whitespaces) == "[DONE]" {
                done = true
                return
            }
            let data = Data(event.utf8)
            if let e = try? JSONDecoder().decode(APIErrorBody.self, from: data) {
                let key = configuration.apiKey
                throw OpenAIError.stream(message: key.redact(e.error.message ?? "(no message)"), type: e.error.type,
                                         code: e.error.code, requestID: requestID)
            }
            let wire: WireCompletion
            do {
                wire = try JSONDecoder().decode(WireCompletion.self, from: data)
            } catch {
                throw OpenAIError.invalidResponse(status: response.status, reason: "a stream event is not a chat completion chunk",
                                                  excerpt: configuration.apiKey.redact(String(event.prefix(200))), requestID: requestID)
            }
            yield(ChatChunk(id: wire.id ?? "", model: wire.model ?? request.model, created: wire.created,
                            choices: (wire.choices ?? []).enumerated().map { i, c in
                                ChatChunkChoice(index: c.index ?? i, role: c.delta?.role, content: c.delta?.content,
                                                finishReason: c.finish_reason, logprobs: c.logprobs?.content)
                            },
                            usage: wire.usage))
        }

        try await withTaskCancellationHandler {
            do {
                reading: for try await chunk in connection.chunks {
                    for event in try parser.push(chunk) {
                        try handle(event)
                        if done { break reading }
                    }
                }
                if !done {
                    for event in try parser.finish() where !done { try handle(event) }
                }
            } catch let error as OpenAIError {
                switch error {
                case let .connection(message, _):
                    throw OpenAIError.streamInterrupted(reason: message, requestID: requestID)
                case let .timeout(seconds, _):
                    throw OpenAIError.streamInterrupted(reason: "nothing arrived for \(formatSeconds(seconds))", requestID: requestID)
                case let .invalidResponse(status, reason, excerpt, nil):
                    throw OpenAIError.invalidResponse(status: status, reason: reason,
                                                      excerpt: configuration.apiKey.redact(excerpt), requestID: requestID)
                default:
                    throw error
                }
            }
        } onCancel: {
            connection.cancel()
        }
        if !done {
            throw OpenAIError.streamInterrupted(reason: "the connection closed before `data: [DONE]`", requestID: requestID)
        }
    }
}
