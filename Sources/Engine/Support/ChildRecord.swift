import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The pid of the child a command is running, if any, so that a signal handler can stop it. Foundation starts
/// each child in a process group of its own, which Ctrl-C in the terminal does not reach.
public final class ChildRecord: @unchecked Sendable {
    private let lock = NSLock()
    private var pid: Int32?

    public init() {}

    public func set(_ pid: Int32?) {
        lock.lock()
        self.pid = pid
        lock.unlock()
    }

    /// Stops the child and its own children (its process group).
    public func stop() {
        lock.lock()
        let pid = self.pid
        lock.unlock()
        guard let pid, pid > 0 else { return }
        kill(-pid, SIGTERM)
        kill(pid, SIGTERM)
    }
}
