import FakeOpenAI
import Foundation
import XCTest

/// `hellotune chat --batch F --backend openai --batch-size N`: N requests in flight together, the replies printed
/// in the input order whatever order they come back in, and the first failure in that order ending the batch.
final class ChatOpenAIBatchCLITests: XCTestCase {
    let key = "sk-chat-batch-key-81c4"
    var home: URL!

    override func setUpWithError() throws { home = try CLI.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: home) }

    /// Counts the requests being answered at once; later lines are answered sooner, so replies come back out of order.
    final class InFlight: @unchecked Sendable {
        private let lock = NSLock()
        private var now = 0
        private(set) var most = 0
        func enter() { lock.withLock { now += 1; most = max(most, now) } }
        func leave() { lock.withLock { now -= 1 } }
        var peak: Int { lock.withLock { most } }
    }

    func server(lines: Int, refusing refused: Int? = nil, inFlight: InFlight) throws -> FakeOpenAIServer {
        try FakeOpenAIServer { request in
            let messages = request.json?["messages"] as? [[String: String]] ?? []
            let user = messages.last?["content"] ?? ""
            let index = Int(user.split(separator: " ").last ?? "") ?? 0
            inFlight.enter()
            defer { inFlight.leave() }
            if index == refused { return .error(400, message: "line \(index) is refused") }
            Thread.sleep(forTimeInterval: 0.05 * Double(lines - index))
            return .json(["id": "chatcmpl-\(index)", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
                          "choices": [["index": 0, "message": ["role": "assistant", "content": "reply \(index)"],
                                       "finish_reason": "stop"]]])
        }
    }

    func batchFile(lines: Int) throws -> URL {
        let url = home.appendingPathComponent("batch.jsonl")
        try (0..<lines).map { "{\"user\": \"line \($0)\"}\n" }.joined().write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func chat(_ server: FakeOpenAIServer, _ file: URL, batchSize: Int) throws -> CLI.Result {
        try CLI.run(["chat", "--backend", "openai", "--model", "gpt-4o-mini", "--batch", file.path,
                     "--batch-size", String(batchSize)],
                    env: CLI.openAIEnvironment(key: key, baseURL: server.baseURL, home: home), timeout: 60)
    }

    func testBatchSizeRequestsAreInFlightTogetherAndRepliesKeepTheInputOrder() throws {
        let inFlight = InFlight()
        let server = try server(lines: 12, inFlight: inFlight)
        defer { server.stop() }
        let r = try chat(server, try batchFile(lines: 12), batchSize: 4)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, (0..<12).map { "{\"text\":\"reply \($0)\"}\n" }.joined())
        XCTAssertEqual(server.requests.count, 12)
        XCTAssertEqual(inFlight.peak, 4, "requests the server was answering at once")
        print("chat --batch-size 4 on the openai backend: at most \(inFlight.peak) requests in flight, 12 replies in order")
    }

    func testTheFirstFailureInInputOrderEndsTheBatchAfterTheRepliesBeforeIt() throws {
        let inFlight = InFlight()
        let server = try server(lines: 8, refusing: 4, inFlight: inFlight)
        defer { server.stop() }
        let r = try chat(server, try batchFile(lines: 8), batchSize: 4)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.stdout, (0..<4).map { "{\"text\":\"reply \($0)\"}\n" }.joined())
        XCTAssertTrue(r.stderr.contains("OpenAI API error 400: line 4 is refused"), r.stderr)
        XCTAssertLessThanOrEqual(inFlight.peak, 4)
    }
}
