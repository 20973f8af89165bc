import Foundation
import XCTest
import ModelCore

/// The generation limits with the real default model: a reply never runs past the context (prompt + reply),
/// and a wall-clock budget stops it.
final class GeneratorTests: XCTestCase {
    /// The default model with its context cut to 64 positions.
    static func smallContextModel() throws -> LocalModel {
        try LocalModel(path: TestModel.defaultModelPath(), contextLength: 64)
    }

    func prompt(_ model: LocalModel) -> [Int] {
        model.encode(LocalModel.conversation(system: "Be brief.", user: "Count from one to one hundred in words."))
    }

    func testReplyStopsWhereTheContextIsFull() throws {
        let model = try Self.smallContextModel()
        XCTAssertEqual(model.model.config.contextLength, 64)
        let ids = prompt(model)
        XCTAssertLessThan(ids.count, 60)
        let options = GenerationOptions(maxTokens: 1000, ignoreStopTokens: true)
        let result = try Generator(model: model).generate(prompt: ids, options: options)
        XCTAssertEqual(result.promptTokens + result.tokens.count, 64, "prompt + reply fill the context exactly")
        XCTAssertEqual(result.finishReason, .length)
        // In a batch, each sequence stops at its own limit.
        let longer = ids + model.tokenizer.encode(" Please.")
        let batch = try Generator(model: model).generateBatch(prompts: [ids, longer], options: options)
        XCTAssertEqual(batch.map { $0.promptTokens + $0.tokens.count }, [64, 64])
        XCTAssertEqual(batch.map(\.finishReason), [.length, .length])
    }

    func testMaxTokensBelowTheContextWins() throws {
        let model = try Self.smallContextModel()
        let result = try Generator(model: model).generate(prompt: prompt(model),
                                                          options: GenerationOptions(maxTokens: 5, ignoreStopTokens: true))
        XCTAssertEqual(result.tokens.count, 5)
        XCTAssertEqual(result.finishReason, .length)
    }

    func testPromptThatFillsTheContextIsRefused() throws {
        let model = try Self.smallContextModel()
        let ids = Array(repeating: prompt(model), count: 3).flatMap { $0 }
        XCTAssertGreaterThan(ids.count, 64)
        XCTAssertThrowsError(try Generator(model: model).generate(prompt: ids, options: GenerationOptions())) { error in
            XCTAssertEqual(error as? EngineError, .contextOverflow(needed: ids.count + 1, limit: 64))
            XCTAssertTrue("\(error)".contains("Shorten the input"), "\(error)")
        }
        // A prompt one position short of the context leaves room for exactly one token.
        let fits = Array(ids.prefix(63))
        let one = try Generator(model: model).generate(prompt: fits, options: GenerationOptions(maxTokens: 50, ignoreStopTokens: true))
        XCTAssertEqual(one.tokens.count, 1)
        XCTAssertEqual(one.finishReason, .length)
    }

    /// A budget already spent once the first token is out stops the reply there, whatever maxTokens says.
    func testTimeLimitStopsTheReply() throws {
        let model = try LocalModel(path: TestModel.defaultModelPath())
        let options = GenerationOptions(maxTokens: 4000, ignoreStopTokens: true, timeLimit: 0)
        let result = try Generator(model: model).generate(prompt: prompt(model), options: options)
        XCTAssertEqual(result.finishReason, .time)
        XCTAssertEqual(result.tokens.count, 1)
        // A budget of a quarter second ends a reply that could run to 4000 tokens (the model would need many
        // seconds for that), and the reply keeps what was generated in time.
        let timed = try Generator(model: model).generate(prompt: prompt(model),
                                                         options: GenerationOptions(maxTokens: 4000, ignoreStopTokens: true, timeLimit: 0.25))
        XCTAssertEqual(timed.finishReason, .time)
        XCTAssertGreaterThan(timed.tokens.count, 0)
        XCTAssertLessThan(timed.tokens.count, 4000)
        XCTAssertEqual(timed.text, model.tokenizer.decode(timed.tokens))
    }

    func testTimeLimitStopsEverySequenceOfABatch() throws {
        let model = try LocalModel(path: TestModel.defaultModelPath())
        let p = prompt(model)
        let results = try Generator(model: model).generateBatch(prompts: [p, p, p],
                                                                 options: GenerationOptions(maxTokens: 4000, ignoreStopTokens: true, timeLimit: 0))
        XCTAssertEqual(results.map(\.finishReason), [.time, .time, .time])
        XCTAssertEqual(results.map(\.tokens.count), [1, 1, 1])
    }

    /// An adapter of small random values on `targets`.
    static func randomAdapter(_ base: LocalModel, rank: Int, targets: [LoRATarget], seed: UInt64) -> LoRAParameters {
        let lora = LoRAParameters(config: LoRAConfig(rank: rank, alpha: Float(2 * rank), targets: targets), modelConfig: base.model.config)
        var rng = SeededRandom(seed: seed)
        for i in 0..<lora.values.count { lora.values[i] = Float(rng.nextUnit() - 0.5) * 0.05 }
        return lora
    }

    /// Each of `replies` is the reply its prompt gets decoded alone, with the seed it had in the batch (seed + index).
    func assertEachAsAlone(_ replies: [GenerationResult], prompts: [[Int]], options: GenerationOptions,
                           generator: Generator) throws {
        for (i, p) in prompts.enumerated() {
            var alone = options
            alone.sampling.seed = options.sampling.seed + UInt64(i)
            XCTAssertEqual(try generator.generate(prompt: p, options: alone).tokens, replies[i].tokens, "reply \(i)")
        }
    }

    /// Queued through two slots, five sampled replies of different lengths come out as they do decoded all together
    /// and each alone, on the base model and with an adapter: the next prompt takes a finished reply's slot, and a
    /// row's numbers do not depend on its neighbours.
    func testRepliesDoNotDependOnTheSlots() throws {
        let base = try LocalModel(path: TestModel.defaultModelPath())
        let lora = Self.randomAdapter(base, rank: 4, targets: [.q, .v, .o, .down], seed: 3)
        let users = ["Say hi.", "Name three colours.", "Write two sentences about the sea.", "What is 2 + 2?",
                     "Describe a cat in one line."]
        var sampling = SamplingParameters(temperature: 0.8, topP: 0.95, repetitionPenalty: 1.1)
        sampling.seed = 41
        let options = GenerationOptions(maxTokens: 40, sampling: sampling)
        for model in [base, base.with(adapter: lora)] {
            let prompts = users.map { model.encode(LocalModel.conversation(system: "Be brief.", user: $0)) }
            let generator = Generator(model: model)
            let together = try generator.generateBatch(prompts: prompts, options: options)
            var order: [Int] = []
            let queued = try generator.generateBatch(prompts: prompts, options: options, slots: 2, onToken: { i, _, _ in
                order.append(i)
                return true
            })
            XCTAssertEqual(queued.map(\.tokens), together.map(\.tokens))
            XCTAssertEqual(queued.map(\.finishReason), together.map(\.finishReason))
            XCTAssertGreaterThan(Set(together.map(\.tokens.count)).count, 1, "replies of different lengths")
            // Reply 2 starts only once reply 0 or 1 has finished: two slots, refilled.
            let firstOf2 = try XCTUnwrap(order.firstIndex(of: 2))
            let lastOf0 = try XCTUnwrap(order.lastIndex(of: 0)), lastOf1 = try XCTUnwrap(order.lastIndex(of: 1))
            XCTAssertGreaterThan(firstOf2, min(lastOf0, lastOf1))
            XCTAssertLessThanOrEqual(Set(order.prefix(firstOf2)).count, 2)
            try assertEachAsAlone(together, prompts: prompts, options: options, generator: generator)
        }
    }

    /// `count` sampled replies through `slots` slots with a random adapter on every projection, each as it comes alone.
    private func assertSlotsWithAnAdapterGiveEachReplyAsAlone(count: Int, slots: Int, rank: Int, adapterSeed: UInt64,
                                                              user: (Int) -> String, seed: UInt64, maxTokens: Int) throws {
        let base = try LocalModel(path: TestModel.defaultModelPath())
        let lora = Self.randomAdapter(base, rank: rank, targets: [.q, .k, .v, .o, .gate, .up, .down], seed: adapterSeed)
        let model = base.with(adapter: lora)
        let prompts = (0..<count).map { model.encode(LocalModel.conversation(system: nil, user: user($0))) }
        var sampling = SamplingParameters(temperature: 0.7, topP: 0.9)
        sampling.seed = seed
        let options = GenerationOptions(maxTokens: maxTokens, sampling: sampling)
        let generator = Generator(model: model)
        let batch = try generator.generateBatch(prompts: prompts, options: options, slots: slots)
        try assertEachAsAlone(batch, prompts: prompts, options: options, generator: generator)
    }

    /// The evaluation's width: 33 sampled replies through 32 slots with an adapter, each as it comes alone (the
    /// adapter's products and the panels at every row count from 1 to 32).
    func testThirtyTwoSlotsWithAnAdapterGiveEachReplyAsAlone() throws {
        try assertSlotsWithAnAdapterGiveEachReplyAsAlone(count: 33, slots: 32, rank: 8, adapterSeed: 5,
                                                         user: { "Name \($0 + 2) animals." }, seed: 100, maxTokens: 24)
    }

    /// 97 sampled replies through 96 slots with an adapter, each as it comes alone: through sgemm, whose kernel
    /// depends on the row count, most of these changed (lora.h).
    func testNinetySixSlotsWithAnAdapterGiveEachReplyAsAlone() throws {
        try assertSlotsWithAnAdapterGiveEachReplyAsAlone(count: 97, slots: 96, rank: 16, adapterSeed: 7,
                                                         user: { "Name \($0 + 2) cities." }, seed: 200, maxTokens: 6)
    }

    /// A cancel mid-call stops the step under way, starts no further prompt, and returns no replies.
    func testCancelStopsTheCallAndStartsNoFurtherPrompt() throws {
        let model = try LocalModel(path: TestModel.defaultModelPath())
        let prompts = (0..<4).map { _ in prompt(model) }
        var seen = Set<Int>()
        var tokens = 0
        XCTAssertThrowsError(try Generator(model: model).generateBatch(
            prompts: prompts, options: GenerationOptions(maxTokens: 50, ignoreStopTokens: true), slots: 1,
            isCancelled: { tokens >= 5 }, onToken: { i, _, _ in seen.insert(i); tokens += 1; return true })) {
            XCTAssertTrue($0 is CancellationError, "\($0)")
        }
        XCTAssertEqual(seen, [0], "the first prompt cancelled after five tokens; the others never started")
        XCTAssertEqual(tokens, 5)
    }
}
