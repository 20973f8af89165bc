import Foundation
import ModelCore

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

/// Replies from a local GGUF model, with LoRA adapters loaded from run folders on demand. The model
/// is loaded once (on first use, off the UI thread) and shared by both panes.
public final class LocalReplyGenerator: ReplyGenerator, @unchecked Sendable {
    public let modelPath: String
    public let template: String?
    public let contextLength: Int?
    private let lock = NSLock()
    private var base: LocalModel?
    private var adapted: [String: LocalModel] = [:]

    public init(modelPath: String, template: String? = nil, contextLength: Int? = nil) {
        self.modelPath = modelPath
        self.template = template
        self.contextLength = contextLength
    }

    /// The model for a pane, loading the base model and the adapter if needed. Serialised, so that two
    /// panes starting together load the model once.
    public func model(adapter: String?) throws -> LocalModel {
        lock.lock()
        defer { lock.unlock() }
        let b: LocalModel
        if let base {
            b = base
        } else {
            guard FileManager.default.fileExists(atPath: modelPath) else {
                throw JobSourceError("no model at \(modelPath): run `hellotune model fetch` or pass --model PATH")
            }
            b = try LocalModel(path: modelPath, template: template, contextLength: contextLength)
            base = b
        }
        guard let adapter else { return b }
        if let m = adapted[adapter] { return m }
        let lora = try AdapterIO.read(from: URL(fileURLWithPath: adapter), modelConfig: b.model.config)
        let m = b.with(adapter: lora)
        adapted[adapter] = m
        return m
    }

    private var isLoaded: Bool {
        lock.lock()
        defer { lock.unlock() }
        return base != nil
    }

    public func stream(_ request: ReplyRequest) -> AsyncThrowingStream<ReplyEvent, Error> {
        AsyncThrowingStream { continuation in
            let task = Task.detached { [self] in
                do {
                    if !isLoaded { continuation.yield(.status("loading \(URL(fileURLWithPath: modelPath).lastPathComponent)…")) }
                    let m = try model(adapter: request.adapter)
                    let ids = m.encode(LocalModel.conversation(system: request.system, user: request.prompt))
                    let options = GenerationOptions(maxTokens: request.maxTokens, sampling: request.sampling)
                    for try await event in Generator(model: m).stream(prompt: ids, options: options) {
                        switch event {
                        case let .token(_, text):
                            if !text.isEmpty { continuation.yield(.token(text)) }
                        case let .finished(r):
                            continuation.yield(.finished(tokens: r.tokens.count, tokensPerSecond: r.decodeTokensPerSecond,
                                                         reason: r.finishReason.rawValue))
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
