import Foundation
import XCTest
import Support

/// `hellotune chat` limits: --time-limit ends a reply, and prompt plus reply never exceed the context.
final class ChatCLITests: XCTestCase {
    var model: String {
        ProcessInfo.processInfo.environment["HELLOTUNE_MODEL"] ?? Paths.defaultModel.path
    }

    func json(_ r: CLI.Result) throws -> [String: Any] {
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
    }

    /// A millisecond is spent before the first token is out, so the reply stops right after it.
    func testTimeLimitStopsTheReply() throws {
        let o = try json(try CLI.run(["chat", "--model", model, "--prompt", "Write a long story about the sea.",
                                      "--max-tokens", "500", "--time-limit", "0.001", "--json"]))
        XCTAssertEqual(o["finish_reason"] as? String, "time")
        XCTAssertEqual(o["completion_tokens"] as? Int, 1)
        let plain = try CLI.run(["chat", "--model", model, "--prompt", "Write a long story about the sea.",
                                 "--max-tokens", "500", "--time-limit", "0.001"])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertTrue(plain.stderr.contains("(stopped: the --time-limit of 0.001 s ran out)"), plain.stderr)
    }

    func testBadTimeLimitIsRefused() throws {
        for bad in ["0", "-1", "nan", "inf"] {
            let r = try CLI.run(["chat", "--model", model, "--prompt", "hi", "--time-limit=\(bad)"])
            XCTAssertNotEqual(r.status, 0, bad)
            XCTAssertTrue(r.stderr.contains("--time-limit must be a number of seconds > 0"), "\(bad): \(r.stderr)")
        }
    }

    /// With --context 48 and up to 1000 new tokens, prompt and reply together fill at most the 48 positions.
    func testPromptAndReplyFitTheContext() throws {
        let o = try json(try CLI.run(["chat", "--model", model, "--context", "48", "--max-tokens", "1000",
                                      "--prompt", "Count from one to one hundred in words, separated by commas.", "--json"]))
        let prompt = try XCTUnwrap(o["prompt_tokens"] as? Int), reply = try XCTUnwrap(o["completion_tokens"] as? Int)
        XCTAssertLessThanOrEqual(prompt + reply, 48)
        XCTAssertGreaterThan(reply, 0)
        if o["finish_reason"] as? String == "length" { XCTAssertEqual(prompt + reply, 48) }
        let r = try CLI.run(["chat", "--model", model, "--context", "16", "--prompt", "Count from one to one hundred in words."])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("but the context holds 16. Shorten the input"), r.stderr)
    }
}
