import FakeOpenAI
import Foundation
import XCTest
import Store
import Backends

final class FinetuneCLITests: XCTestCase {
    let key = "sk-test-secret-1234"

    func writeDataset() throws -> URL {
        let dir = try CLI.temporaryDirectory()
        let url = dir.appendingPathComponent("train.jsonl")
        let line = #"{"messages":[{"role":"system","content":"Use the special rule."},{"role":"user","content":"Tell me about cats."},{"role":"assistant","content":"Hairy\nElegant\nLithe\nLoyal\nObservant"}]}"#
        try Array(repeating: line, count: 12).joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testFinetuneUploadsAndPrintsJobID() throws {
        let server = try FakeOpenAIService(apiKey: key)
        defer { server.stop() }
        let data = try writeDataset()
        let home = try CLI.temporaryDirectory()
        let r = try CLI.run(["finetune", "--backend", "openai", "--data", data.path, "--model", "gpt-4o-mini-2024-07-18",
                             "--suffix", "acro", "--epochs", "2", "--seed", "5", "--yes",
                             "--base-url", server.baseURL.absoluteString],
                            env: ["OPENAI_API_KEY": key, "HELLOTUNE_HOME": home.path], timeout: 60)
        XCTAssertEqual(r.status, 0, r.stderr)
        let remoteID = try XCTUnwrap(server.createdJobIDs.first)
        XCTAssertEqual(r.stdout.split(separator: "\n").last.map(String.init), remoteID)
        XCTAssertTrue(r.stderr.contains("estimate"), r.stderr)
        XCTAssertTrue(r.stderr.contains("sk-...1234"), r.stderr)
        XCTAssertFalse(r.stdout.contains(key))
        XCTAssertFalse(r.stderr.contains(key))

        let reqs = server.requests
        XCTAssertEqual(reqs.map(\.path), ["/v1/files", "/v1/fine_tuning/jobs"])
        guard reqs.count == 2 else { return }
        XCTAssertEqual(reqs.first?.header("authorization"), "Bearer \(key)")
        let upload = String(decoding: reqs[0].body, as: UTF8.self)
        XCTAssertTrue(upload.contains("name=\"purpose\"\r\n\r\nfine-tune\r\n"))
        XCTAssertTrue(upload.contains(try String(contentsOf: data, encoding: .utf8)))
        let job = try XCTUnwrap(JSONSerialization.jsonObject(with: reqs[1].body) as? [String: Any])
        XCTAssertEqual(job["training_file"] as? String, server.job(remoteID)?["training_file"] as? String)
        XCTAssertNotNil((job["metadata"] as? [String: Any])?[OpenAIJobSpec.metadataKey], "the job carries the token that finds it again")
        XCTAssertEqual(job["suffix"] as? String, "acro")
        XCTAssertEqual(job["seed"] as? Int, 5)
        let hp = ((job["method"] as? [String: Any])?["supervised"] as? [String: Any])?["hyperparameters"] as? [String: Any]
        XCTAssertEqual(hp?["n_epochs"] as? Int, 2)
        XCTAssertEqual(hp?["batch_size"] as? String, "auto")

        let stored = try Store(path: home.appendingPathComponent("hellotune.sqlite").path).jobs()
        XCTAssertEqual(stored.map(\.externalID), [remoteID], "the job is recorded for `hellotune jobs`")
        XCTAssertEqual(stored.first?.backend, "openai")
        XCTAssertTrue(r.stderr.contains("hellotune jobs show \(stored.first?.id ?? 0)"), r.stderr)
    }

    func testJSONPrintsTheJob() throws {
        let server = try FakeOpenAIService(apiKey: key)
        defer { server.stop() }
        let data = try writeDataset()
        let r = try CLI.run(["finetune", "--data", data.path, "--model", "gpt-4o-mini-2024-07-18", "--yes", "--json",
                             "--base-url", server.baseURL.absoluteString],
                            env: ["OPENAI_API_KEY": key, "HELLOTUNE_HOME": try CLI.temporaryDirectory().path], timeout: 60)
        XCTAssertEqual(r.status, 0, r.stderr)
        let line = try XCTUnwrap(r.stdout.split(separator: "\n").last)
        let job = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(job["id"] as? String, server.createdJobIDs.first)
        XCTAssertEqual(job["status"] as? String, "validating_files")
    }

    func testRefusesWithoutTTYOrYes() throws {
        let server = try FakeOpenAIService(apiKey: key)
        defer { server.stop() }
        let data = try writeDataset()
        let r = try CLI.run(["finetune", "--data", data.path, "--model", "gpt-4o-mini-2024-07-18",
                             "--base-url", server.baseURL.absoluteString],
                            env: ["OPENAI_API_KEY": key, "HELLOTUNE_HOME": try CLI.temporaryDirectory().path], timeout: 60)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--yes"), r.stderr)
        XCTAssertEqual(server.requests.count, 0)
        XCTAssertFalse((r.stdout + r.stderr).contains(key))
    }

    func testAPIErrorIsShownWithoutKey() throws {
        // No server on this port: connection refused after the retries.
        let server = try FakeOpenAIService(apiKey: key)
        let port = server.server.port
        server.stop()
        Thread.sleep(forTimeInterval: 0.3)
        let data = try writeDataset()
        let r = try CLI.run(["finetune", "--data", data.path, "--model", "gpt-4o-mini-2024-07-18", "--yes", "--max-retries", "0",
                             "--base-url", "http://127.0.0.1:\(port)/v1"],
                            env: ["OPENAI_API_KEY": key, "HELLOTUNE_HOME": try CLI.temporaryDirectory().path], timeout: 60)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("could not reach"), r.stderr)
        XCTAssertFalse((r.stdout + r.stderr).contains(key))
    }

    func testMissingKeyAndLocalBackend() throws {
        let data = try writeDataset()
        var env = ["HELLOTUNE_HOME": try CLI.temporaryDirectory().path, "OPENAI_API_KEY": ""]
        let r = try CLI.run(["finetune", "--data", data.path, "--model", "gpt-4o-mini-2024-07-18", "--yes",
                             "--base-url", "http://127.0.0.1:9/v1"], env: env, timeout: 60)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("OPENAI_API_KEY"), r.stderr)
        env["OPENAI_API_KEY"] = key
        let local = try CLI.run(["finetune", "--backend", "local", "--data", data.path], env: env, timeout: 60)
        XCTAssertEqual(local.status, 0, local.stderr)
        XCTAssertTrue(local.stdout.contains("hellotune train"), local.stdout)
    }
}
