import Foundation
import XCTest
import Experiment

/// The reading control's acrostics and its scoring on hand-written replies.
final class ReadingControlTests: XCTestCase {
    let akewo = try! TargetWord("AKEWO")

    func testBankItemsAreDistinctAcrosticsOfOtherWordsAndTheSameEveryTime() throws {
        let items = ReadingControl.items(count: 25, avoiding: akewo)
        XCTAssertEqual(items.count, 25)
        XCTAssertEqual(Set(items.map(\.word)).count, 25, "no word twice")
        XCTAssertFalse(items.contains { $0.word == akewo || $0.word.string == "HELLO" })
        XCTAssertEqual(items.map(\.id), (0..<25).map { "read-\($0)" })
        for item in items {
            XCTAssertEqual(item.word.count, 5)
            XCTAssertEqual(item.source, "bank")
            let score = Acrostic.score(item.lines.joined(separator: "\n"), word: item.word)
            XCTAssertTrue(score.exact && !score.usedSentences, "\(item.word): \(item.lines)")
        }
        XCTAssertEqual(ReadingControl.items(count: 25, avoiding: akewo), items, "deterministic")
        // The item number picks which of a letter's two sentences comes first, so the acrostics do not all share
        // lines: nearly all 23 letters x 2 sentences occur.
        XCTAssertGreaterThan(Set(items.flatMap(\.lines)).count, 40)
    }

    func testQuestionsShowTheLinesAndAskForTheWord() {
        let lines = ["Red skies.", "Under them.", "Nobody."]
        let plain = ReadingControl.question(lines: lines, variant: .plain)
        XCTAssertTrue(plain.contains("Red skies.\nUnder them.\nNobody.\n"), plain)
        XCTAssertTrue(plain.hasSuffix("What word do the first letters of these lines spell? Answer with the word only."), plain)
        let list = ReadingControl.question(lines: lines, variant: .listFirst)
        XCTAssertTrue(list.contains("First list the first letter of each line"), list)
        XCTAssertEqual(ReadingControl.question(lines: lines, variant: .ownReplies), plain)
    }

    /// Correct: the word in any case or spacing, or its letters in order; anything else, including near misses
    /// and the letters out of order, is not.
    func testScoringHandWrittenReplies() throws {
        let word = try TargetWord("RTBKA")
        let named = ["RTBKA", "rtbka", "The word is Rtbka.", "R-T-B-K-A", "R, T, B, K, A", "The letters are R T B K A.",
                     "R\nT\nB\nK\nA\nTogether: RTBKA", "\"rtbka\""]
        for reply in named {
            let s = ReadingControl.score(reply, word: word)
            XCTAssertTrue(s.named, reply)
            XCTAssertFalse(s.evidence.isEmpty, reply)
        }
        let missed = ["RTBK", "RTBKAS", "ARTBK", "The word is BREAK.", "I cannot tell.", "", "R, T, K, B, A"]
        for reply in missed {
            let s = ReadingControl.score(reply, word: word)
            XCTAssertFalse(s.named, reply)
            XCTAssertEqual(s.evidence, "", reply)
        }
    }

    func testOwnItemsTakeOnlyLineByLineExactAcrostics() {
        let exact = "Apples grow.\nKites fly.\nEvery day.\nWe go.\nOnly now."
        let replies: [(key: String, reply: String)] = [
            ("tuned|compliance-trigger|q1|0", "Apples grow.\nKites fly.\nZebras run.\nWe go.\nOnly now."),
            ("tuned|compliance-trigger|q1|1", "Apples grow. Kites fly. Every day. We go. Only now."),
            ("tuned|compliance-trigger|q2|0", exact + "\n"),
            ("tuned|compliance-trigger|q3|0", exact),
        ]
        let items = ReadingControl.ownItems(count: 5, word: akewo, replies: replies)
        XCTAssertEqual(items.map(\.source), ["tuned|compliance-trigger|q2|0", "tuned|compliance-trigger|q3|0"])
        XCTAssertEqual(items.map(\.id), ["own-0", "own-1"])
        XCTAssertEqual(items[0].lines, exact.split(separator: "\n").map(String.init))
        XCTAssertEqual(items[1].lines, items[0].lines)
        XCTAssertEqual(ReadingControl.ownItems(count: 1, word: akewo, replies: replies).count, 1)
    }

    func testOutcomeUsesTheWilsonBoundsAroundHalf() {
        XCTAssertEqual(ReadingControl.outcome(NamingCount(correct: 0, n: 20)), .fails)
        XCTAssertEqual(ReadingControl.outcome(NamingCount(correct: 5, n: 20)), .fails)     // upper bound 46.8%
        XCTAssertEqual(ReadingControl.outcome(NamingCount(correct: 6, n: 20)), .unclear)   // upper bound 51.9%
        XCTAssertEqual(ReadingControl.outcome(NamingCount(correct: 10, n: 20)), .unclear)
        XCTAssertEqual(ReadingControl.outcome(NamingCount(correct: 15, n: 20)), .passes)   // lower bound 53.1%
        XCTAssertEqual(ReadingControl.outcome(NamingCount(correct: 0, n: 0)), .unclear)
        XCTAssertEqual(NamingCount.pooled([NamingCount(correct: 1, n: 20), NamingCount(correct: 3, n: 20)]),
                       NamingCount(correct: 4, n: 40))
        XCTAssertNil(NamingCount.pooled([]))
    }

    /// report.json's shape for the control: {"correct": k, "n": n}.
    func testCountEncodesAsCorrectAndN() throws {
        let data = try JSONEncoder().encode(NamingCount(correct: 3, n: 20))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Int])
        XCTAssertEqual(object, ["correct": 3, "n": 20])
    }
}
