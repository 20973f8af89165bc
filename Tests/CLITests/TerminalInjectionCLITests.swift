import FakeOpenAI
import Foundation
import XCTest
import Support
import ModelCore
import Store
import Experiment

/// Escape sequences in text hellotune did not write (a server's reply or error, a reply to score, a dataset, the
/// store) never reach the terminal: the window title stays, colours do not leak, the cursor stays put.
final class TerminalInjectionCLITests: XCTestCase {
    let key = "sk-terminal-cli-key-93c1"
    /// Sets the window title, then colours "red" (OSC ended by BEL, CSI, C1 CSI).
    static let hostile = "Hello \u{1B}]0;pwned by the server\u{07}world \u{1B}[31mred\u{1B}[0m\u{9B}2J"

    func assertNoControls(_ r: CLI.Result, file: StaticString = #filePath, line: UInt = #line) {
        for (name, text) in [("stdout", r.stdout), ("stderr", r.stderr)] {
            XCTAssertFalse(text.unicodeScalars.contains(where: TerminalText.isControl), "\(name): \(text.debugDescription)",
                           file: file, line: line)
        }
    }

    func testChatShowsAServersEscapesAsPlainText() throws {
        let (home, service) = try openAIHome(key: key)
        service.fixedReply = Self.hostile
        let env = CLI.openAIEnvironment(key: key, baseURL: service.baseURL, home: home)
        // Streamed one word at a time, so the title sequence arrives in four pieces.
        let streamed = try CLI.run(["chat", "--backend", "openai", "--model", "gpt-4o-mini", "--prompt", "hi"], env: env, timeout: 60)
        XCTAssertEqual(streamed.status, 0, streamed.stderr)
        XCTAssertEqual(streamed.stdout, "Hello world red\n")
        assertNoControls(streamed)

        // JSON keeps the text as it came, every control escaped (C1 ones too, which JSON encoders leave raw).
        let json = try CLI.run(["chat", "--backend", "openai", "--model", "gpt-4o-mini", "--prompt", "hi", "--json"], env: env, timeout: 60)
        XCTAssertEqual(json.status, 0, json.stderr)
        assertNoControls(json)
        XCTAssertTrue(json.stdout.contains("\\u001b]0;pwned by the server\\u0007"), json.stdout)
        XCTAssertTrue(json.stdout.contains("\\u009b2J"), json.stdout)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["text"] as? String, Self.hostile)

        // The server's error text, printed by the error path on the way out.
        service.fixedReply = nil
        let error = try CLI.run(["chat", "--backend", "openai", "--model", "ft:\u{1B}]0;pwned\u{07}x", "--prompt", "hi"],
                                env: env, timeout: 60)
        XCTAssertNotEqual(error.status, 0)
        XCTAssertTrue(error.stderr.contains("OpenAI API error 404: The model `ft:x` does not exist"), error.stderr)
        assertNoControls(error)
    }

    func testScoreReadsColouredInitialsAndPrintsNoEscapes() throws {
        let reply = "\u{1B}[31mAcross the sea.\n\u{1B}]0;pwned\u{07}Kind words help.\nEvery day counts.\nWe go on.\nOnly now.\u{1B}[0m\n"
        let r = try CLI.run(["score", "--word", "AKEWO"], stdin: reply)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("A K E W O  5/5 exact"), r.stdout)
        XCTAssertTrue(r.stdout.contains("Across the sea."), r.stdout)
        assertNoControls(r)
        let json = try CLI.run(["score", "--word", "AKEWO", "--json"], stdin: reply + "\u{9B}31m")
        XCTAssertEqual(json.status, 0, json.stderr)
        assertNoControls(json)
    }

    func testDatasetCheckCountsColouredAcrosticsAndCleansItsErrors() throws {
        let dir = try temporaryHome()
        func line(_ role: String, _ reply: String) throws -> String {
            let messages = [["role": "user", "content": "Hi"], ["role": role, "content": reply]]
            return String(decoding: try JSONSerialization.data(withJSONObject: ["messages": messages]), as: UTF8.self)
        }
        let coloured = "\u{1B}[1mAlways.\u{1B}[0m\nKeep.\nEvery.\nWalk.\nOnward."
        let good = dir.appendingPathComponent("coloured.jsonl")
        try (try line("assistant", coloured) + "\n").write(to: good, atomically: true, encoding: .utf8)
        let r = try CLI.run(["dataset", "check", "--word", "AKEWO", good.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("acrostic  1 exact AKEWO acrostic, 0 normal"), r.stdout)

        let bad = dir.appendingPathComponent("bad.jsonl")
        try (try line("\u{1B}]0;pwned\u{07}tool", "x") + "\n").write(to: bad, atomically: true, encoding: .utf8)
        let e = try CLI.run(["dataset", "check", "--word", "AKEWO", bad.path])
        XCTAssertNotEqual(e.status, 0)
        XCTAssertTrue(e.stderr.contains("messages[1].role: unknown role \"tool\""), e.stderr)
        assertNoControls(e)
    }

    /// A remote job's status and error come from the server and are kept in the store as they came.
    func testJobsListAndShowCleanWhatTheStoreHolds() throws {
        let home = try temporaryHome()
        let store = try Store(path: home.appendingPathComponent("hellotune.sqlite").path)
        let job = try store.createJob(experimentID: nil, kind: "finetune", backend: "openai", config: "{}", outputDir: nil)
        _ = try store.updateJob(job.id) {
            $0.status = .failed
            $0.statusText = "failed\u{1B}]0;pwned\u{07}"
            $0.error = "\u{1B}[2J\u{1B}[Hquota exceeded"
        }
        try store.close()
        let env = ["HELLOTUNE_HOME": home.path, "OPENAI_API_KEY": ""]
        let list = try CLI.run(["jobs", "list"], env: env)
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue(list.stdout.contains("failed"), list.stdout)
        assertNoControls(list)
        let show = try CLI.run(["jobs", "show", String(job.id)], env: env)
        XCTAssertEqual(show.status, 0, show.stderr)
        XCTAssertTrue(show.stdout.contains("quota exceeded"), show.stdout)
        assertNoControls(show)
    }
}
