import Foundation
import XCTest
import Support

final class ProcessOutputTests: XCTestCase {
    /// tee copies its input to stdout and to stderr chunk by chunk, so with far more than a pipe holds (64 KiB) it
    /// blocks on whichever pipe is not being read: a reader that drained one pipe before the other would hang here.
    func testAChildFillingBothPipesCompletesWithBothCaptured() throws {
        let input = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 251) })
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hellotune-process-output-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("input.bin")
        try input.write(to: file)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tee")
        process.arguments = ["/dev/stderr"]
        let inputHandle = try FileHandle(forReadingFrom: file)
        defer { try? inputHandle.close() }
        process.standardInput = inputHandle
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // A deadlock shows as a failure, not as a suite that never ends.
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 300, execute: watchdog)
        let output = ProcessOutput.readToEnd(stdout: out, stderr: err)
        watchdog.cancel()
        process.waitUntilExit()

        XCTAssertEqual(process.terminationReason, .exit, "tee was killed: reading its output deadlocked")
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertEqual(output.stdout.count, input.count)
        XCTAssertEqual(output.stderr.count, input.count)
        XCTAssertTrue(output.stdout == input, "stdout differs from what tee was given")
        XCTAssertTrue(output.stderr == input, "stderr differs from what tee was given")
    }
}
