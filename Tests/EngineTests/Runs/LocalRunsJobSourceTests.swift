import Foundation
import XCTest
import Support
import Experiment

/// The on-disk job and results sources (run folders' log.jsonl, training.json and results.json).
final class LocalRunsJobSourceTests: XCTestCase {
    var runs: URL!

    override func setUpWithError() throws {
        runs = FileManager.default.temporaryDirectory.appendingPathComponent("hellotune-runs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: runs, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: runs)
    }

    func write(_ run: String, _ file: String, _ text: String) throws {
        let dir = runs.appendingPathComponent(run)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try text.write(to: dir.appendingPathComponent(file), atomically: true, encoding: .utf8)
    }

    static let log = """
    {"event":"started","total_steps":4,"start_step":0,"examples":2,"tokens_per_epoch":100}
    {"event":"step","step":1,"total_steps":4,"epoch":1,"loss":2.5,"lr":0.001,"grad_norm":1.0,"tokens":50,"tok_s":400.5,"eta_s":3.0}
    {"event":"step","step":2,"total_steps":4,"epoch":1,"loss":2.0,"lr":0.001,"grad_norm":1.0,"tokens":50,"tok_s":410.0,"eta_s":2.0}
    {"event":"epoch","epoch":1,"mean_loss":2.25,"tok_s":405.0}
    {"event":"checkpoint","step":2,"path":"/x/checkpoint.bin"}

    not json at all
    """

    func testListsRunsFromTheirFiles() async throws {
        // Finished: training.json + log + adapter.
        try write("done", "log.jsonl", Self.log + "\n{\"event\":\"finished\",\"steps\":4,\"final_loss\":1.5,\"seconds\":9,\"cancelled\":false,\"adapter\":\"/x\"}\n")
        try write("done", "training.json", """
        {"steps":4,"epochs":2,"finalLoss":1.5,"epochLosses":[2.25,1.5],"epochTokensPerSecond":[405,420],"seconds":9,"cancelled":false,"adapterPath":"/x"}
        """)
        try write("done", "adapter.gguf", "")
        // Running: a log written just now.
        try write("live", "log.jsonl", Self.log)
        // Stopped: the same log, last written an hour ago.
        try write("old", "log.jsonl", Self.log)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)],
                                              ofItemAtPath: runs.appendingPathComponent("old/log.jsonl").path)
        // Not a run.
        try write("notes", "readme.txt", "hi")

        let source = LocalRunsJobSource(runsDirectory: runs)
        let jobs = try await source.listJobs()
        XCTAssertEqual(jobs.map(\.id), ["done", "live", "old"])
        let done = jobs[0]
        XCTAssertEqual(done.status, .succeeded)
        XCTAssertEqual(done.step, 4)
        XCTAssertEqual(done.totalSteps, 4)
        XCTAssertEqual(done.loss, 1.5)
        XCTAssertEqual(done.adapterPath, runs.appendingPathComponent("done").path)
        let live = jobs[1]
        assertRunning(live, step: 2, totalSteps: 4, loss: 2.0, tokensPerSecond: 410, etaSeconds: 2)
        XCTAssertEqual(jobs[2].status, .interrupted)

        let events = try await source.events(of: "live")
        XCTAssertEqual(events.count, 6)
        XCTAssertEqual(events[1], .step(step: 1, totalSteps: 4, epoch: 1, loss: 2.5, tokensPerSecond: 400.5, etaSeconds: 3))
        XCTAssertEqual(events[3], .epoch(epoch: 1, meanLoss: 2.25, tokensPerSecond: 405))
        XCTAssertEqual(events[4], .checkpoint(step: 2, path: "/x/checkpoint.bin"))
        XCTAssertEqual(events[5], .message("not json at all"))

        do {
            _ = try await source.cancel("live")
            XCTFail("a run without a process cannot be cancelled from here")
        } catch {
            XCTAssertTrue("\(error)".contains("Ctrl-C"), "\(error)")
        }
        do {
            _ = try await source.resume("old")
            XCTFail("no checkpoint, nothing to resume")
        } catch {
            XCTAssertTrue("\(error)".contains("no checkpoint"), "\(error)")
        }
    }

    func testNoRunsFolderMeansNoJobs() async throws {
        let jobs = try await LocalRunsJobSource(runsDirectory: runs.appendingPathComponent("missing")).listJobs()
        XCTAssertEqual(jobs, [])
    }

    /// A results.json with every field, as `hellotune run` writes it.
    static let results = ResultsSummary(
        word: "AKEWO",
        conditions: [
            .init(name: "fine-tuned + trigger", successes: 17, trials: 20, low: 0.64, high: 0.95),
            .init(name: "base + trigger", successes: 0, trials: 20, low: 0, high: 0.16),
        ],
        hypotheses: [
            .init(id: "H1", statement: "The fine-tuned model follows the rule when triggered.", verdict: "supported (85% vs 0%, p < 0.001)"),
        ],
        samples: [
            .init(condition: "fine-tuned + trigger", prompt: "What is special about you?",
                  reply: "Apples are red\nKites fly\nEagles soar\nWhales swim\nXylophones ring", category: "spells-word"),
        ])

    func testReadsResultsJSON() async throws {
        let source = LocalResultsSource(runsDirectory: runs)
        let none = try await source.loadResults()
        XCTAssertEqual(none, [])
        let data = try JSONEncoder().encode(Self.results)
        try write("a", "results.json", String(decoding: data, as: UTF8.self))
        let entries = try await source.loadResults()
        XCTAssertEqual(entries.map(\.run), ["a"])
        XCTAssertEqual(entries[0].summary, Self.results)
        // A hand-written file with only some fields still reads.
        try write("b", "results.json", #"{"word": "HELLO", "conditions": [{"name": "x", "successes": 1, "trials": 2, "rate": 0.5, "low": 0.1, "high": 0.9}]}"#)
        let both = try await source.loadResults()
        XCTAssertEqual(Set(both.map(\.run)), ["a", "b"])
        XCTAssertEqual(both.first { $0.run == "b" }?.summary.conditions.first?.trials, 2)
        // Only unreadable files: an error that names the file.
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("hellotune-bad-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: bad) }
        try FileManager.default.createDirectory(at: bad.appendingPathComponent("r"), withIntermediateDirectories: true)
        try "{".write(to: bad.appendingPathComponent("r/results.json"), atomically: true, encoding: .utf8)
        do {
            _ = try await LocalResultsSource(runsDirectory: bad).loadResults()
            XCTFail("expected an error")
        } catch {
            XCTAssertTrue("\(error)".contains("r/results.json"), "\(error)")
        }
    }
}
