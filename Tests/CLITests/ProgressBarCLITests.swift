import Foundation
import XCTest

/// The progress bar as a log sees it: when stderr is not a terminal, one line per tenth of the work, the first
/// update included, so a log shows that work began and how fast it goes from its first step.
final class ProgressBarCLITests: XCTestCase {
    func testOffTerminalTheFirstUpdateAndEveryTenthArePrinted() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = dir.appendingPathComponent("tiny.gguf")
        try TinyChatModel.write(to: model)
        let data = dir.appendingPathComponent("data.jsonl")
        try TinyChatModel.dataset(examples: 20).write(to: data, atomically: true, encoding: .utf8)

        // 20 steps: step 1 is 5% of the work, in the same tenth as nothing done.
        let r = try CLI.run(["train", "--model", model.path, "--data", data.path, "--out", dir.appendingPathComponent("out").path,
                             "--epochs", "1", "--seed", "1", "--val-split", "0"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let steps = r.stderr.split(separator: "\n").compactMap { line -> Int? in
            guard line.hasPrefix("train "), let slash = line.firstIndex(of: "/") else { return nil }
            return Int(line[line.index(line.startIndex, offsetBy: 6)..<slash])
        }
        XCTAssertEqual(steps, [1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20], r.stderr)
    }
}
