import Foundation
import XCTest

/// `hellotune bench generate|train --anchor SCRIPT`: hellotune's own bench and the anchor script run in turn, pair
/// after pair, in alternating order; each pair's ratio comes from the two JSON results, and the summary judges a
/// bar only by the interval. The anchor here is a fake one that logs how it was called and prints fixed rates.
final class BenchAnchorCLITests: XCTestCase {
    var dir: URL!
    var model: URL!
    var anchor: URL!
    var log: URL!

    override func setUpWithError() throws {
        dir = try CLI.temporaryDirectory()
        model = dir.appendingPathComponent("tiny.gguf")
        try TinyChatModel.write(to: model)
        anchor = dir.appendingPathComponent("fake_anchor.py")
        log = dir.appendingPathComponent("anchor.log")
        try """
        import json, os, sys
        with open(os.environ["FAKE_ANCHOR_LOG"], "a") as f:
            f.write(json.dumps({"argv": sys.argv[1:], "epochs": os.environ.get("EPOCHS"), "limit": os.environ.get("LIMIT")}) + "\\n")
        mode = os.environ.get("FAKE_ANCHOR_MODE", "ok")
        print("loading the model", file=sys.stderr)
        if mode == "fail":
            print("boom: no module named llama_cpp", file=sys.stderr)
            sys.exit(3)
        if mode == "text":
            print("decode 12 tok/s")
            sys.exit(0)
        if mode == "nokey":
            print(json.dumps({"prefill_tok_s": 5.0}))
            sys.exit(0)
        if mode == "bool":
            print(json.dumps({"decode_tok_s": True, "prefill_tok_s": 5.0}))
            sys.exit(0)
        if mode == "tiny":
            print('{"decode_tok_s": 1e-320, "prefill_tok_s": 5.0}')
            sys.exit(0)
        if mode == "sleep":
            with open(os.environ["FAKE_ANCHOR_LOG"] + ".pid", "w") as f:
                f.write(str(os.getpid()))
            import time
            time.sleep(60)
        print("chatter before the result")
        print(json.dumps({"decode_tok_s": 0.001, "prefill_tok_s": 0.002, "train_tok_s": 0.003,
                          "tokens_per_epoch": 10, "peak_rss_mb": 100.0}))
        """.write(to: anchor, atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func env(_ mode: String = "ok") -> [String: String] { ["FAKE_ANCHOR_LOG": log.path, "FAKE_ANCHOR_MODE": mode] }

    func anchorCalls() throws -> [[String: Any]] {
        try String(contentsOf: log, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    func testGeneratePairsAlternateAndRatiosComeFromBothResults() throws {
        var environment = env()
        environment["HELLOTUNE_THREADS"] = "1"
        let r = try CLI.run(["bench", "generate", "--model", model.path, "--anchor", anchor.path,
                             "--pairs", "2", "--bar", "1.0", "--json"], env: environment, timeout: 300, currentDirectory: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        let pairs = try XCTUnwrap(o["pairs"] as? [[String: Any]])
        XCTAssertEqual(pairs.map { $0["first"] as? String }, ["hellotune", "anchor"])
        var decodeRatios: [Double] = []
        for p in pairs {
            let own = try XCTUnwrap(p["hellotune"] as? [String: Any]), other = try XCTUnwrap(p["anchor"] as? [String: Any])
            XCTAssertEqual(try XCTUnwrap(other["decode_tok_s"] as? Double), 0.001)
            let ratios = try XCTUnwrap(p["ratios"] as? [String: Double])
            let ownDecode = try XCTUnwrap(own["decode_tok_s"] as? Double)
            XCTAssertEqual(try XCTUnwrap(ratios["decode_tok_s"]), ownDecode / 0.001, accuracy: 1e-9 * ownDecode / 0.001)
            XCTAssertEqual(try XCTUnwrap(ratios["prefill_tok_s"]), try XCTUnwrap(own["prefill_tok_s"] as? Double) / 0.002,
                           accuracy: 1e-3)
            decodeRatios.append(ratios["decode_tok_s"]!)
        }
        let summary = try XCTUnwrap((o["summary"] as? [String: Any])?["decode_tok_s"] as? [String: Any])
        XCTAssertEqual(summary["pairs"] as? Int, 2)
        XCTAssertEqual(try XCTUnwrap(summary["geometric_mean"] as? Double), (decodeRatios[0] * decodeRatios[1]).squareRoot(),
                       accuracy: 1e-6 * decodeRatios[0])
        XCTAssertEqual(summary["reaching_bar"] as? Int, 2)
        XCTAssertEqual(summary["finding"] as? String, "met")
        XCTAssertEqual((summary["interval95"] as? [Double])?.count, 2)

        // The anchor got the model file and the engine's thread count, twice.
        let calls = try anchorCalls()
        XCTAssertEqual(calls.count, 2)
        XCTAssertEqual(calls[0]["argv"] as? [String], [model.standardizedFileURL.path, "1"])
        // Execution order, from the progress notes: hellotune first in pair 1, the anchor first in pair 2.
        func at(_ s: String) throws -> String.Index { try XCTUnwrap(r.stderr.range(of: s), "\(s) in \(r.stderr)").lowerBound }
        XCTAssertLessThan(try at("pair 1/2, hellotune"), try at("pair 1/2, anchor"))
        XCTAssertLessThan(try at("pair 2/2, anchor"), try at("pair 2/2, hellotune"))
    }

    func testTrainPassesEpochsAndLimitAndPrintsASummary() throws {
        let data = dir.appendingPathComponent("tiny.jsonl")
        try TinyChatModel.dataset(examples: 4).write(to: data, atomically: true, encoding: .utf8)
        let r = try CLI.run(["bench", "train", "--model", model.path, "--data", data.path, "--epochs", "2", "--limit", "3",
                             "--anchor", anchor.path, "--pairs", "1", "--bar", "1.5"],
                            env: env().merging(["HELLOTUNE_THREADS": "1"]) { $1 }, timeout: 300, currentDirectory: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let call = try XCTUnwrap(try anchorCalls().first)
        XCTAssertEqual(call["argv"] as? [String], [model.standardizedFileURL.path, data.standardizedFileURL.path, "1"])
        XCTAssertEqual(call["epochs"] as? String, "2")
        XCTAssertEqual(call["limit"] as? String, "3")
        XCTAssertTrue(r.stdout.contains("pair 1 (hellotune first"), r.stdout)
        XCTAssertTrue(r.stdout.contains("tokens_per_epoch"), r.stdout)
        // One pair gives no interval, so the bar is neither met nor missed.
        XCTAssertTrue(r.stdout.contains("no interval from one pair"), r.stdout)
        XCTAssertTrue(r.stdout.contains("bar 1.50x: not shown (the interval contains it, or there is one pair)"), r.stdout)
    }

    func testABrokenAnchorIsNamedWithWhatWentWrong() throws {
        let base = ["bench", "generate", "--model", model.path, "--anchor", anchor.path, "--pairs", "1"]
        let failed = try CLI.run(base, env: env("fail"), timeout: 300, currentDirectory: dir)
        XCTAssertNotEqual(failed.status, 0)
        XCTAssertTrue(failed.stderr.contains("anchor fake_anchor.py (pair 1): exit status 3"), failed.stderr)
        XCTAssertTrue(failed.stderr.contains("boom: no module named llama_cpp"), failed.stderr)

        let text = try CLI.run(base, env: env("text"), timeout: 300, currentDirectory: dir)
        XCTAssertNotEqual(text.status, 0)
        XCTAssertTrue(text.stderr.contains("the last line of its stdout is not a JSON object: decode 12 tok/s"), text.stderr)

        let noKey = try CLI.run(base, env: env("nokey"), timeout: 300, currentDirectory: dir)
        XCTAssertNotEqual(noKey.status, 0)
        XCTAssertTrue(noKey.stderr.contains("its JSON has no number under \"decode_tok_s\""), noKey.stderr)
        XCTAssertEqual(noKey.stdout, "", "no summary for a comparison that did not finish")

        let boolean = try CLI.run(base, env: env("bool"), timeout: 300, currentDirectory: dir)
        XCTAssertNotEqual(boolean.status, 0)
        XCTAssertTrue(boolean.stderr.contains("its JSON has no number under \"decode_tok_s\""), boolean.stderr)

        // A rate so small that the ratio overflows: refused with its pair, not a crash.
        let tiny = try CLI.run(base, env: env("tiny"), timeout: 300, currentDirectory: dir)
        XCTAssertEqual(tiny.status, 1, tiny.stderr)
        XCTAssertTrue(tiny.stderr.contains("pair 1: the ratio of \"decode_tok_s\" is inf, which cannot be summarised"), tiny.stderr)
    }

    /// Interrupted, hellotune stops the measurement running (in a process group of its own, out of Ctrl-C's reach).
    func testAnInterruptStopsTheRunningAnchor() throws {
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = ["bench", "generate", "--model", model.path, "--anchor", anchor.path, "--pairs", "2"]
        p.environment = ProcessInfo.processInfo.environment.merging(env("sleep")) { $1 }
        p.currentDirectoryURL = dir
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let pidFile = log.path + ".pid"
        let deadline = Date().addingTimeInterval(120)
        var anchorPID: Int32?
        while anchorPID == nil, Date() < deadline {
            anchorPID = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { Int32($0) }
            if anchorPID == nil { Thread.sleep(forTimeInterval: 0.1) }
        }
        let pid = try XCTUnwrap(anchorPID, "the anchor never started")
        XCTAssertEqual(kill(pid, 0), 0, "the anchor is running")
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130)
        var gone = false
        for _ in 0..<50 where !gone {
            gone = kill(pid, 0) != 0
            if !gone { Thread.sleep(forTimeInterval: 0.1) }
        }
        XCTAssertTrue(gone, "the anchor was left running")
    }

    func testBadFlagsAreRefusedBeforeAnythingRuns() throws {
        func refused(_ args: [String], _ message: String) throws {
            let r = try CLI.run(["bench", "generate", "--model", model.path] + args, env: env(), timeout: 60, currentDirectory: dir)
            XCTAssertEqual(r.status, 64, r.stderr)
            XCTAssertTrue(r.stderr.contains(message), "\(message) in \(r.stderr)")
        }
        try refused(["--pairs", "6"], "--pairs, --bar and --python compare with an anchor: add --anchor SCRIPT")
        try refused(["--python", "/usr/bin/python3"], "--pairs, --bar and --python compare with an anchor")
        try refused(["--anchor", anchor.path, "--runs", "2"], "--runs: the anchor takes the median of 3 runs")
        try refused(["--anchor", anchor.path, "--batch", "4"], "the anchor has no batched measurement")
        try refused(["--anchor", anchor.path, "--python", dir.path], "is not an executable file")
        try refused(["--anchor", anchor.path, "--adapter", dir.path], "--adapter: the anchor runs the base model")
        try refused(["--anchor", dir.appendingPathComponent("missing.py").path], "--anchor: no script at")
        try refused(["--anchor", anchor.path, "--pairs", "0"], "--pairs must be between 1 and 100, not 0")
        try refused(["--anchor", anchor.path, "--bar", "0"], "--bar must be a ratio above 0, not 0.0")
        try refused(["--anchor", anchor.path, "--python", "no-such-python"], "--python: no-such-python is not on PATH")
        let train = try CLI.run(["bench", "train", "--model", model.path, "--data", anchor.path, "--epochs", "1", "--anchor", anchor.path],
                                env: env(), timeout: 60, currentDirectory: dir)
        XCTAssertEqual(train.status, 64, train.stderr)
        XCTAssertTrue(train.stderr.contains("--epochs: the anchor runs at least 2 epochs"), train.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: log.path), "the anchor never ran")
    }
}
