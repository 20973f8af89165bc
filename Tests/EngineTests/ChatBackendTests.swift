import Foundation
import XCTest
import Support
import Backends
import ModelCore

/// The seam's default batch: at most `inFlight` requests open, the next sent as each is answered, answers in order.
final class ChatBackendTests: XCTestCase {
    /// Answers each request with its user message after a pause, counting how many are open at once.
    final class CountingBackend: ChatBackend, @unchecked Sendable {
        private let lock = NSLock()
        private var open = 0
        private(set) var mostOpen = 0
        private(set) var asked = 0

        func complete(_ request: ChatRequest) async throws -> ChatCompletion {
            lock.withLock { open += 1; asked += 1; mostOpen = max(mostOpen, open) }
            // The first requests take longer, so later ones finish first and the order of answers is tested.
            let text = request.messages.last?.content ?? ""
            try await Task.sleep(nanoseconds: UInt64(Int(text)! % 3 == 0 ? 30_000_000 : 5_000_000))
            lock.withLock { open -= 1 }
            return ChatCompletion(id: text, model: "counting", created: 0,
                                  choices: [ChatChoice(index: 0, message: ChatMessage(role: "assistant", content: text), finishReason: "stop")],
                                  usage: nil)
        }

        func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatChunk, Error> {
            AsyncThrowingStream { $0.finish() }
        }
    }

    func requests(_ n: Int) -> [ChatRequest] {
        (0..<n).map { ChatRequest(messages: [ChatMessage(role: "user", content: String($0))], model: "counting") }
    }

    func testAtMostInFlightRequestsAreOpenAndAnswersKeepTheirOrder() throws {
        let backend = CountingBackend()
        let answers = try runBlocking { try await backend.completeBatch(self.requests(10), inFlight: 3) }
        XCTAssertEqual(answers.map(\.text), (0..<10).map(String.init))
        XCTAssertEqual(backend.asked, 10)
        XCTAssertEqual(backend.mostOpen, 3, "three open at a time, refilled as each is answered")
    }

    func testWithoutABoundEveryRequestIsOpenAtOnce() throws {
        let backend = CountingBackend()
        let answers = try runBlocking { try await backend.completeBatch(self.requests(5)) }
        XCTAssertEqual(answers.map(\.text), (0..<5).map(String.init))
        XCTAssertEqual(backend.mostOpen, 5)
    }
}
