import Foundation
import TUI
import XCTest
import Experiment

/// Setup offers every experiment file (shipped and the user's own) beside the presets, brings each one's settings
/// into its fields, and shows the learning-rate schedule and warm-up it trains with.
final class SetupExperimentFilesTests: XCTestCase {
    static var shipped: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("experiments")
    }

    func testTheCatalogueHasTheShippedFilesAndTheUsersOwn() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("setup-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        try "name = \"mine\"\nwords = [\"TUMBI\"]\n\n[training]\nepochs = 3\nschedule = \"linear\"\nwarmup = 5\n"
            .write(to: home.appendingPathComponent("mine.toml"), atomically: true, encoding: .utf8)
        try "name = \"broken\"\nwords = [\"TUMBI\"\n".write(to: home.appendingPathComponent("broken.toml"), atomically: true, encoding: .utf8)
        let (files, problems) = ExperimentCatalogue.files(in: [Self.shipped, home])
        XCTAssertEqual(files.map(\.name), ["akewo-mixed", "akewo-scaled", "hello", "hello-mixed", "mine", "sweep"])
        XCTAssertEqual(problems.count, 1)
        XCTAssertTrue(problems[0].hasPrefix(home.appendingPathComponent("broken.toml").path), problems[0])
        XCTAssertEqual(ExperimentCatalogue.shippedFolder(executable: "/nonexistent/bin/hellotune", workingDirectory: Self.shipped
            .deletingLastPathComponent())?.standardizedFileURL, Self.shipped.standardizedFileURL)

        var s = AppState()
        s.setup.settings.files = files
        XCTAssertEqual(s.setup.settings.presetChoices, ["akewo-mixed", "hello", "akewo-scaled", "hello-mixed", "mine", "sweep"])
        XCTAssertEqual(s.setup.settings.scheduleSummary, "constant, no warm-up")
        // Down to the preset field, then right until the scaled-up experiment is chosen.
        _ = update(&s, .key(.down))
        XCTAssertEqual(s.setup.focus, .preset)
        while s.setup.settings.preset != "akewo-scaled" { _ = update(&s, .key(.right)) }
        let settings = s.setup.settings
        XCTAssertEqual(settings.acrosticExamples, 280, "a file brings its dataset size")
        XCTAssertEqual(settings.normalExamples, 100)
        XCTAssertEqual(settings.learningRate, 2e-3, "and its training")
        XCTAssertEqual(settings.scheduleSummary, "cosine decay after 100 warm-up steps")
        XCTAssertEqual(settings.seeds, [1, 2, 3], "and its seeds, which the run uses")
        XCTAssertEqual(try settings.config().seeds, [1, 2, 3])
        XCTAssertEqual(settings.chosenExperimentFile, Self.shipped.appendingPathComponent("akewo-scaled.toml").path)
        XCTAssertEqual(try settings.config().training.warmup, 100, "the run starts from the file")
        let screen = render(s, size: Size(width: 100, height: 30)).lines.joined(separator: "\n")
        XCTAssertTrue(screen.contains("lr 0.002 (cosine") && screen.contains("decay after 100 warm-up steps), seeds 1, 2, 3."), screen)

        _ = update(&s, .key(.right))
        XCTAssertEqual(s.setup.settings.preset, "hello-mixed")
        XCTAssertEqual(s.setup.settings.word, "HELLO")
        XCTAssertEqual(s.setup.settings.normalExamples, 10, "the HELLO control keeps akewo-mixed's design")
        _ = update(&s, .key(.right))
        XCTAssertEqual(s.setup.settings.preset, "mine")
        XCTAssertEqual(s.setup.settings.word, "TUMBI")
        XCTAssertEqual(s.setup.settings.epochs, 3)
        XCTAssertEqual(s.setup.settings.scheduleSummary, "linear decay after 5 warm-up steps")
        XCTAssertEqual(s.setup.settings.chosenExperimentFile, home.appendingPathComponent("mine.toml").path)
        _ = update(&s, .key(.right))
        XCTAssertEqual(s.setup.settings.preset, "sweep")
        XCTAssertEqual(s.setup.settings.word, "HELLO")
        XCTAssertEqual(try s.setup.settings.config().words.count, 6, "a sweep runs all its words")
    }

    /// A row of presets wider than the screen scrolls so that the chosen one shows, with "…" for those before it.
    func testTheChosenPresetStaysVisibleInALongRow() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("setup-row-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let names = ["a-rather-long-experiment-name", "another-long-experiment-name", "the-last-long-experiment"]
        for name in names {
            try "name = \"\(name)\"\nwords = [\"TUMBI\"]\n".write(to: home.appendingPathComponent("\(name).toml"), atomically: true, encoding: .utf8)
        }
        var s = AppState()
        s.setup.settings.files = ExperimentCatalogue.files(in: [Self.shipped, home]).0
        _ = update(&s, .key(.down))
        func presetLine() -> String {
            render(s, size: Size(width: 80, height: 24)).lines.first { $0.contains("Preset") } ?? ""
        }
        XCTAssertTrue(presetLine().contains("‹akewo-mixed›"), presetLine())
        XCTAssertFalse(presetLine().contains("…"), "the first option shows without scrolling: \(presetLine())")
        while s.setup.settings.preset != "the-last-long-experiment" { _ = update(&s, .key(.right)) }
        XCTAssertTrue(presetLine().contains("‹the-last-long-experiment›"), presetLine())
        XCTAssertTrue(presetLine().contains("… "), presetLine())
        XCTAssertFalse(presetLine().contains("akewo-mixed "), "options before the window are left out: \(presetLine())")
    }
}
