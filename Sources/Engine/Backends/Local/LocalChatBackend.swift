import Foundation
import ModelCore

/// The local engine as a `ChatBackend`: the model named in a request is ignored (the backend has one).
/// Sampling maps onto `SamplingParameters` (reply i uses seed + i, as in `Generator.generateBatch`);
/// `stop` strings cut the text afterwards; log probabilities of generated tokens are not reported, but exact ones of
/// any reply are (`ExactScoring`, in LocalChatBackend+ExactScoring.swift).
public final class LocalChatBackend: ChatBackend, @unchecked Sendable {
    public let generator: Generator
    public let modelName: String
    public var model: LocalModel { generator.model }
    /// Scoring reuses one workspace and the tokens-by-initial table; `lock` keeps callers from sharing them at once.
    let lock = NSLock()
    let workspace = Workspace()
    var initials: [Character: [Int]]?
    /// Set from another thread to stop generation at the next token: the call then throws `CancellationError`, since
    /// a reply cut short is not the model's reply. An evaluation's calls carry a few batches each, minutes on the
    /// 1.5B model, so its cancel must not wait for them.
    public let cancel: CancellationFlag?

    public init(model: LocalModel, name: String? = nil, cancel: CancellationFlag? = nil) {
        generator = Generator(model: model)
        modelName = name ?? URL(fileURLWithPath: model.path).lastPathComponent
        self.cancel = cancel
    }

    /// The sampler a request asks for. A request's seed is the first reply's; reply i gets seed + i.
    public static func generationOptions(_ request: ChatRequest) -> GenerationOptions {
        var sampling = SamplingParameters.greedy
        sampling.temperature = Float(request.temperature ?? 0)
        sampling.topP = Float(request.topP ?? 1)
        sampling.topK = request.topK ?? 0
        sampling.minP = Float(request.minP ?? 0)
        sampling.repetitionPenalty = Float(request.repetitionPenalty ?? 1)
        sampling.seed = UInt64(bitPattern: Int64(request.seed ?? 0))
        return GenerationOptions(maxTokens: request.tokenLimit ?? 256, sampling: sampling, timeLimit: request.timeLimit)
    }

    static func cut(_ text: String, at stops: [String]?) -> (String, Bool) {
        var best: String.Index?
        for s in stops ?? [] where !s.isEmpty {
            if let r = text.range(of: s), best.map({ r.lowerBound < $0 }) ?? true { best = r.lowerBound }
        }
        return best.map { (String(text[..<$0]), true) } ?? (text, false)
    }

    public func complete(_ request: ChatRequest) async throws -> ChatCompletion {
        let prompt = model.encode(request.messages)
        let n = max(1, request.n ?? 1)
        let results = try await run(Array(repeating: prompt, count: n), Self.generationOptions(request))
        return completion(results, request: request, promptTokens: prompt.count)
    }

    /// One decode batch per run of requests that share their sampler and whose seeds follow each other (the generator
    /// seeds sequence i with seed + i), so a batch's replies are those each request would get alone.
    /// Each run decodes `inFlight` sequences at a time, the next prompt taking a finished sequence's slot.
    public func completeBatch(_ requests: [ChatRequest], inFlight: Int) async throws -> [ChatCompletion] {
        var out: [ChatCompletion] = []
        var start = 0
        while start < requests.count {
            let first = Self.generationOptions(requests[start])
            var end = start + 1
            while end < requests.count, requests[end].n ?? 1 == 1, requests[start].n ?? 1 == 1,
                  requests[end].stop == requests[start].stop,
                  Self.follows(Self.generationOptions(requests[end]), first, offset: end - start) { end += 1 }
            let group = Array(requests[start..<end])
            if group.count == 1 {
                out.append(try await complete(group[0]))
            } else {
                let prompts = group.map { model.encode($0.messages) }
                let results = try await run(prompts, first, slots: max(1, inFlight))
                for (r, (request, prompt)) in zip(results, zip(group, prompts)) {
                    out.append(completion([r], request: request, promptTokens: prompt.count))
                }
            }
            start = end
        }
        return out
    }

    /// Whether `o` is `first`'s sampler for the sequence `offset` places after it in one batch.
    public static func follows(_ o: GenerationOptions, _ first: GenerationOptions, offset: Int) -> Bool {
        var expected = first.sampling
        if expected.temperature > 0 { expected.seed = first.sampling.seed &+ UInt64(offset) }
        var got = o.sampling
        if got.temperature <= 0 { got.seed = expected.seed }  // greedy replies ignore the seed
        return o.maxTokens == first.maxTokens && got == expected
    }

    /// Decodes on a thread of its own with an 8 MiB stack, as the generator's deep call chains need.
    func run(_ prompts: [[Int]], _ options: GenerationOptions, slots: Int = .max) async throws -> [GenerationResult] {
        let generator = self.generator
        let cancel = self.cancel
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do {
                    continuation.resume(returning: try generator.generateBatch(prompts: prompts, options: options, slots: slots,
                                                                               isCancelled: cancel.map { flag in { flag.isSet } }))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    func completion(_ results: [GenerationResult], request: ChatRequest, promptTokens: Int) -> ChatCompletion {
        let choices = results.enumerated().map { i, r in
            let (text, stopped) = Self.cut(r.text, at: request.stop)
            return ChatChoice(index: i, message: ChatMessage(role: "assistant", content: text),
                              finishReason: stopped ? "stop" : r.finishReason.rawValue)
        }
        let completionTokens = results.reduce(0) { $0 + $1.tokens.count }
        return ChatCompletion(id: "local-\(UUID().uuidString)", model: modelName, created: Int(Date().timeIntervalSince1970),
                              choices: choices, usage: ChatUsage(promptTokens: promptTokens, completionTokens: completionTokens))
    }

    public func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatChunk, Error> {
        let prompt = generator.model.encode(request.messages)
        let id = "local-\(UUID().uuidString)"
        let name = modelName
        let events = generator.stream(prompt: prompt, options: Self.generationOptions(request))
        let stops = request.stop ?? []
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var text = ""
                    var sent = 0
                    continuation.yield(ChatChunk(id: id, model: name, choices: [ChatChunkChoice(index: 0, role: "assistant", content: "")]))
                    for try await event in events {
                        switch event {
                        case let .token(_, piece):
                            text += piece
                            let (kept, stopped) = Self.cut(text, at: stops)
                            // Hold back a tail that might be the start of a stop string.
                            let hold = stopped ? 0 : min(kept.count, max(0, (stops.map(\.count).max() ?? 1) - 1))
                            let ready = kept.count - hold
                            if ready > sent {
                                let delta = String(kept.dropFirst(sent).prefix(ready - sent))
                                sent = ready
                                continuation.yield(ChatChunk(id: id, model: name, choices: [ChatChunkChoice(index: 0, content: delta)]))
                            }
                            if stopped {
                                continuation.yield(ChatChunk(id: id, model: name, choices: [ChatChunkChoice(index: 0, finishReason: "stop")]))
                                continuation.finish()
                                return
                            }
                        case let .finished(result):
                            let (kept, _) = Self.cut(result.text, at: stops)
                            if kept.count > sent {
                                continuation.yield(ChatChunk(id: id, model: name, choices: [ChatChunkChoice(index: 0, content: String(kept.dropFirst(sent)))]))
                            }
                            let reason = result.finishReason.rawValue
                            continuation.yield(ChatChunk(id: id, model: name, choices: [ChatChunkChoice(index: 0, finishReason: reason)]))
                            continuation.yield(ChatChunk(id: id, model: name, choices: [],
                                                         usage: ChatUsage(promptTokens: prompt.count, completionTokens: result.tokens.count)))
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
