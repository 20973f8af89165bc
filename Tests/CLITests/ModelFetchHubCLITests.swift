import Foundation
import XCTest
import Support

/// Issue 14: `hellotune model fetch hf:OWNER/REPO/FILE.gguf` against a fake Hub on 127.0.0.1
/// (Tests/FakeHub/fake_hub.py): verified, resumable, the token only where it belongs, nothing half-written.
final class ModelFetchHubCLITests: XCTestCase {
    var home: URL!
    var hub: Process!
    var port = 0
    var log: URL!

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// What the fake hub serves (its BODY): 300,000 bytes.
    static let size = 300_000

    override func setUpWithError() throws {
        home = try temporaryHome()
        log = home.appendingPathComponent("hub-requests.jsonl")
        hub = Process()
        hub.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        hub.arguments = ["python3", Self.root.appendingPathComponent("Tests/FakeHub/fake_hub.py").path, log.path]
        let out = Pipe()
        hub.standardOutput = out
        try hub.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            line.append(chunk)
        }
        port = try XCTUnwrap(Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
                             "the fake hub did not print its port")
    }

    override func tearDown() {
        if let hub, hub.isRunning { hub.terminate(); hub.waitUntilExit() }
    }

    func fetch(_ name: String, token: String? = nil) throws -> CLI.Result {
        var env = ["HELLOTUNE_HOME": home.path, "HF_ENDPOINT": "http://127.0.0.1:\(port)", "HF_TOKEN": ""]
        if let token { env["HF_TOKEN"] = token }
        return try CLI.run(["model", "fetch", name], env: env)
    }

    func stored(_ repo: String) -> URL {
        home.appendingPathComponent("models/hf/acme/\(repo)/tiny.gguf")
    }

    /// What the hub was asked, one entry a request (none: it writes no log).
    func requests() throws -> [[String: Any]] {
        guard FileManager.default.fileExists(atPath: log.path) else { return [] }
        return try String(contentsOf: log, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    func testFetchVerifiesAndPrintsThePathTwice() throws {
        let r = try fetch("hf:acme/good/tiny.gguf", token: "hf_secret")
        XCTAssertEqual(r.status, 0, r.stderr)
        let path = stored("good")
        XCTAssertEqual(r.stdout.split(separator: "\n").last.map(String.init), path.path)
        XCTAssertEqual(try Data(contentsOf: path).count, Self.size)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path.path + ".part"))
        // The token went to the Hub's host and not to the download host its redirect named.
        let reqs = try requests()
        let toHub = reqs.filter { ($0["path"] as? String)?.contains("/resolve/") == true }
        let toCDN = reqs.filter { ($0["path"] as? String)?.hasPrefix("/cdn/") == true }
        XCTAssertFalse(toHub.isEmpty)
        XCTAssertFalse(toCDN.isEmpty)
        for q in toHub { XCTAssertEqual(q["authorization"] as? String, "Bearer hf_secret") }
        for q in toCDN { XCTAssertNil(q["authorization"] as? String, "the token leaked to \(q)") }

        let list = try CLI.run(["model", "list", "--json"], env: ["HELLOTUNE_HOME": home.path])
        XCTAssertEqual(list.status, 0, list.stderr)
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        let row = try XCTUnwrap(rows.first { $0["name"] as? String == "hf:acme/good/tiny.gguf" }, list.stdout)
        XCTAssertEqual(row["fetched"] as? Bool, true)
        XCTAssertEqual(row["size"] as? Int, Self.size)
        XCTAssertEqual(row["path"] as? String, path.path)

        let again = try fetch("hf:acme/good/tiny.gguf")
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(again.stdout.split(separator: "\n").last.map(String.init), path.path)
        XCTAssertEqual(try requests().filter { ($0["path"] as? String)?.hasPrefix("/cdn/") == true }.count, toCDN.count,
                       "the second fetch downloaded again")
    }

    func testARenamedRepositoryIsFollowedOnTheHub() throws {
        let r = try fetch("hf:acme/renamed/tiny.gguf", token: "hf_secret")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.split(separator: "\n").last.map(String.init), stored("renamed").path)
        XCTAssertEqual(try Data(contentsOf: stored("renamed")).count, Self.size)
        let heads = try requests().filter { $0["method"] as? String == "HEAD" }.compactMap { $0["path"] as? String }
        XCTAssertEqual(heads, ["/acme/renamed/resolve/main/tiny.gguf", "/acme/good/resolve/main/tiny.gguf"])
    }

    func testResumesAfterACutConnection() throws {
        let first = try fetch("hf:acme/cut/tiny.gguf")
        XCTAssertNotEqual(first.status, 0, "the cut download passed: \(first.stdout)")
        XCTAssertTrue(first.stderr.contains("again"), first.stderr)
        let path = stored("cut")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path.path), "a half-downloaded model is under its final name")
        let kept = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path.path + ".part")[.size] as? Int)
        XCTAssertGreaterThan(kept, 0)
        XCTAssertLessThan(kept, Self.size)

        let second = try fetch("hf:acme/cut/tiny.gguf")
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertEqual(second.stdout.split(separator: "\n").last.map(String.init), path.path)
        XCTAssertEqual(try Data(contentsOf: path).count, Self.size)
        let ranges = try requests().compactMap { $0["range"] as? String }
        XCTAssertEqual(ranges, ["bytes=\(kept)-"], "the second fetch did not continue from the kept bytes")
    }

    func testChecksumMismatchLeavesNothing() throws {
        let r = try fetch("hf:acme/badsum/tiny.gguf")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("SHA-256"), r.stderr)
        let path = stored("badsum")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path.path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path.path + ".part"))
    }

    func testGatedRepoNamesHFToken() throws {
        let r = try fetch("hf:acme/gated/tiny.gguf")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("HF_TOKEN"), r.stderr)
        XCTAssertTrue(r.stderr.contains("401"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stored("gated").path))

        let ok = try fetch("hf:acme/gated/tiny.gguf", token: "hf_test_token")
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(ok.stdout.split(separator: "\n").last.map(String.init), stored("gated").path)
    }

    func testTraversalInTheNameIsRefused() throws {
        for name in ["hf:../../etc/passwd.gguf", "hf:acme/../x.gguf", "hf:acme/good/..gguf", "hf:acme/good/a/b.gguf",
                     "hf:acme/.hidden/x.gguf", "hf:acme/good/x.bin", "hf:ac\\me/good/x.gguf"] {
            let r = try fetch(name)
            XCTAssertNotEqual(r.status, 0, name)
            XCTAssertTrue(r.stderr.contains("not a Hub file name"), "\(name): \(r.stderr)")
        }
        XCTAssertTrue(try requests().isEmpty, "a refused name reached the hub")
        XCTAssertFalse(FileManager.default.fileExists(atPath: home.appendingPathComponent("models/hf").path))
    }
}
