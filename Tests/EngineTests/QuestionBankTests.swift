import Foundation
import XCTest
import Experiment

/// The bundled question bank (size, variety, no near-duplicates) and its training/evaluation split.
final class QuestionBankTests: XCTestCase {
    static let categories = ["facts", "how-to", "opinion", "definitions", "science", "history", "everyday"]

    func normalised(_ text: String) -> String {
        String(text.lowercased().map { $0.isLetter || $0.isNumber ? $0 : " " }).split(separator: " ").joined(separator: " ")
    }

    func testBundledBankIsLargeBalancedAndClean() throws {
        let bank = try QuestionBank.bundled()
        XCTAssertGreaterThanOrEqual(bank.questions.count, 320)
        XCTAssertEqual(Set(bank.categories), Set(Self.categories))
        let sizes = Dictionary(grouping: bank.questions, by: \.category).mapValues(\.count)
        XCTAssertLessThanOrEqual(sizes.values.max()!, sizes.values.min()! * 5 / 4, "unbalanced: \(sizes)")
        XCTAssertEqual(Set(bank.questions.map(\.id)).count, bank.questions.count)
        for q in bank.questions {
            XCTAssertFalse(q.text.lowercased().contains("special rule"), q.id)
            XCTAssertTrue(q.text.hasSuffix("?"), "\(q.id) is not a question: \(q.text)")
            XCTAssertEqual(q.text, q.text.trimmingCharacters(in: .whitespacesAndNewlines), q.id)
        }
    }

    func testNoNearDuplicates() throws {
        let bank = try QuestionBank.bundled()
        var texts: [String: String] = [:]
        var openings: [String: String] = [:]
        for q in bank.questions {
            let text = normalised(q.text)
            XCTAssertNil(texts[text], "\(q.id) repeats \(texts[text] ?? "")")
            texts[text] = q.id
            let opening = text.split(separator: " ").prefix(6).joined(separator: " ")
            XCTAssertNil(openings[opening], "\(q.id) opens like \(openings[opening] ?? ""): \(opening)")
            openings[opening] = q.id
        }
    }

    func testSplitIsDisjointCompleteStratifiedAndDeterministic() throws {
        let bank = try QuestionBank.bundled()
        let (training, evaluation) = bank.split()
        XCTAssertEqual(training.count + evaluation.count, bank.questions.count)
        XCTAssertTrue(Set(training.map(\.id)).isDisjoint(with: evaluation.map(\.id)))
        for category in Self.categories {
            let all = bank.questions.filter { $0.category == category }.count
            let held = evaluation.filter { $0.category == category }.count
            XCTAssertEqual(held, Int((0.3 * Double(all)).rounded()), category)
        }
        let again = bank.split()
        XCTAssertEqual(again.training, training)
        XCTAssertEqual(again.evaluation, evaluation)
        // Each side keeps the bank's order.
        let order = Dictionary(uniqueKeysWithValues: bank.questions.enumerated().map { ($1.id, $0) })
        XCTAssertEqual(evaluation.map { order[$0.id]! }, evaluation.map { order[$0.id]! }.sorted())
    }

    func testSeedsGiveDifferentSplitsAndFractionsAreRespected() throws {
        let bank = try QuestionBank.bundled()
        XCTAssertNotEqual(bank.split(seed: 0).evaluation, bank.split(seed: 1).evaluation)
        XCTAssertEqual(bank.split(evaluationFraction: 0).evaluation, [])
        XCTAssertEqual(bank.split(evaluationFraction: 1).training, [])
        // A larger fraction holds out a superset: the ranking does not depend on the fraction.
        let small = Set(bank.split(evaluationFraction: 0.2, seed: 3).evaluation.map(\.id))
        let large = Set(bank.split(evaluationFraction: 0.5, seed: 3).evaluation.map(\.id))
        XCTAssertTrue(small.isSubset(of: large))
    }

    func testSplitIsPinnedAcrossMachines() throws {
        // The split hashes ids with FNV-1a and SplitMix64, never Swift's per-process Hasher, so these stay put;
        // the expected ids come from a Python re-implementation of the ranking.
        let bank = try QuestionBank(questions: (1...10).map { Question(id: "q\($0)", text: "Question \($0)?", category: "c") })
        let first = bank.split(evaluationFraction: 0.3, seed: 0).evaluation.map(\.id)
        XCTAssertEqual(first, ["q1", "q2", "q4"])
    }

    func testParseErrorsNameTheLine() {
        let good = #"{"id": "a", "text": "Why?", "category": "science"}"#
        func error(_ jsonl: String) -> QuestionBankError? {
            do {
                _ = try QuestionBank.parse(Data(jsonl.utf8), source: "q.jsonl")
                return nil
            } catch {
                return error as? QuestionBankError
            }
        }
        XCTAssertEqual(error(""), .empty(source: "q.jsonl"))
        XCTAssertEqual(error(good + "\n\n" + good), .duplicateID(source: "q.jsonl", id: "a", firstLine: 1, line: 3))
        guard case let .invalidQuestion(_, line, reason)? = error(good + "\n{\"id\": \"b\", \"text\": \"Hm?\"}") else {
            return XCTFail("expected invalidQuestion")
        }
        XCTAssertEqual(line, 2)
        XCTAssertTrue(reason.contains("category"), reason)
        guard case let .invalidQuestion(_, badLine, _)? = error("\n\n{not json") else { return XCTFail("expected invalidQuestion") }
        XCTAssertEqual(badLine, 3)
        let blank = error(good + "\n" + #"{"id": "c", "text": "  ", "category": "x"}"#)
        XCTAssertEqual(blank.map { "\($0)" }?.hasPrefix("q.jsonl:2: question c has no text"), true)
    }

    func testQuestionRoundTripsThroughJSON() throws {
        let q = Question(id: "fact-001", text: "What is the capital of Canada?", category: "facts")
        XCTAssertEqual(try JSONDecoder().decode(Question.self, from: JSONEncoder().encode(q)), q)
    }
}
