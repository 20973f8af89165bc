import Foundation
import XCTest

/// `hellotune bench generate` on the tiny model: the batched measurement decodes as many sequences as `--batch` asks
/// and names its rate after them; a batch of none is refused. (Speeds are compared by running the bench beside the
/// anchors, never asserted here.)
final class BenchCLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try CLI.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testBatchSizeIsChosenAndNamed() throws {
        let model = dir.appendingPathComponent("tiny.gguf")
        try TinyChatModel.write(to: model)
        let r = try CLI.run(["bench", "generate", "--model", model.path, "--runs", "1", "--batch", "3", "--batch-steps", "2",
                             "--json"], env: [:], timeout: 300, currentDirectory: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        XCTAssertGreaterThan(try XCTUnwrap(o["batch3_tok_s"] as? Double), 0)
        XCTAssertNil(o["batch16_tok_s"])
        XCTAssertTrue(r.stderr.contains("batch3 run 1:"), r.stderr)
        // Each decode token's time, as percentiles in order.
        let tokens = try XCTUnwrap(o["decode_token_ms"] as? [String: Double], r.stdout)
        let p10 = try XCTUnwrap(tokens["p10"]), p50 = try XCTUnwrap(tokens["p50"])
        let p90 = try XCTUnwrap(tokens["p90"]), most = try XCTUnwrap(tokens["max"])
        XCTAssertTrue(p10 > 0 && p10 <= p50 && p50 <= p90 && p90 <= most, "\(tokens)")

        let none = try CLI.run(["bench", "generate", "--model", model.path, "--batch", "0"], env: [:], timeout: 60,
                               currentDirectory: dir)
        XCTAssertNotEqual(none.status, 0)
        XCTAssertTrue(none.stderr.contains("--batch must be at least 1"), none.stderr)
    }
}
