import Foundation
import XCTest
import Experiment

/// A run's losses as its worker's log.jsonl holds them, and as report.md gives them.
final class TrainingCurveTests: XCTestCase {
    /// A resumed worker logs the steps after its checkpoint again: the later records win.
    func testTheCurveOfAResumedLogKeepsTheLaterSteps() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("log-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        let lines = [
            #"{"event":"started","total_steps":4,"start_step":0,"examples":2,"tokens_per_epoch":50}"#,
            #"{"event":"step","step":1,"epoch":1,"loss":3.0,"total_steps":4}"#,
            #"{"event":"step","step":2,"epoch":1,"loss":2.0,"total_steps":4}"#,
            #"{"event":"epoch","epoch":1,"mean_loss":2.5,"tok_s":10}"#,
            #"{"event":"validation","epoch":1,"val_loss":2.7,"examples":1}"#,
            #"{"event":"step","step":3,"epoch":2,"loss":9.9,"total_steps":4}"#,
            "not json",
            #"{"event":"started","total_steps":4,"start_step":2,"examples":2,"tokens_per_epoch":50}"#,
            #"{"event":"step","step":3,"epoch":2,"loss":1.5,"total_steps":4}"#,
            #"{"event":"step","step":4,"epoch":2,"loss":1.0,"total_steps":4}"#,
            #"{"event":"epoch","epoch":2,"mean_loss":1.25,"tok_s":10}"#,
            #"{"event":"validation","epoch":2,"val_loss":2.4,"examples":1}"#,
        ]
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        let curve = try XCTUnwrap(TrainingCurve.read(log: url, run: "r"))
        XCTAssertEqual(curve, TrainingCurve(run: "r", stepLosses: [3, 2, 1.5, 1], stepsPerEpoch: 2, epochLosses: [2.5, 1.25],
                                            validationLosses: [2.7, 2.4], validationExamples: 1))
        XCTAssertEqual(Report.lossLine(curve), "training 3.000 → 1.000 over 4 steps; validation (1 held-out example) by epoch 2.700, 2.400")
    }
}
