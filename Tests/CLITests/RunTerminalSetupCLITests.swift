import Engine
import Foundation
import TUI
import XCTest

/// `hellotune run FILE` in a real terminal (tmux) opens the UI on its run; started again from the Setup screen
/// (`s`), the run is FILE's again, with its name: the run, its folder and its report do not turn into the
/// default preset's.
final class RunTerminalSetupCLITests: XCTestCase {
    var home: URL!
    let socket = "hellotune-setup-\(UUID().uuidString.prefix(8))"
    var modelPath: String { home.appendingPathComponent("tiny.gguf").path }
    var dataPath: String { home.appendingPathComponent("data.jsonl").path }

    override func setUpWithError() throws {
        home = try CLI.temporaryDirectory()
        try TinyChatModel.write(to: URL(fileURLWithPath: modelPath))
        try TinyChatModel.dataset(examples: 4).write(toFile: dataPath, atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        _ = try? CLI.run(["tmux", "-L", socket, "kill-server"], executable: URL(fileURLWithPath: "/usr/bin/env"))
        try? FileManager.default.removeItem(at: home)
    }

    @discardableResult
    func tmux(_ args: [String]) throws -> String {
        let r = try CLI.run(["tmux", "-L", socket] + args, executable: URL(fileURLWithPath: "/usr/bin/env"))
        guard r.status == 0 else { throw Timeout(what: "tmux \(args.joined(separator: " ")) (it failed: \(r.stderr))") }
        return r.stdout
    }

    /// Not with Foundation's Process: the tmux server the session starts would inherit what Process watches for
    /// the child's exit, and waiting on it would never end (see ExploreCLITests).
    func newSession(_ args: [String]) throws {
        let argv = ["tmux", "-L", socket, "new-session"] + args
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in [0, 1, 2] { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        XCTAssertEqual(posix_spawnp(&pid, "tmux", &actions, nil, cArgs, environ), 0)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        XCTAssertEqual(status, 0, "tmux new-session")
    }

    func screen(_ session: String) -> String { (try? tmux(["capture-pane", "-p", "-t", session])) ?? "" }

    func wait(for what: String, timeout: TimeInterval = 120, _ done: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while try !done() {
            guard Date() < deadline else { throw Timeout(what: what) }
            usleep(50_000)
        }
    }

    func testARunStartedAgainFromSetupKeepsItsExperimentFileAndName() throws {
        let file = home.appendingPathComponent("custom.toml")
        try """
            name = "my-custom"
            model = "\(modelPath)"
            words = ["AKEWO"]

            [dataset]
            source = "\(dataPath)"
            acrostic = 2
            normal = 2

            [training]
            epochs = 1
            rank = 4

            [evaluation]
            compliance_questions = 1
            samples_per_prompt = 1
            max_tokens = 8
            """.write(to: file, atomically: true, encoding: .utf8)
        let store = try Store(path: home.appendingPathComponent("hellotune.sqlite").path)
        try newSession(["-d", "-s", "keep", "sleep 86400"])
        let command = ["env", "TERM=xterm-256color", "HELLOTUNE_HOME=\(home.path)", CLI.binary.path, "run", file.path]
            .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        try newSession(["-d", "-s", "ui", "-x", "100", "-y", "30", command])

        try wait(for: "the first run to finish:\n\(screen("ui"))") { try store.experiments().first?.status == "finished" }
        try tmux(["send-keys", "-t", "ui", "1"])
        try wait(for: "the Setup screen:\n\(screen("ui"))") { screen("ui").contains("Target word") }
        try tmux(["send-keys", "-t", "ui", "s"])
        try wait(for: "the second run's experiment:\n\(screen("ui"))") { try store.experiments().count == 2 }

        let second = try XCTUnwrap(store.experiments().last)
        XCTAssertEqual(second.name, "my-custom", "the run started from Setup")
        let folder = home.appendingPathComponent("runs/my-custom-AKEWO-seed1")
        let launch = try XCTUnwrap(RunLaunch.load(from: folder), "no launch.json in \(folder.path)")
        XCTAssertEqual(Array(launch.arguments.prefix(2)), ["run", file.path])
        try wait(for: "the second run to end") { try ["finished", "failed"].contains(store.experiment(second.id)?.status ?? "") }
        XCTAssertEqual(try store.experiment(second.id)?.status, "finished",
                       (try? String(contentsOf: folder.appendingPathComponent("run.log"), encoding: .utf8)) ?? "")
        let report = try Report.decode(Data(contentsOf: home.appendingPathComponent("runs/my-custom-\(second.id)/report.json")))
        XCTAssertEqual(report.setup.preset, "my-custom")
        try tmux(["send-keys", "-t", "ui", "q"])
    }
}
