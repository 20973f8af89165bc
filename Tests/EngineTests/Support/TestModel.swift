import Foundation
import Support
import ModelCore

/// The real model the engine's tests run against. It is not skipped when absent: CI always fetches it,
/// so a missing file is a broken setup that must fail loudly.
enum TestModel {
    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String { "default model missing: run `scripts/test.sh` or `hellotune model fetch` (looked for \(path))" }
    }

    /// $HELLOTUNE_MODEL if set, else the default model under $HELLOTUNE_HOME (default ~/.cache/hellotune).
    static func defaultModelPath() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let path: String
        if let override = environment["HELLOTUNE_MODEL"], !override.isEmpty {
            path = override
        } else {
            path = Paths.defaultModel.path
        }
        guard FileManager.default.fileExists(atPath: path) else { throw Missing(path: path) }
        return path
    }

    nonisolated(unsafe) private static var loaded: Result<LocalModel, Error>?
    private static let loadLock = NSLock()

    /// The default model, loaded once for all the tests that only read it (a LocalModel never changes).
    static func shared() throws -> LocalModel {
        loadLock.lock()
        defer { loadLock.unlock() }
        if loaded == nil { loaded = Result { try LocalModel(path: defaultModelPath()) } }
        return try loaded!.get()
    }
}
