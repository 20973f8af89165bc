import Foundation
import TUI
import XCTest
import Experiment

/// The Jobs screen draws the held-out loss, one point per epoch, on a row under the training loss, with its first
/// and last value.
final class JobsValidationLossTests: XCTestCase {
    func testTheValidationLossHasARowUnderTheTrainingLoss() throws {
        for size in [Size(width: 80, height: 24), Size(width: 160, height: 48)] {
            var s = Fixtures.withJobs(Fixtures.state(size))
            let events = Fixtures.jobEvents + [.validation(epoch: 1, loss: 2.9, examples: 2), .validation(epoch: 2, loss: 2.25, examples: 2),
                                               .validation(epoch: 3, loss: 2.1, examples: 2)]
            _ = update(&s, .jobEventsLoaded(jobID: Fixtures.jobs[0].id, events))
            let lines = render(s, size: size).lines
            let loss = try XCTUnwrap(lines.firstIndex { $0.contains("loss ") && $0.contains("→") }, lines.joined(separator: "\n"))
            let val = lines[loss + 1]
            XCTAssertTrue(val.contains("val  ▇") || val.contains("val  █"), val)
            XCTAssertTrue(val.contains("▁  2.900 → 2.100 (per epoch)"), val)
            XCTAssertTrue(lines.contains { $0.contains("epoch 2: validation loss 2.2500 (2 held out)") } || size.height == 24,
                          "the event list names it at 160x48")
        }
    }
}
