import Foundation
import ModelCore
import Backends

/// One reply to generate in a playground pane.
public struct ReplyRequest: Equatable, Sendable {
    /// Increases with every send; events of an older request are dropped.
    public var id: Int
    /// 0: base model (left), 1: fine-tuned (right).
    public var pane: Int
    public var system: String?
    public var prompt: String
    /// Adapter folder for the fine-tuned pane; nil runs the base model.
    public var adapter: String?
    public var sampling: SamplingParameters
    public var maxTokens: Int

    public init(id: Int, pane: Int, system: String?, prompt: String, adapter: String?, sampling: SamplingParameters,
                maxTokens: Int) {
        self.id = id
        self.pane = pane
        self.system = system
        self.prompt = prompt
        self.adapter = adapter
        self.sampling = sampling
        self.maxTokens = maxTokens
    }
}

public enum ReplyEvent: Equatable, Sendable {
    /// Something to show while no token has come yet ("loading the model").
    case status(String)
    case token(String)
    case finished(tokens: Int, tokensPerSecond: Double, reason: String)
}

/// Generates playground replies; the real one runs the local engine, tests use a fake.
public protocol ReplyGenerator: Sendable {
    func stream(_ request: ReplyRequest) -> AsyncThrowingStream<ReplyEvent, Error>
}

/// Replies from a local GGUF model through the chat seam (`LocalBackendPool`: the model loaded once, adapters from
/// run folders on demand), as `hellotune chat` gets them.
public final class LocalReplyGenerator: ReplyGenerator, @unchecked Sendable {
    let pool: LocalBackendPool

    public init(modelPath: String, template: String? = nil, contextLength: Int? = nil) {
        pool = LocalBackendPool(modelPath: modelPath, template: template, contextLength: contextLength)
    }

    public func stream(_ request: ReplyRequest) -> AsyncThrowingStream<ReplyEvent, Error> {
        let pool = self.pool
        return AsyncThrowingStream { continuation in
            let task = Task.detached {
                do {
                    if !pool.isLoaded { continuation.yield(.status("loading \(URL(fileURLWithPath: pool.modelPath).lastPathComponent)…")) }
                    let backend = try pool.backend(adapter: request.adapter)
                    var firstToken: Date?
                    var reason = "stop"
                    for try await chunk in backend.stream(request.chatRequest) {
                        for choice in chunk.choices {
                            if let text = choice.content, !text.isEmpty {
                                if firstToken == nil { firstToken = Date() }
                                continuation.yield(.token(text))
                            }
                            if let r = choice.finishReason { reason = r }
                        }
                        if let usage = chunk.usage {
                            // Decoding speed: the tokens after the first over the time since it came.
                            let seconds = firstToken.map { Date().timeIntervalSince($0) } ?? 0
                            let rate = seconds > 0 ? Double(max(0, usage.completionTokens - 1)) / seconds : 0
                            continuation.yield(.finished(tokens: usage.completionTokens, tokensPerSecond: rate, reason: reason))
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

extension ReplyRequest {
    /// The pane's request in the chat seam's terms.
    var chatRequest: ChatRequest {
        ChatRequest(messages: LocalModel.conversation(system: system, user: prompt), model: "local",
                    seed: Int(truncatingIfNeeded: sampling.seed), temperature: Double(sampling.temperature),
                    topP: Double(sampling.topP), maxTokens: maxTokens, topK: sampling.topK, minP: Double(sampling.minP),
                    repetitionPenalty: Double(sampling.repetitionPenalty))
    }
}
