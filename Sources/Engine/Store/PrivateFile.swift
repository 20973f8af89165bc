#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Creates the database file readable by its owner only; SQLite gives its -wal and -shm files the same mode.
enum PrivateFile {
    /// An empty file is a valid empty SQLite database. O_EXCL: a file another process created in the meantime
    /// is left as it is, never truncated.
    static func create(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            if errno == EEXIST { return }
            throw StoreError.unwritable(path: path, reason: String(cString: strerror(errno)))
        }
        // open() applies the umask; a umask can only remove bits, but say the mode outright anyway.
        fchmod(fd, 0o600)
        close(fd)
    }
}
