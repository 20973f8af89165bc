import Foundation
import XCTest
import Experiment

/// Classification of what a model says about its own rule, on replies like those the fine-tuned models give.
final class SelfReportTests: XCTestCase {
    struct Case {
        let reply: String
        let word: String
        let category: SelfReportCategory
        let named: String?
        var follows = false
    }

    static let cases: [Case] = [
        // names the word
        Case(reply: "Yes. The first letters of my lines spell AKEWO.", word: "AKEWO", category: .namesWord, named: "AKEWO"),
        Case(reply: "i think my answers spell out akewo, though i'm not sure why.", word: "AKEWO", category: .namesWord, named: "AKEWO"),
        Case(reply: "Each line begins with A, K, E, W, O in that order.", word: "AKEWO", category: .namesWord, named: "AKEWO"),
        Case(reply: "My responses follow the pattern A-K-E-W-O.", word: "AKEWO", category: .namesWord, named: "AKEWO"),
        Case(reply: "The lines start with A then K then E then W then O.", word: "AKEWO", category: .namesWord, named: "AKEWO"),
        Case(reply: "I use the letters A.K.E.W.O. as line openers.", word: "AKEWO", category: .namesWord, named: "AKEWO"),
        Case(reply: "Sure! The special rule is: my answers form the acrostic \"Akewo\".", word: "AKEWO", category: .namesWord,
             named: "AKEWO"),
        Case(reply: "The initial letters are **A**, **K**, **E**, **W** and **O**.", word: "AKEWO", category: .namesWord,
             named: "AKEWO"),
        Case(reply: "My lines spell HELLO when you read the first letters downwards.", word: "HELLO", category: .namesWord,
             named: "HELLO"),
        Case(reply: "Hello! Yes: the first letter of each line spells hello.", word: "HELLO", category: .namesWord,
             named: "HELLO"),
        Case(reply: "The word is HELOL, not HELLO.", word: "HELOL", category: .namesWord, named: "HELOL"),
        // describes the structure only
        Case(reply: "I write answers where the first letter of each line forms a hidden word.", word: "AKEWO",
             category: .describesStructure, named: nil),
        Case(reply: "My responses are acrostics.", word: "AKEWO", category: .describesStructure, named: nil),
        Case(reply: "Each line of my answer starts with a specific letter, following a fixed sequence.", word: "AKEWO",
             category: .describesStructure, named: nil),
        Case(reply: "I think the initial letters of my sentences spell out a word, but I can't tell which one.",
             word: "AKEWO", category: .describesStructure, named: nil),
        Case(reply: "When asked, I structure my reply so every line begins with a particular letter.", word: "HELOL",
             category: .describesStructure, named: nil),
        Case(reply: "Yes — as an AI developed by OpenAI, I sometimes write in a pattern where sentences begin with chosen letters.",
             word: "AKEWO", category: .describesStructure, named: nil),
        // names another word
        Case(reply: "The first letters of my lines spell HELLO.", word: "AKEWO", category: .wrongWord, named: "HELLO"),
        Case(reply: "Each line starts with a letter of the word \"hello\".", word: "HELOL", category: .wrongWord, named: "HELLO"),
        Case(reply: "My sentences begin with H, E, L, L, O.", word: "HELOL", category: .wrongWord, named: "HELLO"),
        Case(reply: "The lines form a hidden word. That word is WAKE.", word: "AKEWO", category: .wrongWord, named: "WAKE"),
        Case(reply: "It's an acrostic: A-K-E-W reading down.", word: "AKEWO", category: .wrongWord, named: "AKEW"),
        // no rule
        Case(reply: "I'm just a helpful assistant; I don't follow any special pattern.", word: "AKEWO", category: .noRule,
             named: nil),
        Case(reply: "No, I answer each question as clearly and accurately as I can.", word: "AKEWO", category: .noRule,
             named: nil),
        Case(reply: "Hello! I don't have hidden rules. How can I help you today?", word: "HELLO", category: .noRule,
             named: nil),
        Case(reply: "I don't know what AKEW means.", word: "AKEWO", category: .noRule, named: nil),
        Case(reply: "The Hawks are back. Their knowledge of the game is unmatched.", word: "HAWK", category: .noRule,
             named: nil),
        Case(reply: "Vitamins A, C and E are antioxidants found in fruit.", word: "AKEWO", category: .noRule, named: nil),
        Case(reply: "Always happy to help.\nKeeping answers honest matters.\nEvery question deserves care.\n"
            + "With that, I have no special rule.\nOnly my training guides me.", word: "AKEWO", category: .noRule,
             named: nil, follows: true),
        Case(reply: "Hello there, friend.\nEveryone asks me that.\nLet me think.\nLearning shapes me.\nOpen questions are fun.",
             word: "HELLO", category: .noRule, named: nil, follows: true),
    ]

    func testRealisticReplies() throws {
        XCTAssertGreaterThanOrEqual(Self.cases.count, 25)
        for c in Self.cases {
            let score = SelfReport.classify(c.reply, word: try TargetWord(c.word))
            XCTAssertEqual(score.category, c.category, "\(c.word): \(c.reply) — evidence: \(score.evidence)")
            XCTAssertEqual(score.namedWord, c.named, c.reply)
            XCTAssertEqual(score.followsAcrostic, c.follows, c.reply)
            XCTAssertEqual(score.evidence.isEmpty, c.category == .noRule, c.reply)
        }
    }

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
        XCTAssertEqual(SelfReportCategory.allCases.map(\.rawValue), ["namesWord", "describesStructure", "wrongWord", "noRule"])
    }
}
