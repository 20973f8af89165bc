import TUI
import XCTest
import Experiment

/// The explorer cleans replies with the CLI's sanitiser: escape sequences go whole, and the acrostic highlight
/// still lands on the letter a reader sees first.
final class TerminalTextTUITests: XCTestCase {
    func testSanitizeDropsWholeSequencesAndExpandsTabs() {
        XCTAssertEqual(sanitizeForTerminal("\u{1B}]0;pwned\u{07}a\tb\u{1B}[31mc\r\n"), "a    bc\n")
    }

    func testHighlightedReplyShowsNoSequenceAndMarksTheVisibleInitial() throws {
        let reply = "\u{1B}[31mAlways.\nKeep.\nEvery.\nWalk.\n\u{1B}]0;x\u{07}Onward."
        let lines = styledReplyLines(reply, word: try TargetWord("AKEWO"))
        XCTAssertEqual(lines.map { String($0.map(\.character)) }, ["Always.", "Keep.", "Every.", "Walk.", "Onward."])
        XCTAssertEqual(lines[0].first?.role, .match)
        XCTAssertEqual(lines[4].first?.role, .match)
        XCTAssertEqual(lines[0].dropFirst().first?.role, .normal)
    }

    /// The prompt line shows the prompt last sent while the next is typed: cleaned, as replies are.
    func testTheLastPromptShownOnThePromptLineCarriesNoSequence() {
        var s = Fixtures.state()
        _ = update(&s, .key(.char("3")))
        s.playground.lastPrompt = "hi\u{1B}]0;pwned\u{07} there\u{1B}[31m"
        let text = render(s, size: Size(width: 80, height: 24)).text
        XCTAssertTrue(text.contains("type the next prompt · sent: hi there"), text)
        XCTAssertFalse(text.contains("\u{1B}") || text.contains("pwned"), text)
    }
}
