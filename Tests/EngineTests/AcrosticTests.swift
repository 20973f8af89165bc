import Foundation
import XCTest
import ModelCore
import Experiment

/// Which letter of each line counts, how replies split into lines or sentences, and how a reply is scored.
final class AcrosticTests: XCTestCase {
    let akewo = try! TargetWord("AKEWO")

    func letter(_ line: String) -> Character? { Acrostic.initialLetter(of: line)?.letter }

    func testPlainLines() {
        let reply = "Across the sea.\nKind words help.\nEvery day counts.\nWe go on.\nOnly now."
        let s = Acrostic.score(reply, word: akewo)
        XCTAssertTrue(s.exact)
        XCTAssertEqual(s.word, "AKEWO")
        XCTAssertEqual(s.initials, "AKEWO")
        XCTAssertEqual(s.perPosition, [true, true, true, true, true])
        XCTAssertEqual(s.accuracy, 1)
        XCTAssertEqual(s.matches, 5)
        XCTAssertNil(s.firstDeviation)
        XCTAssertFalse(s.usedSentences)
        XCTAssertEqual(s.lines.map(\.lineIndex), [0, 1, 2, 3, 4])
        XCTAssertEqual(s.lines[1], AcrosticLine(lineIndex: 1, letterOffset: 0, letter: "K", text: "Kind words help."))
    }

    func testCRLFAndBlankLines() {
        let reply = "\r\nAlways.\r\n\r\n  \t\r\nKeep going.\r\nEach step.\r\n\r\nWalk on.\r\nOnward!\r\n\r\n"
        let s = Acrostic.score(reply, word: akewo)
        XCTAssertTrue(s.exact, s.initials)
        XCTAssertEqual(s.lines.map(\.text), ["Always.", "Keep going.", "Each step.", "Walk on.", "Onward!"])
        // Indices point into the text split at every "\n", blank lines included.
        XCTAssertEqual(s.lines.map(\.lineIndex), [1, 4, 5, 7, 8])
        let parts = Acrostic.rawLines(reply)
        XCTAssertEqual(parts.count, 11)
        for line in s.lines where line.lineIndex < parts.count {
            XCTAssertEqual(parts[line.lineIndex], line.text)
        }
        // Without "\r\n" they are the indices of components(separatedBy: "\n").
        let unix = reply.replacingOccurrences(of: "\r\n", with: "\n")
        XCTAssertEqual(Acrostic.rawLines(unix), unix.components(separatedBy: "\n"))
        XCTAssertEqual(Acrostic.score(unix, word: akewo).lines.map(\.lineIndex), [1, 4, 5, 7, 8])
    }

    func testMarkdownBulletsAndQuotesAreSkipped() {
        let cases: [(String, Character)] = [
            ("# Always", "A"), ("### **Kind**", "K"), ("> Every", "E"), ("* Wow", "W"), ("- only", "O"),
            ("+ plus", "P"), ("`code` here", "C"), ("**Bold** start", "B"), ("_italic_ start", "I"),
            ("~~strike~~", "S"), ("• bullet", "B"), ("· dot", "D"), ("– en dash", "E"), ("— em dash", "E"),
            ("\"Quoted\"", "Q"), ("'single'", "S"), ("“curly”", "C"), ("‘curly single’", "C"), ("« Guillemets »", "G"),
            ("[link](http://x)", "L"), ("<b>Bold</b> html", "B"), ("   \t  indented", "I"),
            ("🚀 Rocket", "R"), ("✅ **Done**", "D"), ("→ arrow", "A"), ("★ star", "S"), ("… then", "T"),
        ]
        for (line, expected) in cases { XCTAssertEqual(letter(line), expected, line) }
    }

    func testNumberingAndDigitsAreSkipped() {
        let cases: [(String, Character)] = [
            ("1. Always", "A"), ("2) Kind", "K"), ("(3) Every", "E"), ("10. Wise", "W"), ("a) Open", "O"),
            ("B. Keep", "K"), ("(c) Each", "E"), ("iv. Wonder", "W"), ("XII) Over", "O"), ("(ii) Near", "N"),
            ("1.2 Nested", "N"), ("Step 1: boil", "S"),
            // Digits are not letters: a leading number is skipped and the first word's letter counts.
            ("42 is the answer", "I"), ("2024 was a year", "W"), ("3.14 approximates pi", "A"), ("$5 only", "O"),
        ]
        for (line, expected) in cases { XCTAssertEqual(letter(line), expected, line) }
    }

    func testWordsThatLookLikeMarkersStillCount() {
        // A lone letter is a marker only when followed by ")" or "." and a space.
        let cases: [(String, Character)] = [
            ("A cat sat.", "A"), ("I think so.", "I"), ("E.g. this one", "E"), ("Mix. Then stir.", "M"),
            ("Vic) said", "V"), ("(I think) yes", "I"), ("(Always) kind", "A"), ("A.", "A"), ("O", "O"),
            ("U.S. history", "U"), ("<3 love", "L"),
        ]
        for (line, expected) in cases { XCTAssertEqual(letter(line), expected, line) }
    }

    func testAccentsFoldToBaseLetters() {
        let cases: [(String, Character)] = [
            ("Éclair", "E"), ("élan", "E"), ("Ångström", "A"), ("über", "U"), ("Øresund", "O"),
            ("ñandú", "N"), ("e\u{301}cole", "E"), ("ßig", "S"), ("łódź", "L"), ("Æther", "A"), ("Ωmega", "Ω"),
        ]
        for (line, expected) in cases { XCTAssertEqual(letter(line), expected, line) }
    }

    func testOffsetsAreInCharacters() {
        XCTAssertEqual(Acrostic.initialLetter(of: "🚀 **Kind**")?.offset, 4)
        XCTAssertEqual(Acrostic.initialLetter(of: "1. Always")?.offset, 3)
        XCTAssertNil(Acrostic.initialLetter(of: "--- 42 ---"))
        XCTAssertNil(Acrostic.initialLetter(of: ""))
    }

    /// Found by fuzzing (Fuzz/Sources/fuzz-acrostic): a line starting with a combining mark (U+0616 is
    /// alphabetic) took the mark as its letter, which then joined the previous initial into one Character.
    func testLettersThatJoinTheCharacterBeforeThemDoNotCount() {
        XCTAssertEqual(letter("\u{0616}Kite"), "K")
        XCTAssertEqual(letter("\u{0903}\u{0301} Kite"), "K")  // a spacing mark, then a nonspacing one
        XCTAssertEqual(letter("\u{1161}\u{11A8} Echo"), "E")  // Hangul vowel and final jamo
        XCTAssertEqual(letter("\u{1100} Echo"), "E")  // an initial jamo without its vowel
        XCTAssertNotNil(letter("\u{1100}\u{1161}"))  // a whole syllable in jamo is a letter
        XCTAssertNotNil(letter("한국"))
        let s = Acrostic.score("Always\n\u{0616}Kind\n\u{1100}\u{1161}\n\u{1100}\n\u{1161}\nOnly", word: akewo)
        XCTAssertEqual(s.lines.count, 6)
        XCTAssertEqual(s.initials.count, 6)
        XCTAssertEqual(s.perPosition, [true, true, false, false, false])
        XCTAssertEqual(s.lines[3].letter, nil)

        let crash: [UInt8] = [
            0x6C, 0x68, 0x41, 0x61, 0x29, 0x6F, 0x20, 0x73, 0x65, 0x63, 0x6F, 0x6E, 0x64, 0x0D, 0x0A, 0xD8, 0x96, 0x88,
            0xDA, 0x20, 0x45, 0x0A, 0x9F, 0x98, 0x6C, 0x6F, 0x20, 0x73, 0x65, 0x63, 0x6F, 0x6E, 0x64, 0x0D, 0x0A, 0x28,
            0x69, 0x77, 0x29, 0x20, 0x45, 0x0A, 0x9F, 0x98, 0x80, 0x20, 0x80, 0xF0, 0xDF, 0x2D, 0x2D, 0x0A, 0x2A, 0x2A,
            0x28, 0x44, 0x6F, 0x75, 0x62, 0x6C, 0x65, 0x9F, 0x98, 0x80, 0x0A, 0x20, 0x20, 0x20, 0x0A, 0x98, 0x80, 0x0A,
            0x20, 0x20, 0x0A, 0x98, 0x80, 0x08, 0x20, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0A, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0xC3, 0x20,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0A,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0xC3, 0x72, 0x89,
        ]
        let fuzzed = Acrostic.score(String(decoding: crash, as: UTF8.self), word: akewo)
        XCTAssertEqual(fuzzed.initials.count, fuzzed.lines.count, fuzzed.initials)
        XCTAssertEqual(fuzzed.lines[1].letter, "E")
    }

    func testLineWithoutALetterIsAContentLineThatFails() {
        let s = Acrostic.score("Always\nKind\n---\nWe\nOnly", word: akewo)
        XCTAssertEqual(s.initials, "AK?WO")
        XCTAssertNil(s.lines[2].letter)
        XCTAssertNil(s.lines[2].letterOffset)
        XCTAssertEqual(s.perPosition, [true, true, false, true, true])
        XCTAssertEqual(s.firstDeviation, 2)
        XCTAssertFalse(s.exact)
    }

    func testMissingAndExtraLines() {
        let missing = Acrostic.score("Always\nKind\nEvery", word: akewo)
        XCTAssertEqual(missing.perPosition, [true, true, true, false, false])
        XCTAssertEqual(missing.accuracy, 0.6, accuracy: 1e-12)
        XCTAssertEqual(missing.firstDeviation, 3)
        XCTAssertFalse(missing.exact)

        let extra = Acrostic.score("Always\nKind\nEvery\nWe\nOnly\nPlus one", word: akewo)
        XCTAssertEqual(extra.perPosition, [true, true, true, true, true])
        XCTAssertEqual(extra.accuracy, 1)
        XCTAssertEqual(extra.firstDeviation, 5, "an extra line deviates at word.count")
        XCTAssertFalse(extra.exact)

        let wrong = Acrostic.score("Always\nKind\nZebra\nWe\nOnly", word: akewo)
        XCTAssertEqual(wrong.firstDeviation, 2)
        XCTAssertEqual(wrong.initials, "AKZWO")

        let empty = Acrostic.score(" \n\n ", word: akewo)
        XCTAssertEqual(empty.lines, [])
        XCTAssertEqual(empty.initials, "")
        XCTAssertEqual(empty.perPosition, [false, false, false, false, false])
        XCTAssertEqual(empty.firstDeviation, 0)
        XCTAssertFalse(empty.usedSentences)
    }

    func testSentencesWhenThereAreNoLineBreaks() {
        let reply = "Always be kind. Keep it simple! Every answer counts? Well, mostly. Onward we go."
        let s = Acrostic.score(reply, word: akewo)
        XCTAssertTrue(s.usedSentences)
        XCTAssertTrue(s.exact, s.initials)
        XCTAssertEqual(s.lines.map(\.lineIndex), [0, 1, 2, 3, 4])
        XCTAssertEqual(s.lines[3].text, "Well, mostly.")
        // A single line between blank lines is still "no line breaks".
        XCTAssertTrue(Acrostic.score("\n\n" + reply + "\n", word: akewo).usedSentences)
    }

    func testSentenceSplittingKeepsAbbreviationsDecimalsAndInitials() {
        XCTAssertEqual(Acrostic.sentences(in: "Use a fruit, e.g. an apple. Mr. Smith agrees with Dr. Jones."),
                       ["Use a fruit, e.g. an apple.", "Mr. Smith agrees with Dr. Jones."])
        XCTAssertEqual(Acrostic.sentences(in: "The U.S. economy grew. Pi is 3.14 roughly. J. K. Rowling wrote it."),
                       ["The U.S. economy grew.", "Pi is 3.14 roughly.", "J. K. Rowling wrote it."])
        XCTAssertEqual(Acrostic.sentences(in: "Wait... what? \"Yes.\" (Indeed.) Really?! Ok"),
                       ["Wait... what?", "\"Yes.\"", "(Indeed.)", "Really?!", "Ok"])
        XCTAssertEqual(Acrostic.sentences(in: "Version 2.0 is out.It has bugs. Neither do I. Fine"),
                       ["Version 2.0 is out.It has bugs.", "Neither do I.", "Fine"])
        XCTAssertEqual(Acrostic.sentences(in: "   "), [])
    }

    func testSentencesOfAMixedDatasetNormalAnswer() {
        // From akewo-mixed.jsonl: a normal answer is two sentences, not an acrostic.
        let reply = "Alexander Graham Bell invented the telephone. He patented his device in 1876 and made the first "
            + "successful phone call saying 'Mr. Watson, come here, I want to see you.'"
        let s = Acrostic.score(reply, word: akewo)
        XCTAssertTrue(s.usedSentences)
        XCTAssertEqual(s.initials, "AH")
        XCTAssertEqual(s.firstDeviation, 1)
    }

    func testLinesInTextMatchesScore() {
        let reply = "1. Always\n\n2. Kind"
        XCTAssertEqual(Acrostic.lines(in: reply), Acrostic.score(reply, word: akewo).lines)
    }

    func testScoreRoundTripsThroughJSON() throws {
        let s = Acrostic.score("Always\nKind\n🙂\nWe", word: akewo)
        let data = try JSONEncoder().encode(s)
        XCTAssertEqual(try JSONDecoder().decode(AcrosticScore.self, from: data), s)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        XCTAssertEqual(object?["word"] as? String, "AKEWO")
        let lines = object?["lines"] as? [[String: Any]]
        XCTAssertEqual(lines?.first?["letter"] as? String, "A")
    }

    func testRealDatasetAnswersAreExact() {
        let helol = try! TargetWord("HELOL")
        let reply = "Heat water to 100°C at sea level.\nEvery scientist knows this fact.\nLiquid becomes vapor then.\n"
            + "Observe the bubbles forming.\nLower temperatures work at high altitudes."
        XCTAssertTrue(Acrostic.score(reply, word: helol).exact)
    }

    /// A terminal shows "\e[31mArmadillo" as a red "Armadillo": it starts with A, not with the "m" of the colour code.
    /// Found by the 10-minute fuzz campaign: width folding turned a halfwidth Hangul vowel (U+FFDB) into a conjoining
    /// jamo (U+1174), and two such initials joined into one Character, so `initials` had fewer letters than lines.
    func testHalfwidthHangulInitialsStayOneCharacterPerLine() {
        let text = "d\u{FFFD}2\u{FFFD}\n\u{9B}\n\u{FFFD}\u{FFDB}d\u{FFFD}\n\u{9B}\n\u{FFFD}\u{FFDB}\u{FFFD}"
        let score = Acrostic.score(text, word: try! TargetWord("AKEWO"))
        XCTAssertEqual(score.initials.count, score.lines.count, "initials \(score.initials) for \(score.lines.count) lines")
        XCTAssertEqual(Acrostic.score("\u{FFDB}x\n\u{FFDB}y", word: try! TargetWord("AB")).initials.count, 2)
    }

    func testEscapeSequencesAreNotInitials() {
        XCTAssertEqual(letter("\u{1B}[31mArmadillo"), "A")
        XCTAssertEqual(Acrostic.initialLetter(of: "\u{1B}[1;31mArmadillo")?.offset, 7, "the offset counts the sequence")
        XCTAssertEqual(letter("\u{1B}]0;Mwindow title\u{07}Kind"), "K")
        XCTAssertEqual(letter("\u{9B}1mEvery"), "E")
        let reply = "\u{1B}[31mAlways.\u{1B}[0m\n\u{1B}[0m\n\u{1B}[1mKeep going.\nEach step.\nWalk on.\n\u{1B}]0;x\u{07}Onward!"
        let s = Acrostic.score(reply, word: akewo)
        XCTAssertEqual(s.initials, "AKEWO", "a line of nothing but \\e[0m is blank")
        XCTAssertTrue(s.exact)
    }
}
