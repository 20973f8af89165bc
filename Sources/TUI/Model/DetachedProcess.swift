import Engine
import Foundation

/// Starts programs from an argument vector, never through a shell: detached ones that outlive the UI, or ones
/// waited for with their output.
public enum DetachedProcess {
    /// Starts `executable arguments` with stdin from /dev/null and stdout and stderr appended to `log` (created
    /// 0600 when missing), and returns its pid. The child leads its own process group (Foundation starts every
    /// child so), so neither Ctrl-C in the terminal nor closing it reaches it, and it goes on when the UI quits.
    /// Not through setsid(1): that forks when its caller leads a group, and the pid returned would be the wrong one.
    @discardableResult
    public static func start(_ executable: String, _ arguments: [String], log: URL, environment: [String: String] = [:],
                             currentDirectory: String? = nil) throws -> Int32 {
        if !FileManager.default.fileExists(atPath: log.path) {
            guard FileManager.default.createFile(atPath: log.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw JobSourceError("could not create \(log.path); check that its folder is writable")
            }
        }
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory, isDirectory: true) }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        // Kept until it ends, so that it is reaped then: a zombie would look alive to ProcessLiveness.
        children.add(process)
        process.terminationHandler = { children.remove($0) }
        do { try withSignalsUnblocked { try process.run() } } catch {
            children.remove(process)
            throw JobSourceError("could not start \(executable): \(error.localizedDescription)")
        }
        return process.processIdentifier
    }

    /// A child inherits the signal mask of the thread that starts it, and the threads effects run on block
    /// signals: a child started there would never see SIGINT or SIGTERM (cancel). So they are unblocked on this
    /// thread while it starts one. SIGCHLD stays blocked: Foundation waits for its children through it.
    public static func withSignalsUnblocked<T>(_ body: () throws -> T) rethrows -> T {
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2, SIGALRM] { sigaddset(&unblock, signal) }
        var old = sigset_t()
        pthread_sigmask(SIG_UNBLOCK, &unblock, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        return try body()
    }

    final class Children: @unchecked Sendable {
        private let lock = NSLock()
        private var processes: [ObjectIdentifier: Process] = [:]
        func add(_ p: Process) { lock.withLock { processes[ObjectIdentifier(p)] = p } }
        func remove(_ p: Process) { lock.withLock { processes[ObjectIdentifier(p)] = nil } }
    }

    static let children = Children()

    /// Runs `executable arguments` to the end and returns its exit status and output (stdout, then stderr).
    public static func run(_ executable: String, _ arguments: [String],
                           environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        do { try withSignalsUnblocked { try process.run() } } catch {
            throw JobSourceError("could not start \(executable): \(error.localizedDescription)")
        }
        let output = ProcessOutput.readToEnd(stdout: out, stderr: err)
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output.stdout, as: UTF8.self),
                String(decoding: output.stderr, as: UTF8.self))
    }
}
