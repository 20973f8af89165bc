import XCTest
import Experiment
import Store

/// Checks a job the Jobs screen shows running: its progress from the latest metrics, and no adapter yet.
func assertRunning(_ job: JobSummary, step: Int, totalSteps: Int, loss: Double, tokensPerSecond: Double, etaSeconds: Double,
                   file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(job.status, .running, file: file, line: line)
    XCTAssertEqual(job.step, step, file: file, line: line)
    XCTAssertEqual(job.totalSteps, totalSteps, file: file, line: line)
    XCTAssertEqual(job.loss, loss, file: file, line: line)
    XCTAssertEqual(job.tokensPerSecond, tokensPerSecond, file: file, line: line)
    XCTAssertEqual(job.etaSeconds, etaSeconds, file: file, line: line)
    XCTAssertNil(job.adapterPath, file: file, line: line)
}
