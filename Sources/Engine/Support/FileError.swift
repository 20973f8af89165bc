#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be written, each naming the file and saying what to do.
public enum FileError: Error, CustomStringConvertible, Equatable {
    case notWritable(path: String)
    case notFound(path: String)
    /// No space left on the device (or the user's disk quota is used up).
    case diskFull(path: String)
    /// The file would exceed the largest file this process may write (`ulimit -f`) or the file system allows.
    case tooLarge(path: String)
    /// Any other failure, with the system's words.
    case failed(path: String, reason: String)

    /// The error for a failed system call on `path`.
    public init(errno code: Int32, path: String, creating: Bool = false) {
        switch code {
        case ENOSPC, EDQUOT: self = .diskFull(path: path)
        case EFBIG: self = .tooLarge(path: path)
        default:
            if creating, [EACCES, EPERM, EROFS, ENOENT, ENOTDIR].contains(code) {
                self = .notWritable(path: path)
            } else {
                self = .failed(path: path, reason: String(cString: strerror(code)))
            }
        }
    }

    public var description: String {
        switch self {
        case let .notWritable(path):
            return "cannot write \(path): check that the folder exists and is writable."
        case let .notFound(path):
            return "\(path) does not exist."
        case let .diskFull(path):
            return "cannot write \(path): the disk is full (no space left on device). Its previous version, if any, "
                + "is unchanged; free some space and try again."
        case let .tooLarge(path):
            return "cannot write \(path): the file is too large (it would exceed the file size limit, see `ulimit -f`). "
                + "Its previous version, if any, is unchanged; raise the limit or write elsewhere, then try again."
        case let .failed(path, reason):
            return "cannot write \(path): \(reason). Its previous version, if any, is unchanged."
        }
    }
}
