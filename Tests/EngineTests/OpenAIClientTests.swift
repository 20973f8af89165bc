import FakeOpenAI
import Foundation
import XCTest
import Training
import Backends

/// Records the client's waits instead of sleeping.
final class RecordingSleeper: @unchecked Sendable {
    private let lock = NSLock()
    private var waits: [Double] = []
    var recorded: [Double] { lock.lock(); defer { lock.unlock() }; return waits }
    func record(_ s: Double) { lock.lock(); waits.append(s); lock.unlock() }
    var sleeper: RetrySleeper { { [self] s in record(s) } }
}

/// Counts calls from handler threads.
final class CallCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func next() -> Int { lock.lock(); defer { lock.unlock() }; n += 1; return n }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

let openAITestKey = "sk-test-secret-1234"

func makeOpenAIClient(_ server: FakeOpenAIServer, sleeper: RecordingSleeper = RecordingSleeper(), timeout: Double = 10,
                maxRetries: Int = 2) -> OpenAIClient {
    let config = OpenAIConfiguration(apiKey: openAITestKey, baseURL: server.baseURL, organization: "org-1", project: "proj-1",
                                     timeout: timeout, maxRetries: maxRetries)
    return OpenAIClient(configuration: config, sleep: sleeper.sleeper, jitter: { 0 })
}

func fakeJobJSON(_ id: String, status: String = "queued", model: String = "gpt-4o-mini-2024-07-18") -> [String: Any] {
    ["object": "fine_tuning.job", "id": id, "model": model, "created_at": 1_700_000_000, "status": status,
     "fine_tuned_model": NSNull(), "finished_at": NSNull(), "organization_id": "org-1", "result_files": [String](),
     "training_file": "file-abc", "validation_file": NSNull(), "trained_tokens": NSNull(), "error": [String: Any](),
     "seed": 42, "user_provided_suffix": "acro", "estimated_finish": NSNull(),
     "method": ["type": "supervised", "supervised": ["hyperparameters": ["n_epochs": 3, "batch_size": "auto",
                                                                       "learning_rate_multiplier": 1.8]]],
     "metadata": ["experiment": "hello"]]
}

/// Five events, newest first; ev-3 is a metrics event.
func fakeEvents() -> [[String: Any]] {
    (1...5).reversed().map { i in
        var e: [String: Any] = ["object": "fine_tuning.job.event", "id": "ev-\(i)", "created_at": 1_700_000_000 + i,
                                "level": "info", "message": "event \(i)", "type": i == 3 ? "metrics" : "message"]
        e["data"] = i == 3 ? ["step": 7, "train_loss": 1.25, "valid_loss": NSNull(), "train_mean_token_accuracy": 0.5,
                              "total_steps": 30] as [String: Any] : [String: Any]()
        return e
    }
}

func assertOpenAIThrows<T>(_ body: () async throws -> T, file: StaticString = #filePath, line: UInt = #line,
                          _ check: (Error) -> Void) async {
    do {
        _ = try await body()
        XCTFail("expected an error", file: file, line: line)
    } catch {
        check(error)
    }
}

final class OpenAIClientTests: XCTestCase {
    func testJobLifecycle() async throws {
        let data = Data("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"Hello\"}]}\n".utf8)
        let server = try FakeOpenAIServer { req in
            XCTAssertEqual(req.header("authorization"), "Bearer \(openAITestKey)")
            XCTAssertEqual(req.header("openai-organization"), "org-1")
            XCTAssertEqual(req.header("openai-project"), "proj-1")
            switch (req.method, req.path) {
            case ("POST", "/v1/files"):
                let parts = req.multipart
                guard parts["purpose"].map({ String(decoding: $0.data, as: UTF8.self) }) == "fine-tune",
                      parts["file"]?.data == data, parts["file"]?.filename == "train.jsonl" else {
                    return .error(400, message: "bad multipart")
                }
                return .json(["id": "file-abc", "object": "file", "bytes": data.count, "created_at": 1_700_000_000,
                              "filename": "train.jsonl", "purpose": "fine-tune"])
            case ("POST", "/v1/fine_tuning/jobs"):
                return .json(fakeJobJSON("ftjob-1"))
            case ("GET", "/v1/fine_tuning/jobs/ftjob-1"):
                return .json(fakeJobJSON("ftjob-1", status: "running"))
            case ("GET", "/v1/fine_tuning/jobs"):
                return .json(["object": "list", "data": [fakeJobJSON("ftjob-1"), fakeJobJSON("ftjob-0", status: "succeeded")], "has_more": true])
            case ("POST", "/v1/fine_tuning/jobs/ftjob-1/cancel"):
                return .json(fakeJobJSON("ftjob-1", status: "cancelled"))
            case ("GET", "/v1/fine_tuning/jobs/ftjob-1/events"):
                let events = fakeEvents()
                let start: Int
                switch req.query["after"] {
                case nil: start = 0
                case "ev-4": start = 1 // overlaps: ev-4 again
                case "ev-3": start = 2
                case "ev-2": start = 3
                default: start = 4
                }
                let page = Array(events[start..<min(events.count, start + 2)])
                return .json(["object": "list", "data": page, "has_more": start + 2 < events.count])
            case ("GET", "/v1/fine_tuning/jobs/ftjob-1/checkpoints"):
                return .json(["object": "list", "has_more": false, "first_id": "ckpt-2", "last_id": "ckpt-1", "data": [
                    ["object": "fine_tuning.job.checkpoint", "id": "ckpt-2", "created_at": 1_700_000_100,
                     "fine_tuned_model_checkpoint": "ft:gpt-4o-mini-2024-07-18:org::abc:ckpt-step-20", "step_number": 20,
                     "metrics": ["step": 20, "train_loss": 0.5, "full_valid_loss": 0.7], "fine_tuning_job_id": "ftjob-1"],
                    ["object": "fine_tuning.job.checkpoint", "id": "ckpt-1", "created_at": 1_700_000_050,
                     "fine_tuned_model_checkpoint": "ft:gpt-4o-mini-2024-07-18:org::abc:ckpt-step-10", "step_number": 10,
                     "metrics": ["step": 10, "train_loss": 0.9], "fine_tuning_job_id": "ftjob-1"],
                ]])
            default:
                return .error(404, message: "no route \(req.method) \(req.path)")
            }
        }
        defer { server.stop() }
        let client = makeOpenAIClient(server)

        let file = try await client.uploadFile(data, filename: "train.jsonl", purpose: "fine-tune")
        XCTAssertEqual(file.id, "file-abc")
        XCTAssertEqual(file.bytes, data.count)

        let job = try await client.createJob(FineTuneJobRequest(
            model: "gpt-4o-mini-2024-07-18", trainingFile: file.id, suffix: "acro", seed: 42, metadata: ["experiment": "hello"],
            hyperparameters: FineTuneHyperparameters(nEpochs: .value(3), batchSize: .auto, learningRateMultiplier: .value(1.8))))
        XCTAssertEqual(job.id, "ftjob-1")
        XCTAssertEqual(job.status, .queued)
        XCTAssertEqual(job.effectiveHyperparameters?.nEpochs, .value(3))
        XCTAssertEqual(job.effectiveHyperparameters?.batchSize, .auto)
        XCTAssertEqual(job.metadata, ["experiment": "hello"])
        let createBody = try XCTUnwrap(server.requests.first { $0.path == "/v1/fine_tuning/jobs" && $0.method == "POST" }?.json)
        let expected: [String: Any] = [
            "model": "gpt-4o-mini-2024-07-18", "training_file": "file-abc", "suffix": "acro", "seed": 42,
            "metadata": ["experiment": "hello"],
            "method": ["type": "supervised", "supervised": ["hyperparameters": [
                "n_epochs": 3, "batch_size": "auto", "learning_rate_multiplier": 1.8]]],
        ]
        XCTAssertEqual(createBody as NSDictionary, expected as NSDictionary)

        let running = try await client.retrieveJob("ftjob-1")
        XCTAssertEqual(running.status, .running)

        let list = try await client.listJobs(after: "ftjob-2", limit: 2)
        XCTAssertEqual(list.data.map(\.id), ["ftjob-1", "ftjob-0"])
        XCTAssertTrue(list.hasMore)
        let listReq = try XCTUnwrap(server.requests.first { $0.path == "/v1/fine_tuning/jobs" && $0.method == "GET" })
        XCTAssertEqual(listReq.query, ["after": "ftjob-2", "limit": "2"])

        let all = try await client.allEvents(jobID: "ftjob-1", pageSize: 2)
        XCTAssertEqual(all.map(\.id), ["ev-1", "ev-2", "ev-3", "ev-4", "ev-5"])
        let metrics = try XCTUnwrap(all[2].metrics)
        XCTAssertEqual(metrics.step, 7)
        XCTAssertEqual(metrics.trainLoss, 1.25)
        XCTAssertNil(metrics.validLoss)
        XCTAssertEqual(metrics.trainMeanTokenAccuracy, 0.5)
        XCTAssertNil(all[0].metrics)
        XCTAssertGreaterThan(server.requests.filter { $0.path.hasSuffix("/events") }.count, 2)
        // Only what is newer than a known event.
        let newer = try await client.allEvents(jobID: "ftjob-1", newerThan: "ev-3", pageSize: 2)
        XCTAssertEqual(newer.map(\.id), ["ev-4", "ev-5"])

        let checkpoints = try await client.checkpoints(jobID: "ftjob-1", after: nil, limit: nil)
        XCTAssertEqual(checkpoints.data.map(\.stepNumber), [20, 10])
        XCTAssertEqual(checkpoints.data[0].metrics?.fullValidLoss, 0.7)
        XCTAssertEqual(checkpoints.lastID, "ckpt-1")

        let cancelled = try await client.cancelJob("ftjob-1")
        XCTAssertEqual(cancelled.status, .cancelled)
        XCTAssertTrue(cancelled.status.isFinal)
    }

    func testCreateJobSendsAutoAndOmitsUnset() async throws {
        let server = try FakeOpenAIServer { _ in .json(fakeJobJSON("ftjob-2", status: "validating_files")) }
        defer { server.stop() }
        let job = try await makeOpenAIClient(server).createJob(FineTuneJobRequest(model: "gpt-4.1-mini", trainingFile: "file-x"))
        XCTAssertEqual(job.status, .validatingFiles)
        let body = try XCTUnwrap(server.requests.first?.json)
        let expected: [String: Any] = [
            "model": "gpt-4.1-mini", "training_file": "file-x",
            "method": ["type": "supervised", "supervised": ["hyperparameters": [
                "n_epochs": "auto", "batch_size": "auto", "learning_rate_multiplier": "auto"]]],
        ]
        XCTAssertEqual(body as NSDictionary, expected as NSDictionary)
    }

    func testUnknownStatusIsKept() async throws {
        let server = try FakeOpenAIServer { _ in .json(fakeJobJSON("ftjob-3", status: "being_reviewed")) }
        defer { server.stop() }
        let job = try await makeOpenAIClient(server).retrieveJob("ftjob-3")
        XCTAssertEqual(job.status, .other("being_reviewed"))
        XCTAssertEqual(job.status.rawValue, "being_reviewed")
        XCTAssertFalse(job.status.isFinal)
        let encoded = try JSONEncoder().encode(job)
        XCTAssertTrue(String(decoding: encoded, as: UTF8.self).contains("being_reviewed"))
    }

    func test401IsNotRetriedAndShownAsIs() async throws {
        let message = "Incorrect API key provided: sk-test-***1234. You can find your API key at https://platform.openai.com/account/api-keys."
        let server = try FakeOpenAIServer { _ in
            .error(401, message: message, type: "invalid_request_error", code: "invalid_api_key", headers: ["x-request-id": "req_401"])
        }
        defer { server.stop() }
        let sleeper = RecordingSleeper()
        await assertOpenAIThrows({ try await makeOpenAIClient(server, sleeper: sleeper).retrieveJob("ftjob-1") }) { error in
            guard case let OpenAIError.api(status, msg, type, param, code, rid) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(status, 401)
            XCTAssertEqual(msg, message)
            XCTAssertEqual(type, "invalid_request_error")
            XCTAssertNil(param)
            XCTAssertEqual(code, "invalid_api_key")
            XCTAssertEqual(rid, "req_401")
            XCTAssertTrue("\(error)".contains(message))
            XCTAssertTrue("\(error)".contains("req_401"))
            XCTAssertFalse("\(error)".contains(openAITestKey))
        }
        XCTAssertEqual(server.requests.count, 1)
        XCTAssertEqual(sleeper.recorded, [])
    }

    func test429WithRetryAfterThenSuccess() async throws {
        let calls = CallCounter()
        let server = try FakeOpenAIServer { _ in
            calls.next() == 1 ? .error(429, message: "Rate limit reached", type: "requests", headers: ["Retry-After": "1"])
                : .json(fakeJobJSON("ftjob-1"))
        }
        defer { server.stop() }
        let sleeper = RecordingSleeper()
        let job = try await makeOpenAIClient(server, sleeper: sleeper).retrieveJob("ftjob-1")
        XCTAssertEqual(job.id, "ftjob-1")
        XCTAssertEqual(sleeper.recorded, [1])
        XCTAssertEqual(calls.value, 2)
    }

    func testRetryAfterMsAndHTTPDate() async throws {
        let calls = CallCounter()
        let date = Date().addingTimeInterval(30)
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let httpDate = f.string(from: date)
        let server = try FakeOpenAIServer { _ in
            switch calls.next() {
            case 1: return .error(503, message: "busy", headers: ["retry-after-ms": "250"])
            case 2: return .error(503, message: "busy", headers: ["Retry-After": httpDate])
            default: return .json(fakeJobJSON("ftjob-1"))
            }
        }
        defer { server.stop() }
        let sleeper = RecordingSleeper()
        _ = try await makeOpenAIClient(server, sleeper: sleeper).retrieveJob("ftjob-1")
        XCTAssertEqual(sleeper.recorded.count, 2)
        XCTAssertEqual(sleeper.recorded[0], 0.25, accuracy: 1e-9)
        XCTAssertEqual(sleeper.recorded[1], 30, accuracy: 2)
    }

    func test500ThenSuccess() async throws {
        let calls = CallCounter()
        let server = try FakeOpenAIServer { _ in
            calls.next() == 1 ? .error(500, message: "The server had an error", type: "server_error") : .json(fakeJobJSON("ftjob-1"))
        }
        defer { server.stop() }
        let sleeper = RecordingSleeper()
        let job = try await makeOpenAIClient(server, sleeper: sleeper).retrieveJob("ftjob-1")
        XCTAssertEqual(job.id, "ftjob-1")
        XCTAssertEqual(sleeper.recorded, [0.5])
    }

    func test500UntilRetriesRunOut() async throws {
        let server = try FakeOpenAIServer { _ in .error(500, message: "The server had an error", type: "server_error",
                                                         headers: ["x-request-id": "req_500"]) }
        defer { server.stop() }
        let sleeper = RecordingSleeper()
        await assertOpenAIThrows({ try await makeOpenAIClient(server, sleeper: sleeper).retrieveJob("ftjob-1") }) { error in
            XCTAssertEqual((error as? OpenAIError)?.status, 500)
            XCTAssertEqual((error as? OpenAIError)?.requestID, "req_500")
        }
        XCTAssertEqual(server.requests.count, 3)
        XCTAssertEqual(sleeper.recorded, [0.5, 1.0])
    }

    func testBackoffIsCappedWithJitter() throws {
        let config = OpenAIConfiguration(apiKey: openAITestKey, maxRetries: 10)
        let exact = OpenAIClient(configuration: config, jitter: { 0 })
        let jittered = OpenAIClient(configuration: config, jitter: { 1 })
        XCTAssertEqual((0..<6).map { exact.backoff(attempt: $0) }, [0.5, 1, 2, 4, 8, 8])
        XCTAssertEqual(jittered.backoff(attempt: 0), 0.375)
        // A Retry-After beyond 120 s is ignored in favour of backoff.
        XCTAssertEqual(exact.retryDelay(headers: ["retry-after": "121"], attempt: 1), 1)
        XCTAssertEqual(exact.retryDelay(headers: ["retry-after": "120"], attempt: 1), 120)
    }

    func testShouldRetryFalseStopsRetries() async throws {
        let server = try FakeOpenAIServer { _ in .error(500, message: "no", headers: ["x-should-retry": "false"]) }
        defer { server.stop() }
        let sleeper = RecordingSleeper()
        await assertOpenAIThrows({ try await makeOpenAIClient(server, sleeper: sleeper).retrieveJob("ftjob-1") }) { error in
            XCTAssertEqual((error as? OpenAIError)?.status, 500)
        }
        XCTAssertEqual(server.requests.count, 1)
        XCTAssertEqual(sleeper.recorded, [])
    }

    func testShouldRetryTrueRetriesA400() async throws {
        let calls = CallCounter()
        let server = try FakeOpenAIServer { _ in
            calls.next() == 1 ? .error(400, message: "try again", headers: ["x-should-retry": "true"]) : .json(fakeJobJSON("ftjob-1"))
        }
        defer { server.stop() }
        _ = try await makeOpenAIClient(server).retrieveJob("ftjob-1")
        XCTAssertEqual(calls.value, 2)
    }

    func testTimeoutIsRetriedThenReported() async throws {
        let server = try FakeOpenAIServer { _ in FakeOpenAIServer.Response(status: 200, headers: [:], body: .hang(3)) }
        defer { server.stop() }
        let sleeper = RecordingSleeper()
        let start = Date()
        await assertOpenAIThrows({ try await makeOpenAIClient(server, sleeper: sleeper, timeout: 0.3, maxRetries: 1).retrieveJob("x") }) { error in
            guard case OpenAIError.timeout = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("did not answer"))
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 2.5)
        XCTAssertEqual(server.requests.count, 2)
        XCTAssertEqual(sleeper.recorded, [0.5])
    }

    func testConnectionRefusedIsRetried() async throws {
        // A port nothing listens on: bind a server and stop it.
        let server = try FakeOpenAIServer { _ in .json([:]) }
        server.stop()
        try await Task.sleep(nanoseconds: 300_000_000)
        let sleeper = RecordingSleeper()
        await assertOpenAIThrows({ try await makeOpenAIClient(server, sleeper: sleeper).retrieveJob("x") }) { error in
            guard case OpenAIError.connection = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(sleeper.recorded, [0.5, 1.0])
    }

    func testMalformedJSONIsAClearError() async throws {
        let server = try FakeOpenAIServer { _ in .text(200, "{\"id\": \"ftjob-1\", \"status\": ", headers: ["x-request-id": "req_bad"]) }
        defer { server.stop() }
        await assertOpenAIThrows({ try await makeOpenAIClient(server).retrieveJob("ftjob-1") }) { error in
            guard case let OpenAIError.invalidResponse(status, reason, _, rid) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(status, 200)
            XCTAssertTrue(reason.contains("not valid JSON"), reason)
            XCTAssertEqual(rid, "req_bad")
            XCTAssertEqual("\(error)", #"unexpected response from the OpenAI API (HTTP 200): the body is not valid JSON; body starts: "#
                + #"{"id": "ftjob-1", "status":  (request id req_bad). Check that OPENAI_BASE_URL points at the OpenAI API or a "#
                + "server compatible with it.")
        }
        let missing = try FakeOpenAIServer { _ in .json(["object": "fine_tuning.job"]) }
        defer { missing.stop() }
        await assertOpenAIThrows({ try await makeOpenAIClient(missing).retrieveJob("ftjob-1") }) { error in
            XCTAssertTrue("\(error)".contains("missing field 'id'"), "\(error)")
        }
    }

    /// A 1 GiB reply body at about 100 MB/s (a fast network): refused once it passes 64 MiB, long before the
    /// server has sent it all.
    func testReplyOver64MiBIsRefusedEarly() async throws {
        let mib = Data(repeating: UInt8(ascii: "x"), count: 1 << 20)
        let server = try FakeOpenAIServer { _ in
            FakeOpenAIServer.Response(status: 200, headers: ["Content-Type": "application/json", "x-request-id": "req_huge"],
                                      body: .repeated(head: Data(#"{"id": ""#.utf8), piece: mib, count: 1024, tail: Data(#""}"#.utf8),
                                                      pause: 0.01))
        }
        defer { server.stop() }
        await assertOpenAIThrows({ try await makeOpenAIClient(server, maxRetries: 0).retrieveJob("ftjob-1") }) { error in
            XCTAssertEqual("\(error)", "unexpected response from the OpenAI API (HTTP 200): the reply is longer than the 64 MiB "
                + "limit, so it was not read; body starts: {\"id\": \"\(String(repeating: "x", count: 72)) (request id req_huge). "
                + "Check that OPENAI_BASE_URL points at the OpenAI API or a server compatible with it.")
        }
        try await Task.sleep(nanoseconds: 200_000_000)
        XCTAssertLessThan(server.bodyBytesSent, 512 << 20, "the client read far more than the limit before stopping")
    }

    func testNonJSONErrorBodyIsShown() async throws {
        let server = try FakeOpenAIServer { _ in .text(502, "<html>Bad gateway</html>", headers: ["x-should-retry": "false"]) }
        defer { server.stop() }
        await assertOpenAIThrows({ try await makeOpenAIClient(server).retrieveJob("ftjob-1") }) { error in
            XCTAssertTrue("\(error)".contains("Bad gateway"), "\(error)")
        }
    }

    func testKeyNeverAppearsInErrorsOrDescriptions() async throws {
        // A server that quotes the whole key back: the client masks it.
        let server = try FakeOpenAIServer { req in
            .error(401, message: "Incorrect API key provided: \(openAITestKey)", code: openAITestKey, headers: ["x-request-id": "req_k"])
        }
        defer { server.stop() }
        let client = makeOpenAIClient(server)
        var texts: [String] = []
        do { _ = try await client.retrieveJob("x") } catch {
            texts += ["\(error)", String(reflecting: error), error.localizedDescription]
            XCTAssertTrue("\(error)".contains("sk-...1234"))
        }
        let bad = try FakeOpenAIServer { _ in .text(200, "not json \(openAITestKey)") }
        defer { bad.stop() }
        do { _ = try await makeOpenAIClient(bad).retrieveJob("x") } catch {
            texts += ["\(error)", String(reflecting: error)]
        }
        var dumped = ""
        dump(client, to: &dumped)
        var dumpedConfig = ""
        dump(client.configuration, to: &dumpedConfig)
        texts += ["\(client)", String(reflecting: client), "\(client.configuration)", String(reflecting: client.configuration),
                  dumped, dumpedConfig, "\(client.configuration.apiKey)", String(reflecting: client.configuration.apiKey)]
        XCTAssertEqual(texts.count, 13)
        for t in texts { XCTAssertFalse(t.contains(openAITestKey), t) }
        XCTAssertTrue("\(client.configuration)".contains("sk-...1234"))
        XCTAssertEqual(maskedKey(openAITestKey), "sk-...1234")
        XCTAssertEqual(maskedKey("short"), "***")
    }

    func testLogNeverContainsKey() async throws {
        let lines = OpenAILogLines()
        let server = try FakeOpenAIServer { _ in .error(500, message: "boom \(openAITestKey)", headers: ["x-request-id": "req_log"]) }
        defer { server.stop() }
        var client = makeOpenAIClient(server, maxRetries: 1)
        client.log = { lines.append($0) }
        _ = try? await client.retrieveJob("x")
        XCTAssertEqual(lines.all.count, 2)
        XCTAssertTrue(lines.all[0].contains("req_log"), lines.all[0])
        for l in lines.all { XCTAssertFalse(l.contains(openAITestKey), l) }
    }

    func testConfigurationFromEnvironment() throws {
        let c = try OpenAIConfiguration.fromEnvironment(["OPENAI_API_KEY": openAITestKey, "OPENAI_ORG_ID": "org-x",
                                                         "OPENAI_PROJECT_ID": "proj-y"])
        XCTAssertEqual(c.baseURL.absoluteString, "https://api.openai.com/v1")
        XCTAssertEqual(c.organization, "org-x")
        XCTAssertEqual(c.project, "proj-y")
        XCTAssertEqual(c.maxRetries, 2)
        XCTAssertEqual(c.timeout, 600)
        let d = try OpenAIConfiguration.fromEnvironment(["OPENAI_API_KEY": openAITestKey, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"])
        XCTAssertEqual(d.baseURL.absoluteString, "http://127.0.0.1:9/v1")
        XCTAssertThrowsError(try OpenAIConfiguration.fromEnvironment([:])) { XCTAssertEqual($0 as? OpenAIError, .missingAPIKey) }
        XCTAssertThrowsError(try OpenAIConfiguration.fromEnvironment(["OPENAI_API_KEY": openAITestKey], baseURL: "ftp:/x"))
    }

    func testEstimate() throws {
        let line = "{\"messages\":[{\"role\":\"user\",\"content\":\"abcdefgh\"},{\"role\":\"assistant\",\"content\":\"abcd\"}]}"
        let dataset = try ChatDataset.parse(Data(Array(repeating: line, count: 10).joined(separator: "\n").utf8), path: "t.jsonl")
        let e = FineTuneEstimate(dataset: dataset, model: "gpt-4o-mini-2024-07-18", epochs: nil)
        // per example: 3 + (4 + 1 + 2) + (4 + 3 + 1) = 18
        XCTAssertEqual(e.tokensPerEpoch, 180)
        XCTAssertEqual(e.epochs, 10) // 10 examples: 100 / 10
        XCTAssertTrue(e.epochsAreAuto)
        XCTAssertEqual(e.billedTokens, 1800)
        XCTAssertEqual(try XCTUnwrap(e.cost), 1800.0 / 1e6 * 3, accuracy: 1e-12)
        XCTAssertTrue(e.summary.contains("estimate"))
        XCTAssertEqual(FineTuneEstimate(dataset: dataset, model: "gpt-4o-2024-08-06", epochs: 2).pricePerMillion, 25)
        XCTAssertEqual(FineTuneEstimate.price(for: "gpt-4.1-mini"), 5)
        XCTAssertNil(FineTuneEstimate(dataset: dataset, model: "mystery", epochs: 2).cost)
        XCTAssertEqual(FineTuneEstimate.autoEpochs(examples: 1000), 3)
        XCTAssertEqual(FineTuneEstimate.autoEpochs(examples: 50_000), 1)
    }
}

final class OpenAILogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}

