import CSpawn
import Foundation

/// A program started in a session of its own, so that neither Ctrl-C nor closing the terminal it was started from
/// reaches it and it outlives its starter. Its pid is the program's own: setsid(1) forks when its caller leads a
/// process group (Foundation starts every child so), and the pid its starter saw would be setsid's, gone at once.
/// A thread waits for it, so that it never stays a zombie, which ProcessLiveness would count as alive.
public final class SessionProcess: @unchecked Sendable {
    public let pid: Int32
    private let ended = NSLock()
    /// The raw wait status once it has ended (nil while it runs); -1 when it was reaped elsewhere.
    private var waitStatus: Int32?

    public struct StartError: Error, CustomStringConvertible {
        public let executable: String
        public let reason: String
        public var description: String { "could not start \(executable): \(reason)" }
    }

    /// Starts `executable arguments` (an absolute path, never a shell) with stdin from /dev/null, stdout to
    /// `output` and stderr to `errors` (to `output` too when nil), with this process's environment plus
    /// `environment`, in `currentDirectory` when given.
    public static func start(_ executable: String, _ arguments: [String], output: FileHandle, errors: FileHandle? = nil,
                             environment: [String: String] = [:], currentDirectory: String? = nil) throws -> SessionProcess {
        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = cspawn_session(executable, argv, envp, currentDirectory, output.fileDescriptor,
                                (errors ?? output).fileDescriptor, &pid)
        guard rc == 0 else { throw StartError(executable: executable, reason: String(cString: strerror(rc))) }
        let process = SessionProcess(pid: pid)
        Thread.detachNewThread { process.reap() }
        return process
    }

    /// `start` with stdout and stderr appended to `log` (stderr to `errorLog` when given), each created 0600 when
    /// missing: a worker started again after a crash adds to the log of the one before, which keeps what that one
    /// said.
    public static func start(_ executable: String, _ arguments: [String], appendingTo log: URL, errorsTo errorLog: URL? = nil,
                             environment: [String: String] = [:], currentDirectory: String? = nil) throws -> SessionProcess {
        func open(_ url: URL) throws -> FileHandle {
            do { return try AppendFile.open(url) } catch {
                throw StartError(executable: executable, reason: "its log \(url.path) cannot be created; check that its folder is writable")
            }
        }
        let handle = try open(log)
        defer { try? handle.close() }
        let errors = try errorLog.map(open)
        defer { try? errors?.close() }
        return try start(executable, arguments, output: handle, errors: errors, environment: environment,
                         currentDirectory: currentDirectory)
    }

    private init(pid: Int32) { self.pid = pid }

    private func reap() {
        var status: Int32 = 0
        var rc: pid_t
        repeat { rc = waitpid(pid, &status, 0) } while rc == -1 && errno == EINTR
        ended.lock()
        waitStatus = rc == pid ? status : -1
        ended.unlock()
    }

    /// Whether it has ended (and been reaped).
    public var hasExited: Bool {
        ended.lock()
        defer { ended.unlock() }
        return waitStatus != nil
    }

    /// How it ended ("exited with status 1", "was killed by signal 9"); nil while it runs.
    public var ending: String? {
        ended.lock()
        defer { ended.unlock() }
        guard let status = waitStatus else { return nil }
        if status == -1 { return "ended" }
        let signal = status & 0x7f
        return signal == 0 ? "exited with status \((status >> 8) & 0xff)" : "was killed by signal \(signal)"
    }
}
