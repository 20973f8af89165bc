import Foundation
import TUI
import XCTest
import Experiment

/// The Results screen leads each hypothesis with its verdict and wraps it: a verdict as the evaluation words it
/// (rule, numbers, reason) is read whole at 80x24, where one line cut it off before.
final class ResultsVerdictTests: XCTestCase {
    static let verdict = "supported: 17/20 = 85.0% [64.0%, 94.8%] of the fine-tuned replies with the trigger are exact "
        + "acrostics, against 0/20 of the base model's (Fisher p < 0.001)"

    /// The hypotheses box's lines without border, id or indent.
    static func box(_ lines: [String]) -> [String] {
        lines[2...].prefix { !$0.hasPrefix("└") }.map { String($0.dropFirst(5).dropLast()).trimmingCharacters(in: .whitespaces) }
    }

    func testALongVerdictWrapsAndLeadsItsLine() throws {
        var s = Fixtures.state(Size(width: 80, height: 24))
        _ = update(&s, .key(.char("4")))
        let summary = ResultsSummary(word: "AKEWO", conditions: Fixtures.results.conditions,
                                     hypotheses: [.init(id: "H1", statement: "The fine-tuned model follows the rule when triggered.",
                                                        verdict: Self.verdict),
                                                  .init(id: "H2", statement: "It can state the rule when asked.", verdict: "not testable")],
                                     samples: Fixtures.results.samples)
        _ = update(&s, .resultsLoaded([ResultsEntry(run: "r", path: "/runs/r/results.json", summary: summary)]))
        let lines = render(s, size: Size(width: 80, height: 24)).lines
        XCTAssertTrue(lines[2].hasPrefix("│ H1 supported: 17/20 = 85.0%"), lines[2])
        // The verdict's lines, their border and indent taken off, give back the whole verdict.
        let box = Self.box(lines)
        let h2 = try XCTUnwrap(box.firstIndex { $0.hasPrefix("not testable") }, "\(lines)")
        XCTAssertTrue(lines[2 + h2].hasPrefix("│ H2 not testable"), lines[2 + h2])
        XCTAssertEqual(box[..<h2].joined(separator: " "), Self.verdict)
        XCTAssertFalse(lines.joined().contains("The fine-tuned model follows"), "no room for the statement at 80 columns")
        // At 160 columns the statement follows its verdict.
        let wide = render(s, size: Size(width: 160, height: 48)).lines
        XCTAssertTrue(wide[2].contains("H1 supported: 17/20"), wide[2])
        XCTAssertTrue(Self.box(wide).joined(separator: " ").contains(Self.verdict + " · The fine-tuned model follows the rule when triggered."))
    }
}
