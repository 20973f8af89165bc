import Foundation
import Support

/// Starts programs from an argument vector, never through a shell: detached ones that outlive the UI, or ones
/// waited for with their output.
public enum DetachedProcess {
    /// Starts `executable arguments` with stdin from /dev/null and stdout and stderr appended to `log` (created
    /// 0600 when missing), and returns its pid. The child leads its own session, so neither Ctrl-C in the terminal
    /// nor closing it (a hangup sent to the terminal's session) reaches it, and it goes on when the UI quits; it
    /// starts with every signal unblocked, and is reaped when it ends (see SessionProcess).
    @discardableResult
    public static func start(_ executable: String, _ arguments: [String], log: URL, environment: [String: String] = [:],
                             currentDirectory: String? = nil) throws -> Int32 {
        do {
            return try SessionProcess.start(executable, arguments, appendingTo: log, environment: environment,
                                            currentDirectory: currentDirectory).pid
        } catch {
            throw JobSourceError("\(error)")
        }
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
