import Foundation

/// Writes files so that readers see either the old content or the new, never a half-written file:
/// write to a temporary file in the same folder, flush it, then rename over the target. Files are readable by
/// their owner only unless `mode` says otherwise: runs hold prompts, datasets and results.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL, mode: Int = 0o600) throws {
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        guard FileManager.default.createFile(atPath: tmp.path, contents: nil, attributes: [.posixPermissions: mode]) else {
            throw FileError.notWritable(path: dir.path)
        }
        do {
            let handle = try FileHandle(forWritingTo: tmp)
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
            if rename(tmp.path, url.path) != 0 {
                throw FileError.notWritable(path: url.path)
            }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
    }
}

public enum FileError: Error, CustomStringConvertible {
    case notWritable(path: String)
    case notFound(path: String)

    public var description: String {
        switch self {
        case let .notWritable(path): return "cannot write \(path): check that the folder exists and is writable."
        case let .notFound(path): return "\(path) does not exist."
        }
    }
}
