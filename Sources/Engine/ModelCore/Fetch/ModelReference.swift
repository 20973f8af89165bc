import Foundation
import Support

public enum ModelLookupError: Error, CustomStringConvertible, Equatable {
    case unknownName(String)
    case notFetched(name: String)
    case badHubName(value: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownName(name):
            return "unknown model '\(name)': it is neither a file nor a known name. Known names: "
                + ModelCatalogue.all.map(\.name).joined(separator: ", ")
                + " (see `hellotune model list`), hf:OWNER/REPO/FILE.gguf, or give the path of a GGUF file."
        case let .notFetched(name):
            return "model \(name) is not fetched yet: run `hellotune model fetch \(name)`."
        case let .badHubName(value, reason):
            return "'\(value)' is not a Hub file name: \(reason)."
        }
    }
}

/// What a `--model` value (or an experiment file's `model`) names: a catalogue model, a Hub file, or a GGUF path.
public enum ModelReference: Equatable {
    case named(NamedModel)
    case hub(HubFile)
    case file(String)

    /// `hf:…` is a Hub file and a catalogue name is that model; anything else is a path. A value that is no file
    /// and looks like a name (no slash, no .gguf) is refused as an unknown name, so a typo is not read as a missing file.
    public init(_ value: String) throws {
        if value.hasPrefix(HubFile.prefix) {
            self = .hub(try HubFile(value))
        } else if let named = ModelCatalogue.named(value) {
            self = .named(named)
        } else if !value.contains("/"), !value.lowercased().hasSuffix(".gguf"), !FileManager.default.fileExists(atPath: value) {
            throw ModelLookupError.unknownName(value)
        } else {
            self = .file(value)
        }
    }

    /// The GGUF to open: the fetched file of a name (an error saying how to fetch it when it is missing), or the path.
    public func fetchedPath() throws -> String {
        switch self {
        case let .named(m):
            guard FileManager.default.fileExists(atPath: m.path.path) else { throw ModelLookupError.notFetched(name: m.name) }
            return m.path.path
        case let .hub(h):
            guard FileManager.default.fileExists(atPath: h.path.path) else { throw ModelLookupError.notFetched(name: h.name) }
            return h.path.path
        case let .file(path):
            return path
        }
    }

    /// The path a `--model` value opens (see `fetchedPath`).
    public static func resolve(_ value: String) throws -> String { try ModelReference(value).fetchedPath() }
}
