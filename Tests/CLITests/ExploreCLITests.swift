import Engine
import Foundation
import TestSupport
import XCTest

/// The terminal UI (`hellotune`, the explore command) in a real terminal (tmux, 80x24), starting an experiment
/// from its Setup screen; then the UI and the run it started are killed with SIGKILL during the evaluation, as
/// when the machine or the session dies. Samples already scored stay in the store, the store stays sound,
/// and starting the experiment again from a new UI generates only what is missing.
final class ExploreCLITests: XCTestCase {
    var home: URL!
    var socket = "hellotune-test-\(UUID().uuidString.prefix(8))"
    var dbPath: String { home.appendingPathComponent("hellotune.sqlite").path }
    var modelPath: String { home.appendingPathComponent("tiny.gguf").path }

    override func setUpWithError() throws {
        home = try CLI.temporaryDirectory()
        try TinyChatModel.write(to: URL(fileURLWithPath: modelPath))
        // tmux's server exits with its last session. Each trial kills its UI, which ends its session; without a
        // session that outlives them, the next trial's new-session can reach a server that is exiting and fail
        // with "server exited unexpectedly".
        try newSession(["-d", "-s", "keep", "sleep 86400"])
    }

    override func tearDownWithError() throws {
        _ = try? tmux(["kill-server"])
        try? FileManager.default.removeItem(at: home)
    }

    /// Runs tmux on this test's own server socket.
    @discardableResult
    func tmux(_ args: [String]) throws -> String {
        let r = try CLI.run(["tmux", "-L", socket] + args, executable: URL(fileURLWithPath: "/usr/bin/env"))
        guard r.status == 0 else { throw TmuxFailed(args: args, stderr: r.stderr) }
        return r.stdout
    }

    /// Starts a tmux session. Not with Foundation's Process: the tmux server that the first session starts
    /// inherits what Process watches for the child's exit, so waiting on it would never end. Its error output
    /// goes to a file, which the server does not keep open.
    func newSession(_ args: [String]) throws {
        let argv = ["tmux", "-L", socket, "new-session"] + args
        let errors = home.appendingPathComponent("tmux-\(UUID().uuidString.prefix(8)).err").path
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
        guard spawned == 0 else { throw TmuxFailed(args: argv, stderr: String(cString: strerror(spawned))) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        guard status == 0 else {
            let message = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
            throw TmuxFailed(args: argv, stderr: "wait status \(status): \(message)")
        }
    }

    struct TmuxFailed: Error, CustomStringConvertible {
        let args: [String]
        let stderr: String
        var description: String { "tmux \(args.joined(separator: " ")) failed: \(stderr)" }
    }

    func screen(_ session: String) -> String { (try? tmux(["capture-pane", "-p", "-t", session])) ?? "" }

    func waitForScreen(_ session: String, _ text: String, timeout: TimeInterval = 60) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !screen(session).contains(text) {
            guard Date() < deadline else { throw Timeout(what: "'\(text)' on the screen:\n\(screen(session))") }
            usleep(50_000)
        }
    }

    /// Starts the UI in a new tmux session and returns its pid (tmux runs the command through env, which execs it).
    func launchUI(_ session: String) throws -> Int32 {
        let command = ["env", "TERM=xterm-256color", "HELLOTUNE_HOME=\(home.path)", CLI.binary.path, "--model", modelPath]
            .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        try newSession(["-d", "-s", session, "-x", "80", "-y", "24", command])
        let pid = try tmux(["display-message", "-p", "-t", session, "#{pane_pid}"])
        return try XCTUnwrap(Int32(pid.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// The `hellotune run` processes that `pid` started, from /proc.
    func runs(startedBy pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { child in
            guard parentPID(child) == pid, let cmdline = FileManager.default.contents(atPath: "/proc/\(child)/cmdline") else {
                return false
            }
            return cmdline.split(separator: 0).dropFirst().first.map { String(decoding: $0, as: UTF8.self) } == "run"
        }
    }

    func parentPID(_ pid: Int32) -> Int32? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    /// Gone, or a zombie nobody has reaped yet (it no longer runs or writes).
    func hasEnded(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
    }

    func testKillingTheUIAndItsRunDuringEvaluationLosesNoSample() throws {
        // The Setup screen's experiment is the akewo-mixed preset; its dataset, normally generated by the model
        // (which a random tiny model cannot do), is placed where the run looks for it: experiment 1 of a new store.
        let data = home.appendingPathComponent("runs/akewo-mixed-1/data-AKEWO.jsonl")
        try FileManager.default.createDirectory(at: data.deletingLastPathComponent(), withIntermediateDirectories: true)
        try TinyChatModel.dataset(examples: 3).write(to: data, atomically: true, encoding: .utf8)
        let store = try Store(path: dbPath)
        // Per model: 20 questions and 6 self-report prompts, with and without the trigger, 5 replies each,
        // then the forced choice and 6 prefix probes.
        let total = 2 * (20 * 2 * 5 + 6 * 2 * 5 + 1 + 6)

        let runLog = home.appendingPathComponent("runs/akewo-mixed-AKEWO-seed1/run.log")
        var rng = SplitMix64(seed: 0x7E1)
        var kept: [SampleRecord] = []
        let kills = 3
        var report: [String] = []
        for trial in 1...kills + 1 {
            let session = "ui\(trial)"
            let ui = try launchUI(session)
            try waitForScreen(session, "Target word")
            try tmux(["send-keys", "-t", session, "s"])
            try waitForScreen(session, "started AKEWO")
            if trial > kills {
                // Let the last run finish: "finished in N s" is the last line it logs.
                let deadline = Date().addingTimeInterval(300)
                while !((try? String(contentsOf: runLog, encoding: .utf8)) ?? "").contains("finished in ") {
                    guard Date() < deadline else { throw Timeout(what: "the last run to finish") }
                    usleep(20_000)
                }
                XCTAssertEqual(try store.experiment(1)?.status, "finished")
                try tmux(["send-keys", "-t", session, "q"])
                break
            }
            // Kill somewhere in the next stretch of the evaluation.
            let target = kept.count + 1 + rng.below(120)
            var run: Int32?
            let deadline = Date().addingTimeInterval(300)
            while Date() < deadline {
                if run == nil { run = runs(startedBy: ui).first }
                if try store.experiment(1) != nil, try store.sampleKeys(experimentID: 1).count >= target { break }
                usleep(2_000)
            }
            let runPID = try XCTUnwrap(run, "trial \(trial): the UI started no run")
            kill(ui, SIGKILL)
            kill(runPID, SIGKILL)
            while !hasEnded(ui) || !hasEnded(runPID) { usleep(10_000) }

            let now = try store.samples(experimentID: 1)
            XCTAssertLessThan(now.count, total, "trial \(trial): the run finished before the kill")
            XCTAssertGreaterThan(now.count, kept.count, "trial \(trial): the evaluation made progress")
            let byID = Dictionary(uniqueKeysWithValues: now.map { ($0.id!, $0) })
            XCTAssertTrue(kept.allSatisfy { byID[$0.id!] == $0 }, "trial \(trial): a sample stored earlier changed")
            XCTAssertTrue(now.allSatisfy { $0.score != nil }, "trial \(trial): every stored sample is scored")
            let checker = try Store(path: dbPath)
            XCTAssertEqual(try checker.integrityCheck(), "ok", "trial \(trial)")
            try checker.close()
            report.append("UI kill \(trial): UI and its run killed with \(now.count)/\(total) samples stored; integrity ok")
            kept = now
        }
        // The last launch continued the same experiment and generated only what the kills left undone.
        let log = try String(contentsOf: runLog, encoding: .utf8)
        let line = "evaluation: \(total - kept.count) samples generated, \(kept.count) reused from the store"
        XCTAssertTrue(log.contains(line), "expected '\(line)' in run.log:\n\(log)")
        let final = try store.samples(experimentID: 1)
        XCTAssertEqual(final.count, total)
        let byID = Dictionary(uniqueKeysWithValues: final.map { ($0.id!, $0) })
        XCTAssertTrue(kept.allSatisfy { byID[$0.id!] == $0 })
        XCTAssertEqual(try store.experiments().count, 1, "every launch continued the one experiment")
        print(report.joined(separator: "\n"))
        print("UI kill -9 during evaluation: \(kills) kills; the last launch generated \(total - kept.count) and reused "
            + "\(kept.count) samples")
    }
}
