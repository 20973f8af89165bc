import FakeOpenAI
import Foundation
import XCTest
import ModelCore
import Backends

final class OpenAIChatTests: XCTestCase {
    static func chunk(_ content: String?, role: String? = nil, finish: String? = nil, logprob: Double? = nil) -> String {
        var delta: [String: Any] = [:]
        if let role { delta["role"] = role }
        if let content { delta["content"] = content }
        var choice: [String: Any] = ["index": 0, "delta": delta, "finish_reason": finish as Any? ?? NSNull()]
        if let logprob, let content {
            choice["logprobs"] = ["content": [["token": content, "logprob": logprob, "bytes": Array(content.utf8).map(Int.init),
                                               "top_logprobs": [["token": content, "logprob": logprob]]]]]
        }
        let o: [String: Any] = ["id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1_700_000_000,
                                "model": "gpt-4o-mini", "choices": [choice]]
        return String(decoding: try! JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]), as: UTF8.self)
    }

    static let usageChunk = #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}"#

    let request = ChatRequest(messages: LocalModel.conversation(system: "Be brief.", user: "Say hello"), model: "gpt-4o-mini",
                              n: 1, seed: 7, temperature: 0.5, topP: 0.9, maxCompletionTokens: 20, logprobs: true,
                              topLogprobs: 1, stop: ["\n\n"])

    func collect(_ stream: AsyncThrowingStream<ChatChunk, Error>) async throws -> [ChatChunk] {
        var out: [ChatChunk] = []
        for try await c in stream { out.append(c) }
        return out
    }

    func testCompleteSendsParametersAndParsesLogprobs() async throws {
        let server = try FakeOpenAIServer { _ in
            .json(["id": "chatcmpl-9", "object": "chat.completion", "created": 1_700_000_000, "model": "gpt-4o-mini-2024-07-18",
                   "system_fingerprint": "fp_1",
                   "choices": [
                       ["index": 0, "message": ["role": "assistant", "content": "Hi"], "finish_reason": "stop",
                        "logprobs": ["content": [["token": "Hi", "logprob": -0.01, "bytes": [72, 105],
                                                  "top_logprobs": [["token": "Hi", "logprob": -0.01, "bytes": [72, 105]],
                                                                   ["token": "Hello", "logprob": -4.6, "bytes": NSNull()]]]]]],
                       ["index": 1, "message": ["role": "assistant", "content": "Hello"], "finish_reason": "length",
                        "logprobs": NSNull()],
                   ],
                   "usage": ["prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11]])
        }
        defer { server.stop() }
        var r = request
        r.n = 2
        r.maxTokens = 30
        let completion = try await makeOpenAIClient(server).complete(r)
        XCTAssertEqual(completion.choices.map(\.message.content), ["Hi", "Hello"])
        XCTAssertEqual(completion.choices[1].finishReason, "length")
        XCTAssertEqual(completion.usage, ChatUsage(promptTokens: 9, completionTokens: 2, totalTokens: 11))
        let lp = try XCTUnwrap(completion.choices[0].logprobs)
        XCTAssertEqual(lp[0].token, "Hi")
        XCTAssertEqual(lp[0].logprob, -0.01)
        XCTAssertEqual(lp[0].topLogprobs.map(\.token), ["Hi", "Hello"])
        XCTAssertEqual(lp[0].topLogprobs[1].logprob, -4.6)
        XCTAssertNil(completion.choices[1].logprobs)
        XCTAssertEqual(completion.systemFingerprint, "fp_1")

        let sent = try XCTUnwrap(server.requests.first)
        XCTAssertEqual(sent.path, "/v1/chat/completions")
        let expected: [String: Any] = [
            "model": "gpt-4o-mini",
            "messages": [["role": "system", "content": "Be brief."], ["role": "user", "content": "Say hello"]],
            "n": 2, "seed": 7, "temperature": 0.5, "top_p": 0.9, "max_tokens": 30, "max_completion_tokens": 20,
            "logprobs": true, "top_logprobs": 1, "stop": ["\n\n"],
        ]
        XCTAssertEqual(try XCTUnwrap(sent.json) as NSDictionary, expected as NSDictionary)
    }

    func testStreamHappyPathWithUsage() async throws {
        let events = [Self.chunk("", role: "assistant"), Self.chunk("Hel", logprob: -0.1), Self.chunk("lo", logprob: -0.2),
                      Self.chunk(nil, finish: "stop"), Self.usageChunk, "[DONE]"]
        let server = try FakeOpenAIServer { _ in .sse(events, delay: 0.02) }
        defer { server.stop() }
        let chunks = try await collect(makeOpenAIClient(server).stream(request))
        XCTAssertEqual(chunks.count, 5)
        XCTAssertEqual(chunks.text(), "Hello")
        XCTAssertEqual(chunks[0].choices.first?.role, "assistant")
        XCTAssertEqual(chunks[1].choices.first?.logprobs?.first?.logprob, -0.1)
        XCTAssertEqual(chunks[3].choices.first?.finishReason, "stop")
        XCTAssertEqual(chunks.last?.usage, ChatUsage(promptTokens: 9, completionTokens: 3, totalTokens: 12))
        XCTAssertEqual(chunks.last?.choices, [])
        let body = try XCTUnwrap(server.requests.first?.json)
        XCTAssertEqual(body["stream"] as? Bool, true)
        XCTAssertEqual(body["stream_options"] as? NSDictionary, ["include_usage": true] as NSDictionary)
        XCTAssertEqual(server.requests.first?.header("accept"), "text/event-stream")
    }

    func testStreamCutInTheMiddleIsAClearError() async throws {
        let server = try FakeOpenAIServer { _ in
            .sse([Self.chunk("", role: "assistant"), Self.chunk("Hel")], delay: 0.02, cut: true, headers: ["x-request-id": "req_cut"])
        }
        defer { server.stop() }
        var received: [ChatChunk] = []
        let start = Date()
        do {
            for try await c in makeOpenAIClient(server).stream(request) { received.append(c) }
            XCTFail("expected an error")
        } catch {
            guard case let OpenAIError.streamInterrupted(_, rid) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(rid, "req_cut")
            XCTAssertTrue("\(error)".contains("cut off"), "\(error)")
        }
        XCTAssertEqual(received.text(), "Hel")
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }

    func testStreamEndingWithoutDoneIsAnError() async throws {
        let server = try FakeOpenAIServer { _ in .sse([Self.chunk("Hi")]) }
        defer { server.stop() }
        do {
            _ = try await collect(makeOpenAIClient(server).stream(request))
            XCTFail("expected an error")
        } catch {
            guard case OpenAIError.streamInterrupted = error else { return XCTFail("\(error)") }
        }
    }

    func testStreamErrorObject() async throws {
        let err = #"{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}"#
        let server = try FakeOpenAIServer { _ in .sse([Self.chunk("Hi", role: "assistant"), err, Self.chunk("never"), "[DONE]"]) }
        defer { server.stop() }
        var received: [ChatChunk] = []
        do {
            for try await c in makeOpenAIClient(server).stream(request) { received.append(c) }
            XCTFail("expected an error")
        } catch {
            guard case let OpenAIError.stream(message, type, _, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(message, "The server had an error while processing your request.")
            XCTAssertEqual(type, "server_error")
        }
        XCTAssertEqual(received.text(), "Hi")
    }

    func testStreamStalledTimesOut() async throws {
        let server = try FakeOpenAIServer { _ in .sse([Self.chunk("Hi", role: "assistant"), "[DONE]"], delay: 2) }
        defer { server.stop() }
        let start = Date()
        do {
            _ = try await collect(makeOpenAIClient(server, timeout: 0.4, maxRetries: 0).stream(request))
            XCTFail("expected an error")
        } catch {
            XCTAssertTrue(error is OpenAIError, "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1.8)
    }

    func testStreamRetriesA429BeforeItStarts() async throws {
        let calls = CallCounter()
        let server = try FakeOpenAIServer { _ in
            calls.next() == 1 ? .error(429, message: "slow down", headers: ["retry-after-ms": "10"])
                : .sse([Self.chunk("ok", role: "assistant"), "[DONE]"])
        }
        defer { server.stop() }
        let sleeper = RecordingSleeper()
        let chunks = try await collect(makeOpenAIClient(server, sleeper: sleeper).stream(request))
        XCTAssertEqual(chunks.text(), "ok")
        XCTAssertEqual(sleeper.recorded, [0.01])
    }

    func testSSEParserSplitsAcrossChunks() throws {
        var p = SSEParser()
        var events: [String] = []
        for piece in ["da", "ta: {\"a\"", ":1}\r", "\n\r\n: comment\n", "event: x\ndata: one\ndata: two\n", "\n", "data: [DONE]"] {
            events += try p.push(Data(piece.utf8))
        }
        events += try p.finish()
        XCTAssertEqual(events, ["{\"a\":1}", "one\ntwo", "[DONE]"])
        // Lone \r line ends, and a \r\n split across chunks.
        var q = SSEParser()
        events = []
        for piece in ["data: a\r\rdata: b\r", "\n", "\r", "\ndata: c\n\n"] { events += try q.push(Data(piece.utf8)) }
        XCTAssertEqual(events, ["a", "b", "c"])
    }

    func testSSEParserRefusesALineOrEventOverTheLimit() throws {
        let limit = SSEParser.maxLineBytes
        XCTAssertEqual(limit, 8 << 20)
        // Exactly the limit (the line "data: " + value) is accepted, one byte more is not.
        var p = SSEParser()
        let value = String(repeating: "x", count: limit - 6)
        XCTAssertEqual(try p.push(Data("data: \(value)\n\n".utf8)), [value])
        var q = SSEParser()
        XCTAssertThrowsError(try q.push(Data("data: \(value)x".utf8))) { error in
            guard case let OpenAIError.invalidResponse(status, reason, excerpt, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(status, 200)
            XCTAssertTrue(reason.contains("a line longer than the 8 MiB limit"), reason)
            XCTAssertEqual(excerpt, "data: " + String(repeating: "x", count: 74))
        }
        // Many short data lines with no blank line between them add up to one event.
        var r = SSEParser()
        let line = Data("data: \(String(repeating: "y", count: 1000))\n".utf8)
        var thrown: Error?
        for _ in 0..<(limit / 1000 + 10) {
            do { _ = try r.push(line) } catch { thrown = error; break }
        }
        XCTAssertTrue("\(thrown.map { "\($0)" } ?? "no error")".contains("an event longer than the 8 MiB limit"))
    }

    /// A server that streams a 1 GiB line: the client stops at the 8 MiB line limit, long before the server has
    /// sent it all, and without holding the line in memory. The server sends about 100 MB/s, a fast network:
    /// URLSession on Linux reads as fast as the server sends whatever the reader does, so only that rate bounds
    /// what arrives before the client hangs up.
    func testStreamWithA1GiBLineIsRefusedEarly() async throws {
        let mib = Data(repeating: UInt8(ascii: "x"), count: 1 << 20)
        let server = try FakeOpenAIServer { _ in
            FakeOpenAIServer.Response(status: 200, headers: ["Content-Type": "text/event-stream", "x-request-id": "req_big"],
                                      body: .repeated(head: Data("data: ".utf8), piece: mib, count: 1024, tail: Data("\n\n".utf8),
                                                      pause: 0.01))
        }
        defer { server.stop() }
        let base = try PeakMemory.reset()
        do {
            _ = try await collect(makeOpenAIClient(server, maxRetries: 0).stream(request))
            XCTFail("expected an error")
        } catch {
            XCTAssertEqual("\(error)", "unexpected response from the OpenAI API (HTTP 200): the event stream sent a line longer "
                + "than the 8 MiB limit, so it was stopped there; body starts: data: \(String(repeating: "x", count: 74)) "
                + "(request id req_big). Check that OPENAI_BASE_URL points at the OpenAI API or a server compatible with it.")
        }
        let growth = try PeakMemory.peakGrowth(since: base)
        // Give the server's sending thread a moment to notice the closed connection.
        try await Task.sleep(nanoseconds: 200_000_000)
        let sent = server.bodyBytesSent
        print("1 GiB SSE line: server sent \(sent >> 20) MiB before the client hung up; peak memory grew \(growth >> 20) MiB")
        XCTAssertLessThan(sent, 256 << 20, "the client read far more than the limit before stopping")
        XCTAssertLessThan(growth, 128 << 20, "peak resident memory grew by \(growth >> 20) MiB")
    }

    /// Found by fuzzing (Fuzz/Sources/fuzz-sse): a combining mark right after the colon joined it into one
    /// Character, so the whole data line was dropped; one after "data: " kept the space in the value.
    func testSSEParserSplitsFieldsAsBytesNotCharacters() throws {
        func events(_ bytes: [UInt8]) throws -> [[UInt8]] {
            var p = SSEParser()
            return (try p.push(Data(bytes)) + p.finish()).map { Array($0.utf8) }
        }
        let crash: [UInt8] = [0x64, 0x61, 0x74, 0x61, 0x3A, 0xD7, 0x84, 0xDD, 0x9E, 0xDD, 0x84, 0xDD, 0x9E, 0x22]
        XCTAssertEqual(try events(crash), [Array(crash[5...])])
        XCTAssertEqual(try events(Array("data: \u{301}x\n\n".utf8)), [Array("\u{301}x".utf8)])
        XCTAssertEqual(try events(Array(":\u{301} comment\ndata\u{301}: not data\ndata:ok\n\n".utf8)), [Array("ok".utf8)])
    }
}
