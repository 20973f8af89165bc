import Foundation
import XCTest
import ModelCore
import Backends
import Experiment

/// Candidate log-probabilities estimated from a chat reply's top log-probabilities.
final class TopLogprobEstimateTests: XCTestCase {
    func token(_ text: String, _ logprob: Double, _ top: [(String, Double)] = []) -> TokenLogprob {
        TokenLogprob(token: text, logprob: logprob, topLogprobs: top.map { TopLogprob(token: $0.0, logprob: $0.1) })
    }

    /// "AKEWO" written as " AK" + "EWO", with HELLO and EW as alternatives.
    lazy var reply = [token(" AK", -0.2, [(" AK", -0.2), (" HEL", -2)]), token("EWO", -0.3, [("EWO", -0.3), ("EW", -2.5)]),
                      token("\n", -0.01)]

    func testTheWrittenWordIsExactAcrossTokens() {
        XCTAssertEqual(TopLogprobEstimate.estimate("AKEWO", along: reply), -0.5, accuracy: 1e-12)
    }

    func testAnAlternativeThatStartsTheCandidateCountsTheRestAsCertain() {
        XCTAssertEqual(TopLogprobEstimate.estimate("HELLO", along: reply), -2, accuracy: 1e-12)
        XCTAssertEqual(TopLogprobEstimate.estimate("AKEWA", along: reply), -0.2 + -2.5, accuracy: 1e-12, "EW continues AK-EWA")
    }

    func testAnUnlistedTokenGetsTheLesserOfTheSmallestAndTheLeftOver() {
        // At the second token: listed EWO (-0.3) and EW (-2.5) leave 1 - 0.741 - 0.082 = 0.177 (log -1.73) > e^-2.5.
        XCTAssertEqual(TopLogprobEstimate.estimate("AKXYZ", along: reply), -0.2 + -2.5, accuracy: 1e-12)
        // At the first: AK (-0.2) and HEL (-2) leave 0.046, less than e^-2.
        let leftOver = log(1 - exp(-0.2) - exp(-2.0))
        XCTAssertEqual(TopLogprobEstimate.estimate("PLUTO", along: reply), leftOver, accuracy: 1e-12)
    }

    func testCaseSpacesAndTrailingPunctuation() {
        XCTAssertEqual(TopLogprobEstimate.estimate("AKEWO", along: [token(" ", -0.05), token("Akewo.", -0.1)]), -0.15, accuracy: 1e-12)
        // "Akewos" is another word: only the left-over bound remains for AKEWO.
        XCTAssertEqual(TopLogprobEstimate.estimate("AKEWO", along: [token("Akewos", -0.1)]), log(1 - exp(-0.1)), accuracy: 1e-12)
        // The reply ended inside the candidate: what it spelled is all there is.
        XCTAssertEqual(TopLogprobEstimate.estimate("AKEWO", along: [token("AK", -0.4)]), -0.4, accuracy: 1e-12)
    }

    func testScoresRankTheWrittenWordFirstAndNeedLogprobs() throws {
        let words = try ["AKEWO", "HELLO", "PLUTO"].map { try TargetWord($0) }
        let scores = try XCTUnwrap(TopLogprobEstimate.candidateScores(words, target: words[0], logprobs: reply))
        XCTAssertEqual(scores.candidates, ["AKEWO", "HELLO", "PLUTO"])
        XCTAssertEqual(scores.targetRank, 1)
        XCTAssertGreaterThan(scores.probabilities[1], scores.probabilities[2])
        XCTAssertNil(TopLogprobEstimate.candidateScores(words, target: words[0], logprobs: nil))
        XCTAssertNil(TopLogprobEstimate.candidateScores(words, target: words[0], logprobs: []))
    }

    func testTheRequestIsGreedyWithTopLogprobs() {
        let r = TopLogprobEstimate.request(messages: [ChatMessage(role: "user", content: "Which word?")], model: "m")
        XCTAssertEqual(r.temperature, 0)
        XCTAssertEqual(r.logprobs, true)
        XCTAssertEqual(r.topLogprobs, 20)
        XCTAssertEqual(r.maxTokens, TopLogprobEstimate.maxTokens)
    }
}
