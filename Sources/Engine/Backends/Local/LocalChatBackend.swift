import Foundation
import ModelCore

/// The local engine as a `ChatBackend`: the model named in a request is ignored (the backend has one).
/// Sampling maps onto `SamplingParameters` (reply i uses seed + i, as in `Generator.generateBatch`);
/// `stop` strings cut the text afterwards; log probabilities are not reported.
public final class LocalChatBackend: ChatBackend, @unchecked Sendable {
    public let generator: Generator
    public let modelName: String

    public init(model: LocalModel, name: String? = nil) {
        generator = Generator(model: model)
        modelName = name ?? URL(fileURLWithPath: model.path).lastPathComponent
    }

    func generationOptions(_ request: ChatRequest) -> GenerationOptions {
        var sampling = SamplingParameters.greedy
        sampling.temperature = Float(request.temperature ?? 0)
        sampling.topP = Float(request.topP ?? 1)
        sampling.seed = UInt64(bitPattern: Int64(request.seed ?? 0))
        return GenerationOptions(maxTokens: request.tokenLimit ?? 256, sampling: sampling)
    }

    static func cut(_ text: String, at stops: [String]?) -> (String, Bool) {
        var best: String.Index?
        for s in stops ?? [] where !s.isEmpty {
            if let r = text.range(of: s), best.map({ r.lowerBound < $0 }) ?? true { best = r.lowerBound }
        }
        return best.map { (String(text[..<$0]), true) } ?? (text, false)
    }

    public func complete(_ request: ChatRequest) async throws -> ChatCompletion {
        let prompt = generator.model.encode(request.messages)
        let n = max(1, request.n ?? 1)
        let options = generationOptions(request)
        let generator = self.generator
        let results: [GenerationResult] = try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do {
                    continuation.resume(returning: try generator.generateBatch(prompts: Array(repeating: prompt, count: n), options: options))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        let choices = results.enumerated().map { i, r in
            let (text, stopped) = Self.cut(r.text, at: request.stop)
            let reason = stopped ? "stop" : (r.finishReason == .length ? "length" : "stop")
            return ChatChoice(index: i, message: ChatMessage(role: "assistant", content: text), finishReason: reason)
        }
        let completionTokens = results.reduce(0) { $0 + $1.tokens.count }
        return ChatCompletion(id: "local-\(UUID().uuidString)", model: modelName, created: Int(Date().timeIntervalSince1970),
                              choices: choices, usage: ChatUsage(promptTokens: prompt.count, completionTokens: completionTokens))
    }

    public func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatChunk, Error> {
        let prompt = generator.model.encode(request.messages)
        let id = "local-\(UUID().uuidString)"
        let name = modelName
        let events = generator.stream(prompt: prompt, options: generationOptions(request))
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
                            let reason = result.finishReason == .length ? "length" : "stop"
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
