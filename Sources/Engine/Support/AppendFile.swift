import Foundation

/// Logs that several attempts add to (a worker started again, a job followed again): opened for appending,
/// created 0600 when missing.
package enum AppendFile {
    /// `url` opened for writing at its end; the caller closes it.
    package static func open(_ url: URL) throws -> FileHandle {
        if !FileManager.default.fileExists(atPath: url.path),
           !FileManager.default.createFile(atPath: url.path, contents: nil, attributes: [.posixPermissions: 0o600]) {
            throw FileError.notWritable(path: url.path)
        }
        let handle = try FileHandle(forWritingTo: url)
        handle.seekToEndOfFile()
        return handle
    }
}
