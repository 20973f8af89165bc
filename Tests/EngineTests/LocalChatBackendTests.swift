import Foundation
import XCTest
import Support
import ModelCore
import Backends

/// The local engine behind the chat seam: a batch of requests decodes as the generator would decode it, and exact
/// scores are the model's own log-probabilities.
final class LocalChatBackendTests: XCTestCase {
    func request(_ user: String, seed: Int, temperature: Double = 0.7) -> ChatRequest {
        ChatRequest(messages: LocalModel.conversation(system: nil, user: user), model: "local", seed: seed,
                    temperature: temperature, maxTokens: 8)
    }

    func testConsecutiveSeedsDecodeAsOneGeneratorBatch() throws {
        let m = try TestModel.shared()
        let backend = LocalChatBackend(model: m)
        let users = ["Name a colour.", "Name a fruit.", "Name a city."]
        let requests = users.enumerated().map { request($1, seed: 40 + $0) }
        let batch = try runBlocking { try await backend.completeBatch(requests) }

        var options = GenerationOptions(maxTokens: 8, sampling: SamplingParameters(temperature: 0.7, seed: 40))
        options.sampling.seed = 40
        let direct = try Generator(model: m).generateBatch(
            prompts: users.map { m.encode(LocalModel.conversation(system: nil, user: $0)) }, options: options)
        XCTAssertEqual(batch.map(\.text), direct.map(\.text))
        XCTAssertEqual(batch.map { $0.choices[0].finishReason }, direct.map { $0.finishReason.rawValue })
        XCTAssertEqual(batch.map { $0.usage?.completionTokens }, direct.map { $0.tokens.count })
    }

    func testACancelledCallThrowsRatherThanReturnCutReplies() throws {
        let m = try TestModel.shared()
        let flag = CancellationFlag()
        let backend = LocalChatBackend(model: m, cancel: flag)
        let requests = ["Name a colour.", "Name a fruit."].enumerated().map { request($1, seed: 40 + $0) }
        XCTAssertEqual(try runBlocking { try await backend.completeBatch(requests) }.count, 2)
        flag.set()
        XCTAssertThrowsError(try runBlocking { try await backend.completeBatch(requests) }) {
            XCTAssertTrue($0 is CancellationError, "\($0)")
        }
    }

    func testSeedsThatDoNotFollowEachOtherAreDecodedApart() throws {
        let m = try TestModel.shared()
        let backend = LocalChatBackend(model: m)
        // 7 then 3: the second is not the first's batch neighbour, so it must get its own seed, as alone.
        let requests = [request("Name a colour.", seed: 7), request("Name a fruit.", seed: 3)]
        let batch = try runBlocking { try await backend.completeBatch(requests) }
        let alone = try requests.map { r in try runBlocking { try await backend.complete(r) } }
        XCTAssertEqual(batch.map(\.text), alone.map(\.text))
    }

    func testGreedyRequestsBatchWhateverTheirSeeds() {
        let first = LocalChatBackend.generationOptions(request("a", seed: 1, temperature: 0))
        XCTAssertTrue(LocalChatBackend.follows(LocalChatBackend.generationOptions(request("b", seed: 99, temperature: 0)), first, offset: 1))
        let sampled = LocalChatBackend.generationOptions(request("a", seed: 1))
        XCTAssertTrue(LocalChatBackend.follows(LocalChatBackend.generationOptions(request("b", seed: 2)), sampled, offset: 1))
        XCTAssertFalse(LocalChatBackend.follows(LocalChatBackend.generationOptions(request("b", seed: 3)), sampled, offset: 1))
        XCTAssertFalse(LocalChatBackend.follows(LocalChatBackend.generationOptions(request("b", seed: 2, temperature: 0.9)), sampled, offset: 1))
    }

    func testLocalSamplersAndTimeLimitReachTheGenerator() {
        var r = request("a", seed: 5)
        r.topK = 40
        r.minP = 0.05
        r.repetitionPenalty = 1.1
        r.timeLimit = 2
        let o = LocalChatBackend.generationOptions(r)
        XCTAssertEqual(o.sampling, SamplingParameters(temperature: 0.7, topK: 40, minP: 0.05, repetitionPenalty: 1.1, seed: 5))
        XCTAssertEqual(o.timeLimit, 2)
        XCTAssertEqual(o.maxTokens, 8)
    }

    func testExactScoresAreTheModelsLogProbabilities() throws {
        let m = try TestModel.shared()
        let backend = LocalChatBackend(model: m)
        let messages = LocalModel.conversation(system: nil, user: "Which word do your lines spell?")
        let scores = try backend.replyLogProbabilities(["AKEWO", "HELLO"], after: messages)
        let byHand = try m.logProbabilities(of: [backend.replyTokens("AKEWO"), backend.replyTokens("HELLO")],
                                            after: m.encode(messages, addGenerationPrompt: true), workspace: Workspace())
        XCTAssertEqual(scores, byHand)
        XCTAssertTrue(scores.allSatisfy { $0 < 0 && $0.isFinite })

        let next = try backend.nextLetterProbabilities(after: messages, partialReply: "")
        let total = next.letters.values.reduce(0, +) + next.endOfTurn
        XCTAssertGreaterThan(total, 0)
        XCTAssertLessThanOrEqual(total, 1 + 1e-6, "letters and end of turn are disjoint token sets")
    }
}
