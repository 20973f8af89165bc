import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Serialises opening and migrating the database across processes. GRDB's migrator reads which migrations
/// are applied outside the transaction that applies them, so two hellotune processes starting on a fresh
/// file would both try to create the tables; GRDB's documentation suggests a file coordinator, which Linux
/// lacks, so this is a plain flock(2) on a side file. It is never the database file itself: closing any
/// descriptor of that file would drop SQLite's own POSIX locks held by this process.
struct SetupLock {
    private let fd: Int32

    init(path: String, timeout: Double) throws {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StoreError.unwritable(path: path, reason: String(cString: strerror(errno)))
        }
        let deadline = Date().addingTimeInterval(timeout)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            guard code == EWOULDBLOCK || code == EINTR else {
                close(fd)
                throw StoreError.unwritable(path: path, reason: "cannot lock it: " + String(cString: strerror(code)))
            }
            guard Date() < deadline else {
                close(fd)
                throw StoreError.busy(path: path, seconds: timeout)
            }
            usleep(5_000)
        }
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
