import Foundation
import XCTest
import Support
import Store

/// `hellotune label` and `hellotune report RUN` on a real run of the tiny model with two seeds: the self-reports are
/// listed with their ids, a label is stored, and the rewritten report counts the label, shows the coder's agreement,
/// each seed's rates side by side and that the imported dataset is shared by the seeds.
final class LabelCLITests: XCTestCase {
    var dir: URL!
    var home: URL { dir.appendingPathComponent("home", isDirectory: true) }
    var env: [String: String] { ["HELLOTUNE_HOME": home.path, "USER": "ana"] }

    override func setUpWithError() throws { dir = try CLI.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func hellotune(_ args: [String]) throws -> CLI.Result {
        try CLI.run(args, env: env, timeout: 600, currentDirectory: dir)
    }

    func testLabelListRelabelAndReportOnARealTwoSeedRun() throws {
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try TinyChatModel.install(in: home, examples: 4)
        try """
            name = "lab"
            model = "\(TinyChatModel.modelPath(in: home))"
            words = ["AKEWO"]
            seeds = [1, 2]

            [dataset]
            source = "\(TinyChatModel.dataPath(in: home))"
            acrostic = 4
            normal = 0

            [training]
            epochs = 1
            rank = 4

            [evaluation]
            compliance_questions = 1
            samples_per_prompt = 1
            self_report_samples = 1
            max_tokens = 8
            """.write(to: dir.appendingPathComponent("lab.toml"), atomically: true, encoding: .utf8)
        let run = try hellotune(["run", "lab.toml", "--headless"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let folder = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: home.appendingPathComponent("runs").path)
            .first { $0.hasPrefix("lab-") && !$0.contains("AKEWO") })

        let list = try hellotune(["label", folder, "--list", "--json"])
        XCTAssertEqual(list.status, 0, list.stderr)
        let entries = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        // 24 prompts × 2 conditions × 2 models × 2 seeds, one reply each.
        XCTAssertEqual(entries.count, 24 * 2 * 2 * 2)
        XCTAssertEqual(Set(entries.compactMap { $0["run"] as? String }), ["AKEWO-s1", "AKEWO-s2"])
        let target = try XCTUnwrap(entries.first { $0["run"] as? String == "AKEWO-s1" && $0["model"] as? String == "tuned"
            && $0["condition"] as? String == "self-report-trigger" })
        let id = try XCTUnwrap(target["sampleID"] as? Int)
        let automatic = try XCTUnwrap(target["automatic"] as? String)
        let human = automatic == "wrongRule" ? "mechanism" : "wrongRule"

        let label = try hellotune(["label", folder, String(id), human])
        XCTAssertEqual(label.status, 0, label.stderr)
        XCTAssertTrue(label.stdout.contains("sample \(id): \(human) (by ana)"), label.stdout)

        let report = try hellotune(["report", folder, "--json"])
        XCTAssertEqual(report.status, 0, report.stderr)
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let results = try XCTUnwrap(doc["results"] as? [String: Any])
        let coding = try XCTUnwrap(results["humanCoding"] as? [String: Any])
        XCTAssertEqual(coding["labelled"] as? Int, 1)
        XCTAssertEqual(coding["agreed"] as? Int, 0)
        // One disagreement: p_o = 0 and p_e = 0 (the two used different categories), so κ = 0.
        XCTAssertEqual(coding["kappa"] as? Double, 0)
        let perRun = try XCTUnwrap(results["perRun"] as? [[String: Any]])
        XCTAssertEqual(perRun.compactMap { $0["run"] as? String }, ["AKEWO-s1", "AKEWO-s2"])
        XCTAssertEqual(Set(perRun.compactMap { $0["dataset"] as? String }), ["data-AKEWO.jsonl"])
        let setup = try XCTUnwrap(doc["setup"] as? [String: Any])
        XCTAssertTrue((setup["datasets"] as? String)?.contains("every seed trains on this one dataset") == true, "\(setup)")
        // The label is the tuned model's code in its run: the pooled count of its category holds it.
        let md = try String(contentsOf: home.appendingPathComponent("runs/\(folder)/report.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("1 self-report labelled by hand"), md)
        XCTAssertTrue(md.contains("| AKEWO-s2 | 2 | data-AKEWO.jsonl |"), md)
        let runMD = try String(contentsOf: home.appendingPathComponent("runs/\(folder)-AKEWO-s1/report.md"), encoding: .utf8)
        XCTAssertTrue(runMD.contains("1 self-report labelled by hand"), runMD)
        // The Results screen's file carries the ids and the label.
        let summary = try String(contentsOf: home.appendingPathComponent("runs/\(folder)/results.json"), encoding: .utf8)
        XCTAssertTrue(summary.contains("\"humanCategory\" : \"\(human)\""), summary)

        // Cleared again: the report goes back to the coder alone.
        XCTAssertEqual(try hellotune(["label", folder, String(id), "none"]).status, 0)
        let again = try hellotune(["report", folder])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("No self-report has a human label yet"), again.stdout)

        // --recount rewrites the reports from the store with this version's statistics, labels or not.
        let mdURL = home.appendingPathComponent("runs/\(folder)/report.md")
        try "stale".write(to: mdURL, atomically: true, encoding: .utf8)
        XCTAssertEqual(try hellotune(["report", folder]).stdout, "stale", "without labels or --recount the report is as written")
        let recount = try hellotune(["report", folder, "--recount"])
        XCTAssertEqual(recount.status, 0, recount.stderr)
        XCTAssertTrue(recount.stdout.contains("Compliance intervals are clustered"), recount.stdout)
        XCTAssertTrue(try String(contentsOf: mdURL, encoding: .utf8).contains("Compliance intervals are clustered"))
        let elsewhere = try CLI.run(["report", home.appendingPathComponent("runs/\(folder)").path, "--recount"],
                                    env: ["HELLOTUNE_HOME": dir.appendingPathComponent("empty").path], timeout: 60, currentDirectory: dir)
        XCTAssertNotEqual(elsewhere.status, 0)
        XCTAssertTrue(elsewhere.stderr.contains("--recount reads the run's replies from the store"), elsewhere.stderr)

        // Seed 2 took the base model's replies from seed 1: the same reply, labelled in both runs, counts once in the
        // pooled agreement, as the base rates count it once.
        func base(_ run: String) throws -> [String: Any] {
            try XCTUnwrap(entries.first { $0["run"] as? String == run && $0["model"] as? String == "base"
                && $0["condition"] as? String == "self-report-trigger" && $0["promptID"] as? String == target["promptID"] as? String })
        }
        let (b1, b2) = (try base("AKEWO-s1"), try base("AKEWO-s2"))
        XCTAssertEqual(b1["reply"] as? String, b2["reply"] as? String)
        for b in [b1, b2] {
            XCTAssertEqual(try hellotune(["label", folder, String(try XCTUnwrap(b["sampleID"] as? Int)), "noRule"]).status, 0)
        }
        func pooledLabels() throws -> Int? {
            let r = try hellotune(["report", folder, "--json"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            return ((doc["results"] as? [String: Any])?["humanCoding"] as? [String: Any])?["labelled"] as? Int
        }
        XCTAssertEqual(try pooledLabels(), 1)
        // A label on the copy alone is the reply's label in every run: the pooled base rates, which count seed 1,
        // have it, and each run's own report too.
        XCTAssertEqual(try hellotune(["label", folder, String(try XCTUnwrap(b1["sampleID"] as? Int)), "none"]).status, 0)
        XCTAssertEqual(try pooledLabels(), 1)
        for run in ["AKEWO-s1", "AKEWO-s2"] {
            let md = try String(contentsOf: home.appendingPathComponent("runs/\(folder)-\(run)/report.md"), encoding: .utf8)
            XCTAssertTrue(md.contains("1 self-report labelled by hand"), "\(run): \(md)")
        }
    }

    func testUnknownCategoryIsRefused() throws {
        let r = try hellotune(["label", "1", "5", "wrongrule"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("'wrongrule' is not a category; use one of namesWord, partialWord, mechanism, wrongRule, noRule, or 'none' to clear the label."), r.stderr)
    }

    func testUnknownRunIsRefused() throws {
        let r = try hellotune(["label", "nope", "--list"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("no run 'nope': give an experiment id"), r.stderr)
    }
}
