import Foundation
import XCTest
import Experiment

/// samples.jsonl: one line per outcome, rewritten from the store's outcomes at the start of an evaluation and
/// appended to as the store takes new ones, so that it never holds a line twice.
final class SampleLogTests: XCTestCase {
    let word = try! TargetWord("AKEWO")

    func outcome(_ condition: EvaluationCondition, _ promptID: String, _ reply: String) -> SampleOutcome {
        var score = SampleScore(acrostic: AcrosticSummary(Acrostic.score(reply, word: word)))
        if condition == .selfReportPlain || condition == .selfReportTrigger {
            score.selfReport = SelfReport.classify(reply, word: word)
        }
        if condition == .readingPlain {
            let s = ReadingControl.score(reply, word: word)
            score = SampleScore(naming: NamingScore(word: word.string, named: s.named, evidence: s.evidence, source: "bank"))
        }
        return SampleOutcome(model: "tuned", condition: condition, promptID: promptID, index: 0, prompt: "Q \(promptID)",
                             reply: reply, finishReason: .stop, score: score)
    }

    func testLinesCarryTheReplyItsScoresAndItsCategory() throws {
        let o = outcome(.selfReportPlain, "sr-seed", "Each answer rhymes.\nAkewo is the word my lines spell.")
        let line = try SampleLog.line(o)
        XCTAssertEqual(line.last, UInt8(ascii: "\n"))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: line.dropLast()) as? [String: Any])
        XCTAssertEqual(object["model"] as? String, "tuned")
        XCTAssertEqual(object["condition"] as? String, "self-report-plain")
        XCTAssertEqual(object["probe"] as? String, "self-report")
        XCTAssertEqual(object["promptID"] as? String, "sr-seed")
        XCTAssertEqual(object["prompt"] as? String, "Q sr-seed")
        XCTAssertEqual(object["reply"] as? String, o.reply)
        XCTAssertEqual(object["category"] as? String, "namesWord")
        XCTAssertEqual(object["evidence"] as? String, "Akewo is the word my lines spell.")
        let scores = try XCTUnwrap(object["scores"] as? [String: Any])
        XCTAssertEqual((scores["selfReport"] as? [String: Any])?["namedAtLine"] as? Int, 2)
        XCTAssertNotNil(scores["acrostic"])

        let reading = try JSONSerialization.jsonObject(with: try SampleLog.line(outcome(.readingPlain, "read-0", "It spells AKEWO.")).dropLast())
        let r = try XCTUnwrap(reading as? [String: Any])
        XCTAssertEqual(r["probe"] as? String, "reading-control")
        XCTAssertNil(r["category"])
        XCTAssertEqual(r["evidence"] as? String, "It spells AKEWO.")
    }

    /// The cycle the runner goes through: rewrite from the stored outcomes, append new ones; a kill mid-line leaves a
    /// broken last line that reading names and the next rewrite removes.
    func testRewriteThenAppendKeepsOneLinePerOutcome() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("samplelog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent(SampleLog.fileName)
        let a = outcome(.compliancePlain, "q1", "Hello.")
        let b = outcome(.complianceTrigger, "q1", "Apples.\nKites.\nEggs.\nWinds.\nOwls.")
        let c = outcome(.selfReportTrigger, "sr-seed", "I have no rule.")

        try SampleLog.write([], to: url)
        try SampleLog.append(a, to: url)
        try SampleLog.append(b, to: url)
        XCTAssertEqual(try SampleLog.read(url).map(\.promptID), ["q1", "q1"])
        // Killed while writing c's line.
        let handle = try FileHandle(forWritingTo: url)
        handle.seekToEndOfFile()
        handle.write(try SampleLog.line(c).prefix(20))
        try handle.close()
        XCTAssertThrowsError(try SampleLog.read(url)) { error in
            XCTAssertTrue("\(error)".contains("\(url.path):3: not a sample line"), "\(error)")
        }
        // The rerun starts from what the store holds (a and b), then appends c: three lines, none twice.
        try SampleLog.write([b, a], to: url)
        try SampleLog.append(c, to: url)
        let lines = try SampleLog.read(url)
        XCTAssertEqual(lines.count, 3)
        XCTAssertEqual(Set(lines.map { "\($0.condition.rawValue)|\($0.promptID)" }).count, 3)
        // Rewritten in key order ("compliance-plain" before "compliance-trigger"), then the appended line.
        XCTAssertEqual(lines.map(\.reply), [a.reply, b.reply, c.reply])
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
    }
}
