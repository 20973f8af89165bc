import XCTest
import Support

/// The one sanitiser between untrusted text (replies, server messages, dataset fields) and a terminal.
final class TerminalTextTests: XCTestCase {
    func clean(_ s: String) -> String { TerminalText.clean(s) }

    func assertNoControls(_ s: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(s.unicodeScalars.contains(where: TerminalText.isControl), s.debugDescription, file: file, line: line)
    }

    func testCSISequencesGoWhole() {
        XCTAssertEqual(clean("\u{1B}[31mred\u{1B}[0m"), "red")
        XCTAssertEqual(clean("a\u{1B}[2J\u{1B}[1;1Hb"), "ab", "clear screen and cursor home")
        XCTAssertEqual(clean("x\u{1B}[?1049hy"), "xy", "private parameters")
        XCTAssertEqual(clean("x\u{1B}[6n"), "x", "a query whose answer would land in the shell's input")
        XCTAssertEqual(clean("x\u{1B}[31"), "x", "cut off at the end")
    }

    func testOSCEndedByBELOrST() {
        XCTAssertEqual(clean("\u{1B}]0;pwned\u{07}hello"), "hello", "window title, BEL-terminated")
        XCTAssertEqual(clean("\u{1B}]0;pwned\u{1B}\\hello"), "hello", "window title, ST-terminated")
        XCTAssertEqual(clean("\u{1B}]52;c;ZXZpbA==\u{07}ok"), "ok", "clipboard write")
        XCTAssertEqual(clean("a\u{1B}]8;;http://x\u{1B}\\link\u{1B}]8;;\u{1B}\\b"), "alinkb", "hyperlink")
        XCTAssertEqual(clean("a\u{1B}]0;never ends"), "a", "an unterminated OSC takes the rest, as in the terminal")
    }

    func testDCSAndOtherStrings() {
        XCTAssertEqual(clean("a\u{1B}Pq#0;2;0;0;0\u{1B}\\b"), "ab", "DCS (sixel)")
        XCTAssertEqual(clean("a\u{1B}_apc\u{1B}\\b\u{1B}^pm\u{1B}\\c\u{1B}Xsos\u{1B}\\d"), "abcd")
    }

    func testC1Controls() {
        XCTAssertEqual(clean("a\u{9B}31mb"), "ab", "C1 CSI (0x9B) with its parameters")
        XCTAssertEqual(clean("a\u{9D}0;t\u{9C}b"), "ab", "C1 OSC ended by C1 ST")
        XCTAssertEqual(clean("a\u{85}b\u{7F}c"), "abc", "NEL and DEL")
    }

    func testLoneESCAndOtherEscapes() {
        XCTAssertEqual(clean("a\u{1B}"), "a")
        XCTAssertEqual(clean("a\u{1B}\u{1B}[0mb"), "ab", "an ESC interrupted by another")
        XCTAssertEqual(clean("a\u{1B}7b\u{1B}cc\u{1B}(Bd"), "abcd", "save cursor, reset, charset")
        XCTAssertEqual(clean("a\u{1B}é"), "aé", "ESC before a non-ASCII letter goes alone")
    }

    func testKeepsNewlineTabAndUnicode() {
        let text = "Line one\tcol\nZweite Zeile: äöü ß\n日本語 🙂 e\u{301}\n"
        XCTAssertEqual(clean(text), text)
        XCTAssertEqual(clean("a\r\nb\u{08}c\u{07}d\u{00}e"), "a\nbcde", "CR, backspace, BEL and NUL go")
    }

    func testStreamHoldsASequenceSplitBetweenPieces() {
        var stream = TerminalTextStream()
        let pieces = ["Hello \u{1B}", "]0;pw", "ned\u{07}wor", "ld \u{1B}[3", "1mred\u{9B}", "0m"]
        let out = pieces.map { stream.feed($0) }
        XCTAssertEqual(out.joined(), "Hello world red")
        out.forEach { assertNoControls($0) }
        XCTAssertEqual(out[0], "Hello ")
    }

    func testEveryOutputIsFreeOfControls() {
        var rng = SystemRandomNumberGenerator()
        let alphabet: [Unicode.Scalar] = ["\u{1B}", "[", "]", "\\", "\u{07}", "\u{9B}", "\u{9C}", "\u{9D}", "P", "0", ";",
                                          "m", "a", "\n", "\t", "\r", "\u{85}", "\u{7F}", "\u{18}", " "]
        for _ in 0..<2000 {
            var s = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...24, using: &rng) { s.append(alphabet.randomElement(using: &rng)!) }
            assertNoControls(clean(String(s)))
        }
    }
}
