import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One training run per output folder. Two runs writing one folder would interleave checkpoints and leave the
/// adapter of whichever finished last, both exiting 0. The lock is flock(2) on a file inside the folder, taken
/// without waiting and held for the whole run; the kernel drops it when the process ends, however it ends, so a
/// killed run never leaves the folder locked. The file holds the owner's pid, for the message of the one refused.
final class OutputFolderLock {
    static let fileName = ".train.lock"
    private let fd: Int32

    init(folder: URL) throws {
        let path = folder.appendingPathComponent(Self.fileName).path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw TrainingError.outputNotWritable(path: folder.path, reason: String(cString: strerror(errno)))
        }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            let owner = Self.owner(fd)
            close(fd)
            guard code == EWOULDBLOCK else {
                throw TrainingError.outputNotWritable(path: folder.path, reason: "cannot lock \(path): " + String(cString: strerror(code)))
            }
            throw TrainingError.outputInUse(path: folder.path, pid: owner)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    /// The pid the holder wrote, when it did.
    private static func owner(_ fd: Int32) -> Int32? {
        var bytes = [UInt8](repeating: 0, count: 32)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return Int32(String(decoding: bytes[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
