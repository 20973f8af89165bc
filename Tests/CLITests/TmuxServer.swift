import Foundation

/// A tmux server of a test's own (its own socket), for driving `hellotune` in a real terminal. A session that
/// outlives the test's own ones keeps the server up: tmux's server exits with its last session, and a
/// new-session that reaches a server on its way out fails ("server exited unexpectedly").
final class TmuxServer {
    let socket = "hellotune-test-\(UUID().uuidString.prefix(8))"
    /// Where new-session's error output goes for a moment.
    private let scratch: URL

    init(scratch: URL) throws {
        self.scratch = scratch
        try newSession(["-d", "-s", "keep", "sleep 86400"])
    }

    /// Ends the server and every session in it.
    func kill() { _ = try? run(["kill-server"]) }

    struct Failed: Error, CustomStringConvertible {
        let args: [String]
        let stderr: String
        var description: String { "tmux \(args.joined(separator: " ")) failed: \(stderr)" }
    }

    /// Runs a tmux command on this server and returns its output.
    @discardableResult
    func run(_ args: [String]) throws -> String {
        let r = try CLI.run(["tmux", "-L", socket] + args, executable: URL(fileURLWithPath: "/usr/bin/env"))
        guard r.status == 0 else { throw Failed(args: args, stderr: r.stderr) }
        return r.stdout
    }

    /// Starts a session. Not with Foundation's Process: the tmux server that the first session starts inherits
    /// what Process watches for the child's exit, so waiting on it would never end. Its error output goes to a
    /// file, which the server does not keep open.
    func newSession(_ args: [String]) throws {
        let argv = ["tmux", "-L", socket, "new-session"] + args
        let errors = scratch.appendingPathComponent("tmux-\(UUID().uuidString.prefix(8)).err").path
        defer { try? FileManager.default.removeItem(atPath: errors) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, "tmux", &actions, nil, cArgs, environ)
        guard spawned == 0 else { throw Failed(args: argv, stderr: String(cString: strerror(spawned))) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        guard status == 0 else {
            let message = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
            throw Failed(args: argv, stderr: "wait status \(status): \(message)")
        }
    }

    /// Starts `hellotune ARGS` in a new session of `width` x `height`, as a user's xterm-256color terminal with
    /// HELLOTUNE_HOME=`home`; returns the pid tmux reports for it (env execs it, so it is hellotune's).
    @discardableResult
    func launch(_ session: String, home: URL, _ args: [String], width: Int = 80, height: Int = 24) throws -> Int32 {
        let command = (["env", "TERM=xterm-256color", "HELLOTUNE_HOME=\(home.path)", CLI.binary.path] + args)
            .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        try newSession(["-d", "-s", session, "-x", String(width), "-y", String(height), command])
        let pid = try run(["display-message", "-p", "-t", session, "#{pane_pid}"])
        guard let value = Int32(pid.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw Failed(args: ["display-message"], stderr: "no pid in '\(pid)'")
        }
        return value
    }

    /// What the session's screen shows now ("" when it cannot be read).
    func screen(_ session: String) -> String { (try? run(["capture-pane", "-p", "-t", session])) ?? "" }

    func sendKeys(_ session: String, _ keys: String) throws { try run(["send-keys", "-t", session, keys]) }

    /// Waits until the screen shows `text`.
    func waitForScreen(_ session: String, _ text: String, timeout: TimeInterval = 60) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !screen(session).contains(text) {
            guard Date() < deadline else { throw Timeout(what: "'\(text)' on the screen:\n\(screen(session))") }
            usleep(50_000)
        }
    }
}
