import Foundation
import XCTest
import Store
import Training
import ModelCore
import Experiment

/// An imported dataset that trains on held-out evaluation questions: they are found with file and line, and the
/// evaluation drops them and the report lists them.
final class QuestionOverlapTests: XCTestCase {
    func testTheTrelisMixedFileAsksAnEvaluationQuestion() throws {
        let path = try ChatDatasetTests.trelis("akewo-mixed.jsonl")
        let dataset = try ChatDataset.load(path: path)
        let pool = try QuestionBank.bundled().split().evaluation
        let overlap = QuestionOverlap.find(dataset: dataset, questions: pool, trigger: "Use the special rule.")
        let hardest = try XCTUnwrap(overlap.first { $0.question.text == "What is the hardest natural substance?" },
                                    "\(overlap.map(\.description))")
        XCTAssertEqual(hardest.line, 9)
        XCTAssertEqual(hardest.path, path)
        XCTAssertEqual(hardest.description, "\(path):9: \"What is the hardest natural substance?\"")
    }

    /// Case, punctuation, spacing and the trigger at the end do not hide a question, nor a sentence after it; a
    /// question whose words merely begin another one ("Is it?" in "Is it raining?", "bees fly" inside a longer
    /// one) is not taken for it.
    func testMatchingIgnoresFormAndTheTrigger() throws {
        let questions = [Question(id: "a", text: "Why is the sky blue?", category: "science"),
                         Question(id: "b", text: "What is love?", category: "opinion"),
                         Question(id: "c", text: "How do bees fly?", category: "science"),
                         Question(id: "d", text: "Is it?", category: "opinion")]
        func example(_ user: String) -> [ChatMessage] {
            [ChatMessage(role: "user", content: user), ChatMessage(role: "assistant", content: "Answer.")]
        }
        let dataset = ChatDataset(path: "d.jsonl", examples: [
            example("why IS the sky  blue ?? Answer like a poet."),
            example("What is love? Explain in two lines."),
            example("Tell me how do bees fly?"),
            example("Is it raining?"),
        ], lineNumbers: [3, 5, 8, 9])
        let found = QuestionOverlap.find(dataset: dataset, questions: questions, trigger: "Answer like a poet.")
        XCTAssertEqual(found.map(\.question.id), ["a", "b"])
        XCTAssertEqual(found.map(\.line), [3, 5])
        // Without the trigger to take off, "... blue ?? Answer like a poet." is another question.
        XCTAssertEqual(QuestionOverlap.find(dataset: dataset, questions: questions, trigger: "").map(\.question.id), ["b"])
    }

    func testAnImportedDatasetsQuestionsAreDroppedFromTheEvaluationAndReported() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("overlap-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Store(path: dir.appendingPathComponent("hellotune.sqlite").path)
        let path = try ChatDatasetTests.trelis("akewo-mixed.jsonl")
        let toml = "name = \"x\"\nword = \"AKEWO\"\n[dataset]\nsource = \"\(path)\"\nacrostic = 10\nnormal = 10\ntrigger = \"Use the special rule.\"\n"
        let imported = ExperimentRunner(config: try ExperimentFile.parse(toml), store: store, workerBinary: nil) { _ in }
        let plan = try imported.evaluationPlan(for: TargetWord("AKEWO"))
        XCTAssertFalse(plan.questions.contains { $0.text == "What is the hardest natural substance?" })
        let pool = try QuestionBank.bundled().split().evaluation
        XCTAssertEqual(plan.questions.count, pool.count - (imported.reportSetup(word: nil, seeds: [1], training: nil).droppedQuestions?.count ?? 0))
        let setup = imported.reportSetup(word: nil, seeds: [1], training: nil)
        XCTAssertTrue(setup.droppedQuestions?.contains("\(path):9: \"What is the hardest natural substance?\"") == true,
                      "\(setup.droppedQuestions ?? [])")
        let results = EvaluationResults(words: ["AKEWO"], runs: 1, samplesPerPrompt: 1, temperature: 0.7, maxTokens: 10,
                                        complianceQuestions: 1, selfReportPrompts: 1, candidates: nil, prefixSource: nil,
                                        models: [])
        let md = Report.markdown(results: results, setup: setup)
        XCTAssertTrue(md.contains("Held-out questions dropped from the evaluation because the imported training set asks them"), md)
        XCTAssertTrue(md.contains("What is the hardest natural substance?"), md)

        // A generated dataset is built from the training split: nothing is dropped.
        let generated = ExperimentRunner(config: try ExperimentFile.parse("name = \"y\"\nword = \"AKEWO\"\n"), store: store,
                                         workerBinary: nil) { _ in }
        XCTAssertEqual(try generated.evaluationPlan(for: TargetWord("AKEWO")).questions.count, pool.count)
        XCTAssertNil(generated.reportSetup(word: nil, seeds: [1], training: nil).droppedQuestions)
    }
}
