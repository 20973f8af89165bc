#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether a worker process still exists, asked of the kernel without disturbing it.
public enum ProcessLiveness {
    /// True while the process exists (a zombie not yet reaped counts), including one owned by another user.
    public static func isAlive(_ pid: Int32) -> Bool {
        // 0 and negative pids name process groups: kill() would reach this process or every process.
        guard pid > 0 else { return false }
        if kill(pid, 0) == 0 { return true }
        return errno == EPERM
    }
}
