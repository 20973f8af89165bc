import Foundation

// How a path or a command is shown to a user, in messages and on screen.

/// A path with the home folder shown as "~".
public func abbreviatePath(_ path: String) -> String {
    if let home = ProcessInfo.processInfo.environment["HOME"], !home.isEmpty, home != "/", path.hasPrefix(home + "/") {
        return "~" + path.dropFirst(home.count)
    }
    return path
}

/// Quotes a word for a POSIX shell when it needs it.
public func shellQuote(_ s: String) -> String {
    let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
    if !s.isEmpty, s.allSatisfy({ safe.contains($0) }) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
