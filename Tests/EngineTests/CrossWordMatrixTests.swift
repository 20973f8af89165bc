import Foundation
import XCTest
import Store
import Experiment

/// The cross-word control: every run of a several-word experiment scores every word, the matrix averages seeds per
/// row, ranks the own word within its column, and tests the diagonal by permuting the rows.
final class CrossWordMatrixTests: XCTestCase {
    /// One run trained on `word`: forced choice v2 over the bank's candidates for it plus `others`, where each word
    /// of `gains` has that gain and every other candidate gains nothing.
    func run(_ word: String, others: [String], gains: [String: Double]) throws -> EvaluationResults {
        let candidates = ForcedChoiceBank.candidates(for: try TargetWord(word), otherTargets: try others.map(TargetWord.init))
        let v2 = ForcedChoiceV2Result(candidates: candidates, prompts: 10, deltas: candidates.map { gains[$0.word] ?? 0 })
        return EvaluationResults(words: [word], runs: 1, samplesPerPrompt: nil, temperature: nil, maxTokens: nil,
                                 complianceQuestions: nil, selfReportPrompts: nil, candidates: nil, prefixSource: nil,
                                 models: [], forcedChoiceV2: v2)
    }

    func testEveryWordOfTheExperimentIsACandidate() throws {
        let akewo = try TargetWord("AKEWO")
        let alone = ForcedChoiceBank.candidates(for: akewo)
        XCTAssertFalse(alone.contains { $0.kind == .otherTarget })
        let swept = ForcedChoiceBank.candidates(for: akewo, otherTargets: try ["HELLO", "VJAYD", "AKEWO"].map(TargetWord.init))
        // HELLO is a common word already and AKEWO the target: only VJAYD is added, at the end, and nothing twice.
        XCTAssertEqual(Array(swept.prefix(alone.count)), alone)
        XCTAssertEqual(swept.count, alone.count + 1)
        XCTAssertEqual(swept.last, ForcedChoiceBank.Candidate(word: "VJAYD", kind: .otherTarget))
        XCTAssertEqual(Set(swept.map(\.word)).count, swept.count)
    }

    /// The sweep's plans score the other five words; a one-word experiment's plan scores none.
    func testTheSweepsPlansScoreEachOthersWords() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crossword-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Store(path: dir.appendingPathComponent("hellotune.sqlite").path)
        let sweep = ExperimentRunner(config: try ExperimentFile.preset("sweep"), store: store, workerBinary: nil, progress: { _ in })
        let plan = try sweep.evaluationPlan(for: TargetWord("VJAYD"))
        XCTAssertEqual(plan.crossWords?.map(\.string), ["HELLO", "AKEWO", "TUMBI", "GROWE", "PELNU"])
        let words = Set(plan.forcedChoiceV2Candidates.map(\.word))
        for w in sweep.config.words { XCTAssertTrue(words.contains(w.string), w.string) }
        let single = ExperimentRunner(config: try ExperimentFile.preset("akewo-mixed"), store: store, workerBinary: nil,
                                      progress: { _ in })
        XCTAssertNil(try single.evaluationPlan(for: TargetWord("AKEWO")).crossWords)
    }

    /// Two seeds per row are averaged; the own word's rank is read within its column; a clear diagonal gets the
    /// smallest exact p, 1/m!.
    func testMatrixFromRuns() throws {
        let words = ["HELLO", "AKEWO", "VJAYD"]
        func others(_ w: String) -> [String] { words.filter { $0 != w } }
        let runs = [
            try run("HELLO", others: others("HELLO"), gains: ["HELLO": 0.9, "AKEWO": 0.1, "VJAYD": 0.0]),
            try run("HELLO", others: others("HELLO"), gains: ["HELLO": 0.7, "AKEWO": 0.3, "VJAYD": 0.2]),
            // HELLO gains in the AKEWO model too, but less than in the HELLO models: AKEWO still ranks first in its column.
            try run("AKEWO", others: others("AKEWO"), gains: ["HELLO": 0.5, "AKEWO": 0.6, "VJAYD": 0.1]),
            try run("VJAYD", others: others("VJAYD"), gains: ["HELLO": 0.4, "AKEWO": 0.0, "VJAYD": 0.3]),
        ]
        let x = try XCTUnwrap(CrossWordMatrix.compute(runs: runs))
        XCTAssertEqual(x.words, words)
        XCTAssertEqual(x.runs, [2, 1, 1])
        XCTAssertEqual(x.gains[0][0], 0.8, accuracy: 1e-12)
        XCTAssertEqual(x.gains[0][1], 0.2, accuracy: 1e-12)
        XCTAssertEqual(x.gains[2][0], 0.4, accuracy: 1e-12)
        XCTAssertEqual((0..<3).map(x.columnRank), [1, 1, 1])
        XCTAssertEqual(x.ownWordFirst, 3)
        XCTAssertEqual(x.permutations, 6)
        XCTAssertEqual(x.pValue, 1.0 / 6, accuracy: 1e-12)

        // A run that did not score the others' words (made before they were candidates): no matrix.
        var old = runs
        old[3] = try run("VJAYD", others: [], gains: ["VJAYD": 0.3])
        XCTAssertNil(CrossWordMatrix.compute(runs: old))
        XCTAssertNil(CrossWordMatrix.compute(runs: [runs[0], runs[1]]), "one word has nothing to cross")
    }

    /// The exact p against a brute-force count over every row assignment, with ties; a flat matrix gives p = 1.
    func testExactPValueMatchesBruteForce() {
        var rng = SystemRandomNumberGenerator()
        for m in 2...6 {
            // Values on a coarse grid, so that traces tie.
            let g = (0..<m).map { _ in (0..<m).map { _ in Double(Int.random(in: 0...3, using: &rng)) / 4 } }
            let observed = (0..<m).reduce(0.0) { $0 + g[$1][$1] }
            var atLeast = 0, total = 0
            func permute(_ prefix: [Int], _ rest: [Int]) {
                if rest.isEmpty {
                    total += 1
                    if (0..<m).reduce(0.0, { $0 + g[prefix[$1]][$1] }) >= observed - 1e-9 { atLeast += 1 }
                    return
                }
                for (i, r) in rest.enumerated() { permute(prefix + [r], Array(rest[..<i] + rest[(i + 1)...])) }
            }
            permute([], Array(0..<m))
            let x = CrossWordMatrix(words: (0..<m).map { "W\($0)" }, gains: g, runs: Array(repeating: 1, count: m))
            XCTAssertEqual(x.permutations, total)
            XCTAssertEqual(x.pValue, Double(atLeast) / Double(total), accuracy: 1e-12, "m = \(m): \(g)")
        }
        let flat = CrossWordMatrix(words: ["A", "B", "C"], gains: Array(repeating: [0.5, 0.5, 0.5], count: 3), runs: [1, 1, 1])
        XCTAssertEqual(flat.pValue, 1)
    }

    /// Beyond 8 words the p-value comes from a seeded sample: the same on every call, and near 1/m! for a clear diagonal.
    func testSampledPValueForManyWords() {
        let m = 9
        let g = (0..<m).map { i in (0..<m).map { j in i == j ? 1.0 : 0.0 } }
        let x = CrossWordMatrix(words: (0..<m).map { "W\($0)" }, gains: g, runs: Array(repeating: 1, count: m))
        XCTAssertEqual(x.permutations, 100_000)
        XCTAssertLessThan(x.pValue, 1e-4)
        XCTAssertEqual(x, CrossWordMatrix(words: x.words, gains: g, runs: x.runs))
    }

    /// The pooled report of several words shows the matrix, the diagonal in bold, and the test; its JSON round-trips.
    func testReportShowsTheMatrix() throws {
        let words = ["HELLO", "AKEWO"]
        let runs = [try run("HELLO", others: ["AKEWO"], gains: ["HELLO": 0.5, "AKEWO": 0.1]),
                    try run("AKEWO", others: ["HELLO"], gains: ["HELLO": 0.6, "AKEWO": 0.2])]
        var pooled = EvaluationResults.aggregate(over: runs)
        pooled.crossWord = CrossWordMatrix.compute(runs: runs)
        let md = Report.markdown(results: pooled, setup: ReportSetup(modelName: "m", backend: "local", words: words,
                                                                     seeds: [1], date: "d"))
        XCTAssertTrue(md.contains("### Cross-word control"), md)
        XCTAssertTrue(md.contains("| HELLO | **0.500** | 0.100 | 1 | 2/2 |"), md)
        XCTAssertTrue(md.contains("| AKEWO | 0.600 | **0.200** | 1 | 1/2 |"), md)
        XCTAssertTrue(md.contains("1 of 2 words gain most in the models trained on them"), md)
        XCTAssertEqual(try JSONDecoder().decode(EvaluationResults.self, from: JSONEncoder().encode(pooled)), pooled)
        let page = HTMLReport.render(ReportDocument(setup: ReportTests.setup, results: pooled), samples: [], title: "t")
        XCTAssertTrue(page.contains("<section id=\"cross-word\">"), page)
        XCTAssertTrue(page.contains("<th scope=\"row\">AKEWO</th><td>0.600</td><td><strong>0.200</strong></td>"), page)
        let one = Report.markdown(results: runs[0], setup: ReportSetup(modelName: "m", backend: "local", words: ["HELLO"],
                                                                       seeds: [1], date: "d"))
        XCTAssertFalse(one.contains("Cross-word control"))
    }
}
