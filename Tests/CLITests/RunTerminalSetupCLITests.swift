import Foundation
import TUI
import XCTest
import Store
import Experiment

/// `hellotune run FILE` in a real terminal (tmux) opens the UI on its run; started again from the Setup screen
/// (`s`), the run is FILE's again, with its name: the run, its folder and its report do not turn into the
/// default preset's.
final class RunTerminalSetupCLITests: XCTestCase {
    var home: URL!
    var tmux: TmuxServer!

    override func setUpWithError() throws {
        home = try CLI.temporaryDirectory()
        try TinyChatModel.install(in: home, examples: 4)
        tmux = try TmuxServer(scratch: home)
    }

    override func tearDownWithError() throws {
        tmux?.kill()
        try? FileManager.default.removeItem(at: home)
    }

    func wait(for what: String, timeout: TimeInterval = 120, _ done: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while try !done() {
            guard Date() < deadline else { throw Timeout(what: what) }
            usleep(50_000)
        }
    }

    func testARunStartedAgainFromSetupKeepsItsExperimentFileAndName() throws {
        let file = try TinyChatModel.experiment(name: "my-custom", in: home, acrostic: 2, normal: 2, complianceQuestions: 1,
                                                samplesPerPrompt: 1, maxTokens: 8)
        let store = try Store(path: home.appendingPathComponent("hellotune.sqlite").path)
        try tmux.launch("ui", home: home, ["run", file.path], width: 100, height: 30)

        try wait(for: "the first run to finish:\n\(tmux.screen("ui"))") { try store.experiments().first?.status == "finished" }
        try tmux.sendKeys("ui", "1")
        try wait(for: "the Setup screen:\n\(tmux.screen("ui"))") { tmux.screen("ui").contains("Target word") }
        try tmux.sendKeys("ui", "s")
        try wait(for: "the second run's experiment:\n\(tmux.screen("ui"))") { try store.experiments().count == 2 }

        let second = try XCTUnwrap(store.experiments().last)
        XCTAssertEqual(second.name, "my-custom", "the run started from Setup")
        let folder = home.appendingPathComponent("runs/my-custom-AKEWO-seed1")
        let launch = try XCTUnwrap(RunLaunch.load(from: folder), "no launch.json in \(folder.path)")
        // Setup writes the experiment into the run folder and runs that file: the original's name and the settings
        // Setup has no field for, with Setup's fields over them.
        let written = folder.appendingPathComponent("experiment.toml")
        XCTAssertEqual(launch.arguments, ["run", written.path, "--headless"])
        let original = try ExperimentFile.load(path: file.path)
        var expected = original
        expected.model = try XCTUnwrap(try ExperimentFile.load(path: written.path).model)
        XCTAssertEqual(try ExperimentFile.load(path: written.path), expected)
        try wait(for: "the second run to end") { try ["finished", "failed"].contains(store.experiment(second.id)?.status ?? "") }
        XCTAssertEqual(try store.experiment(second.id)?.status, "finished",
                       (try? String(contentsOf: folder.appendingPathComponent("run.log"), encoding: .utf8)) ?? "")
        let report = try Report.decode(Data(contentsOf: home.appendingPathComponent("runs/my-custom-\(second.id)/report.json")))
        XCTAssertEqual(report.setup.preset, "my-custom")
        try tmux.sendKeys("ui", "q")
    }
}
