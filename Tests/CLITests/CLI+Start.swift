import Foundation

extension CLI {
    /// Starts `hellotune` without waiting for it, for tests that kill it or watch it work: `env` on top of this
    /// process's environment, stdout and stderr together into `log` (made empty first), or nowhere without one.
    static func start(_ args: [String], env: [String: String] = [:], log: URL? = nil) throws -> Process {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        if let log {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            p.standardOutput = handle
            p.standardError = handle
        } else {
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
        }
        try p.run()
        return p
    }
}
