import Foundation
import XCTest
import Experiment

/// Parsing, errors, JSON and the seeded random words of `TargetWord`.
final class TargetWordTests: XCTestCase {
    func testTrimsAndUpperCases() throws {
        let w = try TargetWord("  akewo\n")
        XCTAssertEqual(w.string, "AKEWO")
        XCTAssertEqual(w.letters, ["A", "K", "E", "W", "O"])
        XCTAssertEqual(w.description, "AKEWO")
        XCTAssertEqual(try TargetWord("HeLoL"), try TargetWord("HELOL"))
    }

    func testNonLetterIsNamedWithItsPosition() {
        XCTAssertThrowsError(try TargetWord("AK3WO")) { error in
            XCTAssertEqual(error as? TargetWordError, .notALetter(word: "AK3WO", character: "3", position: 3))
            XCTAssertTrue("\(error)".hasPrefix("target word \"AK3WO\": '3' at position 3 is not a letter A-Z"), "\(error)")
        }
        XCTAssertThrowsError(try TargetWord("HE LLO")) { error in
            XCTAssertEqual(error as? TargetWordError, .notALetter(word: "HE LLO", character: " ", position: 3))
        }
        // Accented and non-Latin letters are not A-Z (the scorer folds É to E, but a target must be plain).
        XCTAssertThrowsError(try TargetWord("ÉCOLE")) { error in
            XCTAssertEqual(error as? TargetWordError, .notALetter(word: "ÉCOLE", character: "É", position: 1))
        }
        XCTAssertThrowsError(try TargetWord("straße")) { error in
            XCTAssertEqual(error as? TargetWordError, .notALetter(word: "straße", character: "ß", position: 5))
        }
    }

    func testLengthLimits() throws {
        XCTAssertEqual(try TargetWord("HI").string, "HI")
        XCTAssertEqual(try TargetWord("ABCDEFGHIJKL").string.count, 12)
        for (raw, length) in [("", 0), ("   ", 0), ("A", 1), ("ABCDEFGHIJKLM", 13)] {
            XCTAssertThrowsError(try TargetWord(raw)) { error in
                XCTAssertEqual(error as? TargetWordError, .badLength(word: raw, length: length))
                XCTAssertTrue("\(error)".contains("2 to 12 letters"), "\(error)")
            }
        }
    }

    func testErrorsReadWellAsLocalizedErrors() {
        do {
            _ = try TargetWord("AK-WO")
            XCTFail("expected an error")
        } catch {
            XCTAssertTrue(error.localizedDescription.contains("'-' at position 3"), error.localizedDescription)
        }
    }

    func testJSONIsAPlainStringAndIsValidatedOnDecode() throws {
        let w = try TargetWord("AKEWO")
        XCTAssertEqual(String(decoding: try JSONEncoder().encode([w]), as: UTF8.self), "[\"AKEWO\"]")
        XCTAssertEqual(try JSONDecoder().decode([TargetWord].self, from: Data("[\"helol\"]".utf8)), [try TargetWord("HELOL")])
        XCTAssertThrowsError(try JSONDecoder().decode([TargetWord].self, from: Data("[\"H3LLO\"]".utf8)))
    }

    func testRandomIsDeterministicDistinctAndAvoidsHardLetters() {
        XCTAssertEqual(TargetWord.random(seed: 42), TargetWord.random(seed: 42))
        var words = Set<String>()
        for seed in UInt64(0)..<200 {
            let w = TargetWord.random(seed: seed)
            XCTAssertEqual(w.string.count, TargetWord.defaultLength)
            XCTAssertEqual(Set(w.letters).count, w.letters.count, "\(w) repeats a letter")
            XCTAssertFalse(w.letters.contains { "QXZ".contains($0) }, "\(w)")
            words.insert(w.string)
        }
        XCTAssertGreaterThan(words.count, 190, "seeds should give different words")
        for length in [2, 7, 12] { XCTAssertEqual(TargetWord.random(length: length, seed: 7).string.count, length) }
    }

    func testRandomWordsArePinned() {
        // The same seed must give the same word on every machine and release: runs are labelled by seed. The
        // expected words come from a Python re-implementation (SplitMix64, multiply-high index into the pool).
        let words = (0..<3).map { TargetWord.random(seed: UInt64($0)).string }
        XCTAssertEqual(words, ["VJAYD", "NSYIJ", "NSMTF"])
    }
}
