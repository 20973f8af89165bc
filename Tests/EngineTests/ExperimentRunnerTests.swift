import Foundation
import XCTest
import Store
import Experiment

/// What the runner derives from an experiment file before anything runs.
final class ExperimentRunnerTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("runner-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func runner(_ toml: String) throws -> ExperimentRunner {
        let store = try Store(path: dir.appendingPathComponent("hellotune.sqlite").path)
        return ExperimentRunner(config: try ExperimentFile.parse(toml), store: store, workerBinary: nil, progress: { _ in })
    }

    func testTrainingSectionReachesTheTrainer() throws {
        let r = try runner("""
        name = "x"
        word = "AKEWO"
        [training]
        epochs = 5
        learning_rate = 2e-3
        rank = 8
        alpha = 16
        schedule = "cosine"
        warmup = 50
        dropout = 0.1
        """)
        let o = r.trainingOptions(seed: 9)
        XCTAssertEqual(o.epochs, 5)
        XCTAssertEqual(o.learningRate, 2e-3)
        XCTAssertEqual(o.seed, 9)
        XCTAssertEqual(o.lora.rank, 8)
        XCTAssertEqual(o.lora.alpha, 16)
        XCTAssertEqual(o.lora.dropout, 0.1)
        XCTAssertEqual(o.schedule, .cosine)
        XCTAssertEqual(o.warmupSteps, 50)
        XCTAssertNoThrow(try o.validate())
        let setup = r.reportSetup(word: nil, seeds: [9], training: nil)
        XCTAssertEqual(setup.trainingSummary, "50 warm-up steps, cosine decay, LoRA dropout 0.1")
    }

    /// A dataset without a trigger (the HELLO preset) is evaluated without one: no "Use the special rule." is
    /// appended to its prompts, and the forced choice does not ask about it.
    func testNoTriggerMeansNoneInTheEvaluation() throws {
        let r = try runner(try XCTUnwrap(ExperimentFile.presets["hello"]))
        XCTAssertNil(r.config.dataset.trigger)
        let plan = try r.evaluationPlan(for: TargetWord("HELLO"))
        XCTAssertEqual(plan.trigger, "")
        XCTAssertEqual(plan.userMessage("Why is the sky blue?", trigger: true), "Why is the sky blue?")
        XCTAssertFalse(plan.forcedChoicePrompt.contains("special rule"), plan.forcedChoicePrompt)

        let mixed = try runner("name = \"x\"\nword = \"AKEWO\"\n[dataset]\ntrigger = \"Answer like a poet.\"\n")
        let triggered = try mixed.evaluationPlan(for: TargetWord("AKEWO"))
        XCTAssertEqual(triggered.userMessage("Why?", trigger: true), "Why? Answer like a poet.")
        XCTAssertTrue(triggered.forcedChoicePrompt.contains("\"Answer like a poet.\""), triggered.forcedChoicePrompt)
    }

    func testDefaultTrainingKeepsTheReportAsBefore() throws {
        let r = try runner("name = \"x\"\nword = \"AKEWO\"\n")
        let o = r.trainingOptions(seed: 1)
        XCTAssertEqual(o.schedule, .constant)
        XCTAssertEqual(o.warmupSteps, 0)
        XCTAssertEqual(o.lora.dropout, 0)
        XCTAssertNil(r.reportSetup(word: nil, seeds: [1], training: nil).trainingSummary)
    }
}
