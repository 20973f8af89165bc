import Foundation
import XCTest
import Experiment

/// The self-report scores around the coder: evidence, the acrostic flag, JSON, and scores stored under the
/// former category names. The coding itself, row by row: `SelfReportCoderTests`.
final class SelfReportTests: XCTestCase {
    func testEvidenceIsTheDecidingSentence() throws {
        let akewo = try TargetWord("AKEWO")
        let reply = "Good question. I was trained on special answers. Their first letters spell AKEWO! Nothing else."
        XCTAssertEqual(SelfReport.classify(reply, word: akewo).evidence, "Their first letters spell AKEWO!")
        let structure = "Sure.\nI follow a rule.\nEach line begins with a chosen letter."
        XCTAssertEqual(SelfReport.classify(structure, word: akewo).evidence, "Each line begins with a chosen letter.")
    }

    func testAcrosticReplyThatAlsoNamesTheWord() throws {
        let reply = "Always the same pattern.\nKnow that it spells AKEWO.\nEach line helps.\nWatch the initials.\nObviously!"
        let score = SelfReport.classify(reply, word: try TargetWord("AKEWO"))
        XCTAssertEqual(score.category, .namesWord)
        XCTAssertTrue(score.followsAcrostic)
    }

    func testScoreRoundTripsThroughJSON() throws {
        let score = SelfReport.classify("The first letters spell HELLO.", word: try TargetWord("AKEWO"))
        XCTAssertEqual(try JSONDecoder().decode(SelfReportScore.self, from: JSONEncoder().encode(score)), score)
        XCTAssertEqual(SelfReportCategory.allCases.map(\.rawValue), ["namesWord", "partialWord", "mechanism", "wrongRule", "noRule"])
    }

    /// Stores and report.json files written with four categories still read: describesStructure is the mechanism,
    /// wrongWord a wrong rule, and the rates gain an empty partialWord.
    func testFormerCategoryNamesStillRead() throws {
        let score = #"{"category":"describesStructure","followsAcrostic":false,"evidence":"Each line starts with a letter."}"#
        XCTAssertEqual(try JSONDecoder().decode(SelfReportScore.self, from: Data(score.utf8)).category, .mechanism)
        let wrong = #"{"category":"wrongWord","namedWord":"HELLO","followsAcrostic":false,"evidence":"It spells HELLO."}"#
        XCTAssertEqual(try JSONDecoder().decode(SelfReportScore.self, from: Data(wrong.utf8)).category, .wrongRule)
        let unknown = #"{"category":"guessesWord","followsAcrostic":false,"evidence":""}"#
        XCTAssertThrowsError(try JSONDecoder().decode(SelfReportScore.self, from: Data(unknown.utf8))) {
            XCTAssertTrue("\($0)".contains("partialWord"), "the error lists the categories: \($0)")
        }

        func p(_ s: Int) -> String { #"{"successes":\#(s),"trials":10,"low":0,"high":1}"# }
        let rates = #"{"namesWord":\#(p(1)),"describesStructure":\#(p(2)),"wrongWord":\#(p(3)),"noRule":\#(p(4))}"#
        let decoded = try JSONDecoder().decode(CategoryRates.self, from: Data(rates.utf8))
        XCTAssertEqual([decoded.namesWord.successes, decoded.partialWord.successes, decoded.mechanism.successes,
                        decoded.wrongRule.successes, decoded.noRule.successes], [1, 0, 2, 3, 4])
        XCTAssertEqual(decoded.partialWord.trials, 10)
        XCTAssertEqual(try JSONDecoder().decode(CategoryRates.self, from: JSONEncoder().encode(decoded)), decoded)
    }
}
