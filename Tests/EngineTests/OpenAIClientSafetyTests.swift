import FakeOpenAI
import Foundation
import XCTest
import Backends
import ModelCore
#if canImport(Glibc)
import Glibc
#endif

/// The client as the SDKs behave today, and safer: waits, connecting, the token parameter, and base URLs.
final class OpenAIClientSafetyTests: XCTestCase {
    func testRetryAfterIsHonouredUpTo120Seconds() async throws {
        let calls = CallCounter()
        let server = try FakeOpenAIServer { _ in
            switch calls.next() {
            case 1: return .error(429, message: "Rate limit reached", type: "requests", headers: ["Retry-After": "110"])
            case 2: return .error(429, message: "Rate limit reached", type: "requests", headers: ["retry-after-ms": "119500"])
            case 3: return .error(429, message: "Rate limit reached", type: "requests", headers: ["Retry-After": "121"])
            default: return .json(fakeJobJSON("ftjob-1"))
            }
        }
        defer { server.stop() }
        let sleeper = RecordingSleeper()
        _ = try await makeOpenAIClient(server, sleeper: sleeper, maxRetries: 3).retrieveJob("ftjob-1")
        // 121 s is past the limit: exponential backoff (0.5 s x 2^2) instead.
        XCTAssertEqual(sleeper.recorded, [110, 119.5, 2])
    }

    /// A listening socket whose backlog is full: the kernel drops further handshakes, as a black-holed host does.
    func fullListener() throws -> (port: UInt16, fds: [Int32]) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(bound, 0)
        XCTAssertEqual(listen(listener, 0), 0)
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        var fds = [listener]
        // Fill the backlog with connections nobody accepts.
        for _ in 0..<4 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var target = actual
            _ = withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            fds.append(fd)
        }
        Thread.sleep(forTimeInterval: 0.2)
        return (UInt16(bigEndian: actual.sin_port), fds)
    }

    func testAHostThatNeverAcceptsFailsWithinTheConnectTimeout() async throws {
        let (port, fds) = try fullListener()
        defer { fds.forEach { close($0) } }
        var config = OpenAIConfiguration(apiKey: openAITestKey, baseURL: URL(string: "http://127.0.0.1:\(port)/v1")!,
                                         timeout: 600, maxRetries: 1, connectTimeout: 0.3)
        config.connectTimeout = 0.3
        let sleeper = RecordingSleeper()
        let client = OpenAIClient(configuration: config, sleep: sleeper.sleeper, jitter: { 0 })
        let start = Date()
        await assertOpenAIThrows({ try await client.retrieveJob("x") }) { error in
            guard case let OpenAIError.connection(message, _) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("within 300 ms") || message.contains("within 0.3 s"), message)
        }
        // Two attempts of 0.3 s each, not two of the 600 s request timeout.
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertEqual(sleeper.recorded, [0.5], "a connect timeout is retried like any connection error")
        XCTAssertEqual(OpenAIConfiguration(apiKey: "k").connectTimeout, 5, "the SDKs' 5 s by default")
    }

    func testReasoningModelsGetMaxCompletionTokens() {
        for model in ["o1", "o3-mini", "o4-mini-2025-04-16", "ft:o4-mini-2025-04-16:org::abc", "gpt-5-mini"] {
            let o = ChatRequest(messages: [ChatMessage(role: "user", content: "hi")], model: model, maxTokens: 50).jsonObject(stream: false)
            XCTAssertEqual(o["max_completion_tokens"] as? Int, 50, model)
            XCTAssertNil(o["max_tokens"], "\(model) refuses the deprecated max_tokens")
        }
        for model in ["gpt-4o-mini-2024-07-18", "ft:gpt-4.1-mini:org::x", "omni-local", "llama3"] {
            let o = ChatRequest(messages: [ChatMessage(role: "user", content: "hi")], model: model, maxTokens: 50).jsonObject(stream: false)
            XCTAssertEqual(o["max_tokens"] as? Int, 50, model)
            XCTAssertNil(o["max_completion_tokens"], model)
        }
    }

    func testPlainHTTPToAnotherHostIsRefusedUnlessAllowed() throws {
        let env = ["OPENAI_API_KEY": openAITestKey]
        for url in ["http://api.example.com/v1", "http://10.0.0.5:8000/v1", "http://user:secret@proxy.example/v1",
                    "http://127.example.com/v1", "http://localhost.evil.com/v1"] {
            XCTAssertThrowsError(try OpenAIConfiguration.fromEnvironment(env, baseURL: url)) { error in
                guard case let OpenAIError.insecureBaseURL(shown) = error else { return XCTFail("\(error)") }
                XCTAssertFalse("\(error)".contains("secret"), "\(error)")
                XCTAssertTrue("\(error)".contains("--allow-insecure"), "\(error)")
                XCTAssertFalse(shown.contains("secret"))
            }
            XCTAssertNoThrow(try OpenAIConfiguration.fromEnvironment(env, baseURL: url, allowInsecure: true))
        }
        for url in ["http://127.0.0.1:8080/v1", "http://localhost:11434/v1", "http://[::1]:8000/v1", "https://api.example.com/v1"] {
            XCTAssertNoThrow(try OpenAIConfiguration.fromEnvironment(env, baseURL: url), url)
        }
    }

    func testCredentialsInTheBaseURLAreMaskedEverywhere() throws {
        let c = try OpenAIConfiguration.fromEnvironment(["OPENAI_API_KEY": openAITestKey],
                                                        baseURL: "https://alice:hunter2@gateway.example/v1")
        XCTAssertEqual(c.displayURL, "https://***@gateway.example/v1")
        XCTAssertEqual(c.recordedURL, "https://gateway.example/v1")
        for text in [c.description, c.debugDescription, String(reflecting: c), "\(Mirror(reflecting: c).children.map(\.value))",
                     "\(OpenAIClient(configuration: c))"] {
            XCTAssertFalse(text.contains("hunter2"), text)
            XCTAssertFalse(text.contains("alice"), text)
        }
        let spec = OpenAIJobSpec(model: "m", data: "/d.jsonl", baseURL: c.baseURL.absoluteString)
        XCTAssertEqual(spec.baseURL, "https://gateway.example/v1", "stored without them")
        XCTAssertFalse(try spec.json().contains("hunter2"))
        XCTAssertThrowsError(try OpenAIConfiguration.fromEnvironment(["OPENAI_API_KEY": openAITestKey],
                                                                    baseURL: "ftp://bob:pw123@x/")) { error in
            XCTAssertFalse("\(error)".contains("pw123"), "\(error)")
        }
    }

    func testCredentialsInTheBaseURLAreNotSent() async throws {
        let server = try FakeOpenAIServer { _ in .json(fakeJobJSON("ftjob-1")) }
        defer { server.stop() }
        let url = URL(string: server.baseURL.absoluteString.replacingOccurrences(of: "http://", with: "http://alice:hunter2@"))!
        let client = OpenAIClient(configuration: OpenAIConfiguration(apiKey: openAITestKey, baseURL: url, timeout: 10, maxRetries: 0))
        _ = try await client.retrieveJob("ftjob-1")
        XCTAssertEqual(server.requests.first?.header("authorization"), "Bearer \(openAITestKey)", "the key, not a Basic header")
    }
}
