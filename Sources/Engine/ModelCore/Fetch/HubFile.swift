import Foundation
import Support

/// A GGUF on the Hugging Face Hub, named `hf:OWNER/REPO/FILE.gguf`, and where it is kept once fetched:
/// `$HELLOTUNE_HOME/models/hf/OWNER/REPO/FILE.gguf`. Each part is checked so that no name can reach outside that
/// folder ("..", a leading dot, a slash or a backslash inside a part are refused).
public struct HubFile: Sendable, Equatable {
    public static let prefix = "hf:"

    public let owner: String
    public let repo: String
    public let file: String

    public init(_ value: String) throws {
        guard value.hasPrefix(Self.prefix) else { throw ModelLookupError.badHubName(value: value, reason: "it does not start with hf:") }
        let parts = value.dropFirst(Self.prefix.count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else {
            throw ModelLookupError.badHubName(value: value, reason: "it has \(parts.count) parts; write hf:OWNER/REPO/FILE.gguf")
        }
        for (label, part) in zip(["OWNER", "REPO", "FILE"], parts) {
            if let why = Self.problem(with: part) { throw ModelLookupError.badHubName(value: value, reason: "\(label) \(why)") }
        }
        guard parts[2].lowercased().hasSuffix(".gguf") else {
            throw ModelLookupError.badHubName(value: value, reason: "FILE must be a .gguf file")
        }
        (owner, repo, file) = (parts[0], parts[1], parts[2])
    }

    /// Why a part cannot name a folder or file under the models folder, or nil when it can. Letters, digits and
    /// `-_.` only (the Hub's own rule for repository names), never starting with a dot, never "..".
    static func problem(with part: String) -> String? {
        if part.isEmpty { return "is empty" }
        if part.utf8.count > 200 { return "is longer than 200 bytes" }
        if part.hasPrefix(".") { return "'\(part)' starts with a dot" }
        if part.contains("..") { return "'\(part)' contains '..'" }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        if let bad = part.first(where: { !allowed.contains($0) }) {
            return "'\(part)' contains '\(bad)'; only letters, digits, '-', '_' and '.' are allowed"
        }
        return nil
    }

    public var name: String { "\(Self.prefix)\(owner)/\(repo)/\(file)" }

    /// The Hub files fetched under this home, by name (only names that pass the same checks as a typed one).
    public static func fetched() -> [HubFile] {
        let root = Paths.models.appendingPathComponent("hf", isDirectory: true)
        let fm = FileManager.default
        var out: [HubFile] = []
        for owner in (try? fm.contentsOfDirectory(atPath: root.path)) ?? [] {
            let ownerURL = root.appendingPathComponent(owner, isDirectory: true)
            for repo in (try? fm.contentsOfDirectory(atPath: ownerURL.path)) ?? [] {
                let repoURL = ownerURL.appendingPathComponent(repo, isDirectory: true)
                for file in (try? fm.contentsOfDirectory(atPath: repoURL.path)) ?? [] where file.lowercased().hasSuffix(".gguf") {
                    if let h = try? HubFile("\(prefix)\(owner)/\(repo)/\(file)") { out.append(h) }
                }
            }
        }
        return out.sorted { $0.name < $1.name }
    }

    /// Where the verified file lives.
    public var path: URL {
        Paths.models.appendingPathComponent("hf", isDirectory: true).appendingPathComponent(owner, isDirectory: true)
            .appendingPathComponent(repo, isDirectory: true).appendingPathComponent(file)
    }

    /// The Hub's base URL: `HF_ENDPOINT` when set (a mirror, or a test's fake hub), else huggingface.co.
    public static var endpoint: URL {
        if let e = ProcessInfo.processInfo.environment["HF_ENDPOINT"], !e.isEmpty, let url = URL(string: e) { return url }
        return URL(string: "https://huggingface.co")!
    }

    /// The resolve URL of the file on the main branch.
    public func resolveURL(endpoint: URL = HubFile.endpoint) -> URL {
        endpoint.appendingPathComponent(owner).appendingPathComponent(repo).appendingPathComponent("resolve")
            .appendingPathComponent("main").appendingPathComponent(file)
    }
}
