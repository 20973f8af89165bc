import Foundation
import XCTest
import ModelCore
import Backends

/// The local engine and the OpenAI client behind the same `ChatBackend` protocol.
final class OpenAIBackendTests: XCTestCase {
    func localBackend() throws -> any ChatBackend {
        let path: String
        path = try TestModel.defaultModelPath()
        return LocalChatBackend(model: try LocalModel(path: path))
    }

    func testLocalBackendCompletesAndStreamsTheSameGreedyReply() async throws {
        let backend = try localBackend()
        let request = ChatRequest(messages: LocalModel.conversation(system: nil, user: "Name a colour."), model: "local",
                                  n: 2, seed: 1, temperature: 0, maxTokens: 8)
        let completion = try await backend.complete(request)
        XCTAssertEqual(completion.choices.count, 2)
        XCTAssertEqual(completion.choices[0].message.content, completion.choices[1].message.content) // greedy
        XCTAssertFalse(completion.text.isEmpty)
        XCTAssertEqual(completion.choices[0].message.role, "assistant")
        XCTAssertGreaterThan(completion.usage?.promptTokens ?? 0, 0)

        var single = request
        single.n = nil
        var chunks: [ChatChunk] = []
        for try await c in backend.stream(single) { chunks.append(c) }
        XCTAssertEqual(chunks.text(), completion.text)
        XCTAssertNotNil(chunks.last?.usage)
        XCTAssertNotNil(chunks.dropLast().last?.choices.first?.finishReason)
    }

    func testLocalBackendCutsAtStopStrings() async throws {
        let backend = try localBackend()
        let base = ChatRequest(messages: LocalModel.conversation(system: nil, user: "Count from 1 to 20, separated by spaces."),
                               model: "local", temperature: 0, maxTokens: 24)
        let full = try await backend.complete(base).text
        guard let space = full.firstIndex(of: " "), space > full.startIndex else { return XCTFail("reply has no space: \(full)") }
        var stopped = base
        stopped.stop = [" "]
        let cut = try await backend.complete(stopped)
        XCTAssertEqual(cut.text, String(full[..<space]))
        XCTAssertEqual(cut.choices[0].finishReason, "stop")
        var chunks: [ChatChunk] = []
        for try await c in backend.stream(stopped) { chunks.append(c) }
        XCTAssertEqual(chunks.text(), String(full[..<space]))
    }

    func testOpenAIClientIsAChatAndFineTuneBackend() throws {
        let config = OpenAIConfiguration(apiKey: openAITestKey)
        let chat: any ChatBackend = OpenAIClient(configuration: config)
        let tune: any FineTuneBackend = OpenAIClient(configuration: config)
        XCTAssertFalse("\(chat)".contains(openAITestKey))
        XCTAssertFalse(String(reflecting: tune).contains(openAITestKey))
    }
}
