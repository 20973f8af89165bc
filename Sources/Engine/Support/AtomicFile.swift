import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that readers see either the old content or the new, never a half-written file:
/// write to a temporary file in the same folder, flush it, then rename over the target. Files are readable by
/// their owner only unless `mode` says otherwise: runs hold prompts, datasets and results. When the disk
/// fills up (or a file size limit is hit) part way, the temporary file is removed and the target keeps
/// its previous content.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL, mode: Int = 0o600) throws {
        try write(to: url, mode: mode) { emit in try data.withUnsafeBytes { try emit($0) } }
    }

    /// Writes what `produce` hands to its `emit` function, in order: for files too large to hold twice in
    /// memory (a merged model), with the same temporary-file-and-rename guarantee.
    public static func write(to url: URL, mode: Int = 0o600,
                             _ produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent(temporaryPrefix(for: url) + "\(getpid())")
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else { throw FileError(errno: errno, path: url.path, creating: true) }
        // open() applies the umask; say the mode outright, as FileManager's attributes did.
        fchmod(fd, mode_t(mode))
        do {
            try produce { (buffer: UnsafeRawBufferPointer) in
                var offset = 0
                while offset < buffer.count {
                    let n = systemWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw FileError(errno: errno, path: url.path)
                    }
                    offset += n
                }
            }
            // The data must be on disk before the rename makes it the file: otherwise a power cut could
            // leave the new name pointing at empty blocks.
            if fsync(fd) != 0 { throw FileError(errno: errno, path: url.path) }
        } catch {
            close(fd)
            unlink(tmp.path)
            throw error
        }
        // close(2) may report a deferred write error (NFS, a full disk); the descriptor is gone either way.
        if close(fd) != 0 {
            let code = errno
            unlink(tmp.path)
            throw FileError(errno: code, path: url.path)
        }
        if rename(tmp.path, url.path) != 0 {
            let code = errno
            unlink(tmp.path)
            throw FileError(errno: code, path: url.path)
        }
        // Make the rename itself durable; failing to is no reason to report the write as failed.
        let dirFD = open(dir.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }
}

extension AtomicFile {
    /// The temporary file of a write to `url` is this name plus the writer's pid, beside `url`.
    static func temporaryPrefix(for url: URL) -> String { ".\(url.lastPathComponent).tmp-" }

    /// Removes the temporary files that writes to `url` left when their process died part way (a large file's write
    /// interrupted can leave a gigabyte behind); those of live processes stay.
    public static func removeAbandonedWrites(to url: URL) {
        let dir = url.deletingLastPathComponent(), prefix = temporaryPrefix(for: url)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count)), !ProcessLiveness.isAlive(pid) else { continue }
            try? FileManager.default.removeItem(at: dir.appendingPathComponent(name))
        }
    }
}

/// write(2) under a name that the static `write` above does not shadow.
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, bytes, count)
    #else
    return Darwin.write(fd, bytes, count)
    #endif
}
