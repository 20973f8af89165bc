import FakeOpenAI
import Foundation
import XCTest
import Store
import Backends

final class FinetuneCLITests: XCTestCase {
    let key = "sk-test-secret-1234"
    func writeDataset() throws -> URL {
        let dir = try temporaryHome()
        let url = dir.appendingPathComponent("train.jsonl")
        let line = #"{"messages":[{"role":"system","content":"Use the special rule."},{"role":"user","content":"Tell me about cats."},{"role":"assistant","content":"Hairy\nElegant\nLithe\nLoyal\nObservant"}]}"#
        try Array(repeating: line, count: 12).joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testFinetuneUploadsAndPrintsJobID() throws {
        let server = try FakeOpenAIService(apiKey: key)
        defer { server.stop() }
        let data = try writeDataset()
        let home = try temporaryHome()
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
        let fileID = try XCTUnwrap(server.job(remoteID)?["training_file"] as? String)
        // The fake reports the file `uploaded` on the first look, `processed` on the second: the job waits for it.
        XCTAssertEqual(reqs.map(\.path), ["/v1/files", "/v1/files/\(fileID)", "/v1/files/\(fileID)", "/v1/fine_tuning/jobs"])
        guard reqs.count == 4 else { return }
        XCTAssertEqual(reqs.first?.header("authorization"), "Bearer \(key)")
        let upload = String(decoding: reqs[0].body, as: UTF8.self)
        XCTAssertTrue(upload.contains("name=\"purpose\"\r\n\r\nfine-tune\r\n"))
        XCTAssertTrue(upload.contains(try String(contentsOf: data, encoding: .utf8)))
        let job = try XCTUnwrap(JSONSerialization.jsonObject(with: reqs[3].body) as? [String: Any])
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
                            env: ["OPENAI_API_KEY": key, "HELLOTUNE_HOME": try temporaryHome().path], timeout: 60)
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
                            env: ["OPENAI_API_KEY": key, "HELLOTUNE_HOME": try temporaryHome().path], timeout: 60)
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
                            env: ["OPENAI_API_KEY": key, "HELLOTUNE_HOME": try temporaryHome().path], timeout: 60)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("could not reach"), r.stderr)
        XCTAssertFalse((r.stdout + r.stderr).contains(key))
    }

    func testMissingKeyAndLocalBackend() throws {
        let data = try writeDataset()
        var env = ["HELLOTUNE_HOME": try temporaryHome().path, "OPENAI_API_KEY": ""]
        let r = try CLI.run(["finetune", "--data", data.path, "--model", "gpt-4o-mini-2024-07-18", "--yes",
                             "--base-url", "http://127.0.0.1:9/v1"], env: env, timeout: 60)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("OPENAI_API_KEY"), r.stderr)
        env["OPENAI_API_KEY"] = key
        // It does nothing, so it must not look as if it did.
        let local = try CLI.run(["finetune", "--backend", "local", "--data", data.path], env: env, timeout: 60)
        XCTAssertNotEqual(local.status, 0, local.stderr)
        XCTAssertTrue(local.stderr.contains("hellotune train"), local.stderr)
    }

    func testLimitsAreRefusedBeforeAnythingIsRecordedOrUploaded() throws {
        let (home, server) = try openAIHome(key: key)
        let data = try writeDataset()
        let few = data.deletingLastPathComponent().appendingPathComponent("few.jsonl")
        try String(try String(contentsOf: data, encoding: .utf8).split(separator: "\n").prefix(9).joined(separator: "\n"))
            .write(to: few, atomically: true, encoding: .utf8)
        let cases: [(args: [String], expected: String)] = [
            (["--epochs", "51"], "--epochs must be in 1...50 (the API's n_epochs), not 51"),
            (["--batch-size", "257"], "--batch-size must be in 1...256 (the API's batch_size), not 257"),
            (["--seed", "2147483648"], "--seed must be in 0...2147483647 (the API's seed), not 2147483648"),
            (["--seed", "-1"], "--seed must be in 0...2147483647 (the API's seed), not -1"),
            (["--data", few.path], "has 9 examples; the API needs at least 10"),
        ]
        for (args, expected) in cases {
            var all = ["finetune", "--data", data.path, "--model", "gpt-4o-mini-2024-07-18", "--yes",
                       "--base-url", server.baseURL.absoluteString]
            all += args
            let r = try CLI.run(all, env: ["OPENAI_API_KEY": key, "HELLOTUNE_HOME": home.path], timeout: 60)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(r.stderr.contains(expected), "\(args): \(r.stderr)")
        }
        XCTAssertEqual(server.requests.count, 0, "nothing was uploaded")
        XCTAssertEqual(try Store(path: home.appendingPathComponent("hellotune.sqlite").path).jobs().count, 0, "nothing was recorded")
    }

    func testARefusedUploadFailsTheJobAndAnotherTryReusesIt() throws {
        let (home, server) = try openAIHome(key: key)
        let data = try writeDataset()
        let args = ["finetune", "--data", data.path, "--model", "gpt-4o-mini-2024-07-18", "--yes",
                    "--base-url", server.baseURL.absoluteString]
        let refused = try CLI.run(args, env: ["OPENAI_API_KEY": "sk-wrong-key-0000", "HELLOTUNE_HOME": home.path], timeout: 60)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("401"), refused.stderr)
        let store = try Store(path: home.appendingPathComponent("hellotune.sqlite").path)
        let failed = try XCTUnwrap(store.jobs().first)
        XCTAssertEqual(failed.status, .failed, "not left queued")
        XCTAssertTrue(failed.error?.contains("401") ?? false, failed.error ?? "")

        let again = try CLI.run(args, env: ["OPENAI_API_KEY": key, "HELLOTUNE_HOME": home.path], timeout: 60)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("job \(failed.id) with these settings never reached the API"), again.stderr)
        let jobs = try store.jobs()
        XCTAssertEqual(jobs.map(\.id), [failed.id], "the same row, not a second")
        XCTAssertEqual(jobs.first?.externalID, server.createdJobIDs.first)
        XCTAssertNil(jobs.first?.error)
        XCTAssertEqual(server.createdJobIDs.count, 1)
    }

    func testPlainHTTPToAnotherHostIsRefusedAndCredentialsAreMasked() throws {
        let data = try writeDataset()
        let home = try temporaryHome()
        let r = try CLI.run(["finetune", "--data", data.path, "--model", "gpt-4o-mini-2024-07-18", "--yes",
                             "--base-url", "http://alice:hunter2@api.example.invalid/v1"],
                            env: ["OPENAI_API_KEY": key, "HELLOTUNE_HOME": home.path], timeout: 60)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--allow-insecure"), r.stderr)
        XCTAssertTrue(r.stderr.contains("http://***@api.example.invalid/v1"), r.stderr)
        XCTAssertFalse((r.stdout + r.stderr).contains("hunter2"))
    }

    func testCredentialsInTheURLAreNeitherPrintedNorStored() throws {
        let (home, server) = try openAIHome(key: key)
        let data = try writeDataset()
        let withCredentials = server.baseURL.absoluteString.replacingOccurrences(of: "http://", with: "http://alice:hunter2@")
        let r = try CLI.run(["finetune", "--data", data.path, "--model", "gpt-4o-mini-2024-07-18", "--yes",
                             "--base-url", withCredentials],
                            env: ["OPENAI_API_KEY": key, "HELLOTUNE_HOME": home.path], timeout: 60)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse((r.stdout + r.stderr).contains("hunter2"), r.stderr)
        XCTAssertTrue(r.stderr.contains("***@127.0.0.1"), r.stderr)
        for name in try FileManager.default.contentsOfDirectory(atPath: home.path) where name.hasPrefix("hellotune.sqlite") {
            let bytes = try Data(contentsOf: home.appendingPathComponent(name))
            XCTAssertNil(bytes.range(of: Data("hunter2".utf8)), "the password never reaches \(name)")
        }
    }
}
