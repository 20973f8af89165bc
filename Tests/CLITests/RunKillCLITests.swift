import Foundation
import TestSupport
import XCTest
import Store

/// `hellotune run --headless` end to end on a tiny model, and killed with SIGKILL during its evaluation: the
/// samples already scored stay in the store, the store stays sound, and a rerun generates only what is missing.
final class RunKillCLITests: XCTestCase {
    var home: URL!
    var env: [String: String] { ["HELLOTUNE_HOME": home.path] }
    var dbPath: String { home.appendingPathComponent("hellotune.sqlite").path }

    override func setUpWithError() throws {
        home = try temporaryHome()
        try TinyChatModel.install(in: home, examples: 4)
    }

    /// The smallest complete experiment: 4 imported examples, one epoch, one question, one reply each of
    /// 8 tokens: 57 units of evaluation work per model.
    func experimentFile(name: String) throws -> URL {
        try TinyChatModel.experiment(name: name, in: home, acrostic: 2, normal: 2, complianceQuestions: 1,
                                     samplesPerPrompt: 1, maxTokens: 8)
    }

    /// Starts `hellotune run FILE`, its output going to `log`.
    func startRun(_ file: URL, log: URL) throws -> Process {
        try CLI.start(["run", file.path, "--headless", "--json"], env: env, log: log)
    }

    func outcome(_ r: CLI.Result) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout + r.stderr)
    }

    func testKilledEvaluationKeepsItsSamplesAndTheRerunSkipsThem() throws {
        let store = try Store(path: dbPath)
        let first = try CLI.run(["run", try experimentFile(name: "whole").path, "--headless", "--json"], env: env)
        XCTAssertEqual(first.status, 0, first.stderr)
        let total = try XCTUnwrap(outcome(first)["samples_generated"] as? Int)
        XCTAssertEqual(total, 214, "2 models x (2 compliance + 48 self-report replies + forced choice + 6 prefix probes "
                           + "+ 40 reading-control replies + 10 forced-choice-v2 prompts)")
        XCTAssertEqual(try outcome(first)["samples_reused"] as? Int, 0)

        var rng = SplitMix64(seed: 0xE7A1)
        let wanted = 20
        var passed = 0, attempts = 0, tooLate = 0
        var report: [String] = []
        while passed < wanted, attempts < wanted * 3 {
            attempts += 1
            let name = "trial-\(attempts)"
            let file = try experimentFile(name: name)
            // Kill once at least `target` samples are stored, a moment later: leave the last few units undone
            // so that, on a machine as fast as usual, the kill lands before the run ends.
            let target = 1 + rng.below(total - 8)
            let extra = UInt32(rng.below(3_000))
            let log = home.appendingPathComponent("\(name).log")
            let run = try startRun(file, log: log)
            var experimentID: Int64?
            let deadline = Date().addingTimeInterval(240)
            while run.isRunning, Date() < deadline {
                if experimentID == nil { experimentID = try store.experiments().first { $0.name == name }?.id }
                if let experimentID {
                    if try store.sampleKeys(experimentID: experimentID).count >= target { break }
                }
                usleep(1_000)
            }
            usleep(extra)
            kill(run.processIdentifier, SIGKILL)
            run.waitUntilExit()
            let output = ((try? String(contentsOf: log, encoding: .utf8)) ?? "")
                + " [ended by \(run.terminationReason == .exit ? "exit" : "signal") \(run.terminationStatus)]"
            let id = try XCTUnwrap(experimentID, "trial \(attempts): the run never created its experiment: \(output)")
            let finished = try store.experiment(id)?.status == "finished"
            if run.terminationReason == .exit || finished {
                // It got to the end before the kill (draw again), or failed by itself (a bug).
                XCTAssertEqual(run.terminationReason == .exit ? run.terminationStatus : 0, 0,
                               "trial \(attempts): the run failed by itself: \(output)")
                XCTAssertTrue(finished, "trial \(attempts)")
                if run.terminationReason == .exit && run.terminationStatus != 0 { break }
                tooLate += 1
                continue
            }
            let kept = try store.samples(experimentID: id)
            var ok = !kept.isEmpty && kept.count < total && kept.allSatisfy { $0.score != nil }
            XCTAssertTrue(ok, "trial \(attempts): \(kept.count) samples stored at the kill, all scored")
            let checker = try Store(path: dbPath)
            let integrity = try checker.integrityCheck()
            XCTAssertEqual(integrity, "ok", "trial \(attempts)")
            try checker.close()

            let rerun = try CLI.run(["run", file.path, "--headless", "--json"], env: env)
            XCTAssertEqual(rerun.status, 0, "trial \(attempts): \(rerun.stderr)")
            let o = try outcome(rerun)
            let generated = o["samples_generated"] as? Int, reused = o["samples_reused"] as? Int
            XCTAssertEqual(o["experiment"] as? Int, Int(id), "trial \(attempts): the rerun must continue the experiment")
            XCTAssertEqual(reused, kept.count, "trial \(attempts)")
            XCTAssertEqual(generated, total - kept.count, "trial \(attempts): only the missing samples are generated")
            let after = try store.samples(experimentID: id)
            let byID = Dictionary(uniqueKeysWithValues: after.map { ($0.id!, $0) })
            let unchanged = kept.allSatisfy { byID[$0.id!] == $0 }
            XCTAssertTrue(unchanged, "trial \(attempts): a sample stored before the kill changed")
            XCTAssertEqual(after.count, total, "trial \(attempts)")
            XCTAssertEqual(try store.integrityCheck(), "ok")
            ok = ok && integrity == "ok" && rerun.status == 0 && Int(id) == o["experiment"] as? Int
                && reused == kept.count && generated == total - kept.count && unchanged && after.count == total
            if ok { passed += 1 }
            report.append("trial \(attempts): killed with \(kept.count)/\(total) samples stored (target \(target)); "
                + "integrity ok; rerun generated \(generated ?? -1), reused \(reused ?? -1)" + (ok ? "" : " FAILED"))
        }
        print(report.joined(separator: "\n"))
        print("run kill -9 during evaluation: \(passed)/\(wanted) trials passed (\(tooLate) draws finished before "
            + "the kill and were drawn again)")
        XCTAssertEqual(passed, wanted, "\(passed)/\(wanted) trials")
    }
}
