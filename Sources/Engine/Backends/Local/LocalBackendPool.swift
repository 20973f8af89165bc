import Foundation
import ModelCore

/// One local model and its adapters as chat backends, for a screen that asks the base and fine-tuned models side by
/// side: the model is loaded once (on first use) and each adapter folder once, and both share the base weights.
public final class LocalBackendPool: @unchecked Sendable {
    public let modelPath: String
    public let template: String?
    public let contextLength: Int?
    private let lock = NSLock()
    private var base: LocalModel?
    private var backends: [String: LocalChatBackend] = [:]

    public init(modelPath: String, template: String? = nil, contextLength: Int? = nil) {
        self.modelPath = modelPath
        self.template = template
        self.contextLength = contextLength
    }

    /// Whether the model is in memory already (a first request takes a while longer).
    public var isLoaded: Bool {
        lock.lock()
        defer { lock.unlock() }
        return base != nil
    }

    /// The backend of the base model (`adapter` nil) or of the base model with the adapter in that folder. Serialised,
    /// so that two panes starting together load the model once.
    public func backend(adapter: String?) throws -> LocalChatBackend {
        lock.lock()
        defer { lock.unlock() }
        let key = adapter ?? ""
        if let b = backends[key] { return b }
        let b: LocalModel
        if let base {
            b = base
        } else {
            guard FileManager.default.fileExists(atPath: modelPath) else { throw LocalBackendError.noModel(path: modelPath) }
            b = try LocalModel(path: modelPath, template: template, contextLength: contextLength)
            base = b
        }
        let model = try adapter.map { b.with(adapter: try AdapterIO.read(from: URL(fileURLWithPath: $0), modelConfig: b.model.config)) } ?? b
        let backend = LocalChatBackend(model: model)
        backends[key] = backend
        return backend
    }
}

public enum LocalBackendError: Error, CustomStringConvertible, Equatable {
    case noModel(path: String)

    public var description: String {
        switch self {
        case let .noModel(path): return "no model at \(path): run `hellotune model fetch` or pass --model PATH"
        }
    }
}
