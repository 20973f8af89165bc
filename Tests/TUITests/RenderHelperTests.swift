import TUI
import XCTest
import Support
import Experiment

/// The render helpers every view uses.
final class RenderHelperTests: XCTestCase {
    func testRenderHelpersAreStable() {
        XCTAssertEqual(progressBar(0.5, width: 10), "█████░░░░░")
        XCTAssertEqual(progressBar(1, width: 4), "████")
        XCTAssertEqual(progressBar(0, width: 4), "░░░░")
        XCTAssertEqual(barChart([3, 2, 1], width: 3, height: 1), ["█▅▁"])
        XCTAssertEqual(formatDuration(95), "1m35s")
        XCTAssertEqual(formatDuration(7322), "2h02m")
        XCTAssertEqual(truncate("hello world", to: 6), "hello…")
        XCTAssertEqual(displayWidth("日本"), 4)
        XCTAssertEqual(displayWidth("e\u{301}"), 1)
        XCTAssertEqual(shellQuote("a b"), "'a b'")
        XCTAssertEqual(shellQuote("it's"), #"'it'\''s'"#)
        XCTAssertEqual(shellQuote("/x/y.jsonl"), "/x/y.jsonl")
        XCTAssertEqual(acrosticReadout(Fixtures.acrosticReply, word: try? TargetWord("AKEWO")).map { String($0.character) }.joined(),
                       "A K E W X  4/5")
    }
}
