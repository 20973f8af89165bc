import Foundation
import XCTest
import Training

/// `hellotune train --out` never loses a result without a word: one run at a time writes a folder, and a finished
/// adapter is replaced only when asked.
final class TrainOutputCLITests: XCTestCase {
    var dir: URL!
    var model: URL { dir.appendingPathComponent("tiny.gguf") }
    var data: URL { dir.appendingPathComponent("tiny.jsonl") }
    var out: URL { dir.appendingPathComponent("out") }

    override func setUpWithError() throws {
        dir = try CLI.temporaryDirectory()
        try TinyChatModel.write(to: model)
        try TinyChatModel.dataset(examples: 8).write(to: data, atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func args(epochs: Int = 1, seed: Int = 3) -> [String] {
        ["train", "--model", model.path, "--data", data.path, "--out", out.path, "--epochs", String(epochs), "--rank", "4",
         "--seed", String(seed)]
    }

    /// Two runs started together into one folder: one trains, the other stops at once naming the folder and the
    /// pid that holds it. Before the lock both exited 0, one run's adapter lost.
    func testTwoRunsIntoOneFolderOneIsRefused() throws {
        // Long enough (a few seconds) that the first is still training when the second reaches the folder.
        let logs = [dir.appendingPathComponent("a.log"), dir.appendingPathComponent("b.log")]
        let runs = try [CLI.start(args(epochs: 150, seed: 1), log: logs[0]), CLI.start(args(epochs: 150, seed: 2), log: logs[1])]
        for p in runs { p.waitUntilExit() }
        let statuses = runs.map(\.terminationStatus)
        let texts = try logs.map { try String(contentsOf: $0, encoding: .utf8) }
        XCTAssertEqual(statuses.filter { $0 == 0 }.count, 1, "exactly one succeeds: \(statuses)\n\(texts.joined(separator: "\n---\n"))")
        guard let loser = statuses.firstIndex(where: { $0 != 0 }) else { return }
        let winner = 1 - loser
        // The holder's pid is named when its lock file already holds it; a run that reaches the folder between the
        // lock and the pid's write is refused without it (seen once in CI).
        let tail = "is writing to \(out.path). Wait for it to finish (or stop it), or choose another --out folder."
        let named = "Error: another training run (pid \(runs[winner].processIdentifier)) " + tail
        XCTAssertTrue(texts[loser].contains(named) || texts[loser].contains("Error: another training run " + tail), texts[loser])
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("adapter_model.safetensors").path))
        let summary = try JSONDecoder().decode(TrainingSummary.self, from: Data(contentsOf: out.appendingPathComponent("training.json")))
        XCTAssertFalse(summary.cancelled)
    }

    /// A second run into a finished folder is refused, its adapter untouched; --force trains again and replaces it;
    /// --resume on the finished run keeps it.
    func testFinishedFolderIsReplacedOnlyWithForce() throws {
        let first = try CLI.run(args())
        XCTAssertEqual(first.status, 0, first.stderr)
        let adapter = out.appendingPathComponent("adapter_model.safetensors")
        let before = try Data(contentsOf: adapter)

        let again = try CLI.run(args(seed: 4))
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("Error: \(out.path) already holds the adapter of a finished training run. Pass --resume "
            + "to continue from its checkpoint, --force to train again and replace it, or choose another --out folder."), again.stderr)
        XCTAssertEqual(try Data(contentsOf: adapter), before, "the refused run left the adapter as it was")

        let both = try CLI.run(args(seed: 4) + ["--force", "--resume"])
        XCTAssertNotEqual(both.status, 0)
        XCTAssertTrue(both.stderr.contains("give --resume (continue the run in --out) or --force (start it again), not both"), both.stderr)

        let forced = try CLI.run(args(seed: 4) + ["--force"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertNotEqual(try Data(contentsOf: adapter), before, "another seed, another adapter")

        let resumed = try CLI.run(args(seed: 4) + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
    }
}
