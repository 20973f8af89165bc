import Foundation
import XCTest
import Experiment
import Store
import Support

/// Programs started from the UI run in a session of their own (closing the terminal cannot reach them), get every
/// signal unblocked even when started from a thread that blocks them, and are reaped when they end.
final class DetachedProcessTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("hellotune-detached-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    /// Fields of /proc/PID/stat after the command name (which may hold spaces): state, ppid, pgrp, session, ...
    func stat(_ pid: Int32) throws -> [String] {
        let text = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let afterName = try XCTUnwrap(text.range(of: ")", options: .backwards)).upperBound
        return text[afterName...].split(separator: " ").map(String.init)
    }

    func testAStartedProgramLeadsItsOwnSessionWithSignalsUnblockedAndIsReaped() throws {
        // Started from a thread that blocks SIGINT and SIGTERM, as the UI's effect threads do.
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGINT)
        sigaddset(&blocked, SIGTERM)
        var old = sigset_t()
        pthread_sigmask(SIG_BLOCK, &blocked, &old)
        let log = folder.appendingPathComponent("sleep.log")
        let started = Result { try DetachedProcess.start("/bin/sleep", ["30"], log: log) }
        pthread_sigmask(SIG_SETMASK, &old, nil)
        let pid = try started.get()
        defer { kill(pid, SIGKILL) }

        // The session and group are set before exec; /proc shows them as soon as the pid exists.
        let fields = try stat(pid)
        XCTAssertEqual(fields[3], String(pid), "session id of the child (field 6 of /proc/\(pid)/stat)")
        XCTAssertEqual(fields[2], String(pid), "process group of the child (field 5)")
        XCTAssertEqual(getsid(pid), pid)

        // Wait for the exec, then read its signal mask: nothing blocked.
        let deadline = Date().addingTimeInterval(30)
        var status = ""
        while Date() < deadline {
            status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            if status.contains("Name:\tsleep") { break }
            usleep(1_000)
        }
        let mask = status.split(separator: "\n").first { $0.hasPrefix("SigBlk:") }
        XCTAssertEqual(mask.map(String.init), "SigBlk:\t0000000000000000", status)

        // SIGTERM ends it, and it does not stay a zombie (which ProcessLiveness would count as alive).
        kill(pid, SIGTERM)
        while ProcessLiveness.isAlive(pid), Date() < deadline { usleep(1_000) }
        XCTAssertFalse(ProcessLiveness.isAlive(pid), "the ended child was not reaped")
    }
}
