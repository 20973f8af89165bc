import FakeOpenAI
import Foundation
import TestSupport
import XCTest
import ModelCore
import Training
import Store
import Backends
import Experiment

/// `hellotune jobs` as a user runs it, against a store seeded through the Store API from this process.
final class JobsCLITests: XCTestCase {
    var home: URL!
    /// No API key: OpenAI jobs are shown as stored, whatever the caller's environment holds.
    var env: [String: String] { ["HELLOTUNE_HOME": home.path, "OPENAI_API_KEY": ""] }
    var dbPath: String { home.appendingPathComponent("hellotune.sqlite").path }

    override func setUpWithError() throws {
        home = try CLI.temporaryDirectory()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: home)
    }

    func store() throws -> Store { try Store(path: dbPath) }

    func jobs(_ args: String...) throws -> CLI.Result { try CLI.run(["jobs"] + args, env: env) }

    func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    @discardableResult
    func seedTrainingJob(_ store: Store, experimentID: Int64? = nil) throws -> JobRecord {
        let job = try store.createJob(experimentID: experimentID, kind: "train", backend: "local",
                                      config: #"{"epochs":2}"#, outputDir: home.appendingPathComponent("runs/1").path)
        return try store.updateJob(job.id) {
            $0.status = .running
            $0.step = 120
            $0.totalSteps = 500
            $0.loss = 1.23456
            $0.tokensPerSecond = 812.34
            $0.etaSeconds = 245
            $0.pid = getpid()
        }
    }

    func testListIsTheDefaultAndShowsProgress() throws {
        let store = try store()
        let experiment = try store.createExperiment(name: "akewo", config: "{}")
        let train = try seedTrainingJob(store, experimentID: experiment.id)
        let remote = try store.createJob(experimentID: nil, kind: "train", backend: "openai", config: "{}", outputDir: nil)

        for r in [try jobs(), try jobs("list")] {
            XCTAssertEqual(r.status, 0, r.stderr)
            let lines = r.stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.count, 3, r.stdout)
            for column in ["ID", "KIND", "BACKEND", "STATUS", "STEP", "LOSS", "TOK/S", "ETA", "EXP", "CREATED"] {
                XCTAssertTrue(lines[0].contains(column), lines[0])
            }
            let row = lines[1].split(separator: " ").map(String.init)
            XCTAssertEqual(Array(row.prefix(9)), ["\(train.id)", "train", "local", "running", "120/500", "1.2346", "812.3",
                                                   "4m05s", "\(experiment.id)"], lines[1])
            XCTAssertTrue(lines[2].hasPrefix("\(remote.id) "), lines[2])
            XCTAssertTrue(lines[2].contains("queued"), lines[2])
        }
    }

    func testListEmptyAndJSON() throws {
        let empty = try jobs()
        XCTAssertEqual(empty.status, 0, empty.stderr)
        XCTAssertEqual(empty.stdout, "no jobs yet\n")
        XCTAssertEqual((try json(try jobs("--json").stdout) as? [Any])?.count, 0)

        let train = try seedTrainingJob(try store())
        let r = try jobs("list", "--json")
        XCTAssertEqual(r.status, 0, r.stderr)
        let list = try XCTUnwrap(try json(r.stdout) as? [[String: Any]], r.stdout)
        XCTAssertEqual(list.count, 1)
        XCTAssertEqual(list[0]["id"] as? Int, Int(train.id))
        XCTAssertEqual(list[0]["status"] as? String, "running")
        XCTAssertEqual(list[0]["step"] as? Int, 120)
        XCTAssertEqual(list[0]["totalSteps"] as? Int, 500)
        XCTAssertEqual(list[0]["loss"] as? Double, 1.23456)
        XCTAssertEqual((list[0]["config"] as? [String: Any])?["epochs"] as? Int, 2, "config is embedded as JSON")
        XCTAssertTrue(list[0]["externalID"] is NSNull)
    }

    /// `jobs list --json` is written by hand, a job at a time (JSONSerialization with sorted keys took ~0.8 ms a job):
    /// each object is the one `jobs show --json` gives for the job, escapes, controls, NaN and nested configs included,
    /// and nothing that a terminal would act on is written raw.
    func testListJSONWritesEachJobAsShowDoes() throws {
        let store = try store()
        let plain = try seedTrainingJob(store)
        let odd = try store.createJob(experimentID: nil, kind: "evaluate", backend: "openai",
                                      config: "{ \"words\" : [\"A\", \"B\\u0085\"],\n  \"nested\": {\"x\": 1.5e-7, \"ok\": true, \"none\": null},\"quote\":\"say \\\"hi\\\"\\\\\" }",
                                      outputDir: "/tmp/a b/c\"d")
        try store.updateJob(odd.id) {
            $0.loss = .nan
            $0.etaSeconds = .infinity
            $0.error = "line one\nline\ttwo \u{1B}[31mred\u{1B}]0;title\u{07} \u{9B}2J \u{7F} é ✓ 🎉"
            $0.externalID = "ftjob-1/2"
            $0.step = 3
        }
        let r = try jobs("list", "--json")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.filter { $0 == "\n" }.count, 1, "one line")
        for raw in ["\u{1B}", "\u{9B}", "\u{7F}", "\u{07}", "\u{85}"] {
            XCTAssertFalse(r.stdout.unicodeScalars.contains { String($0) == raw }, "no raw \(raw.unicodeScalars.first!.value)")
        }
        XCTAssertTrue(r.stdout.contains(#""outputDir":"/tmp/a b/c\"d""#), "slashes are not escaped: \(r.stdout)")
        let list = try XCTUnwrap(try json(r.stdout) as? [NSDictionary], r.stdout)
        XCTAssertEqual(list.count, 2)
        for (listed, id) in zip(list, [plain.id, odd.id]) {
            let show = try jobs("show", "\(id)", "--json")
            XCTAssertEqual(show.status, 0, show.stderr)
            let shown = try XCTUnwrap((try json(show.stdout) as? NSDictionary)?["job"] as? NSDictionary)
            XCTAssertEqual(listed, shown, "job \(id)")
        }
        XCTAssertEqual(list[1]["error"] as? String, "line one\nline\ttwo \u{1B}[31mred\u{1B}]0;title\u{07} \u{9B}2J \u{7F} é ✓ 🎉")
        XCTAssertTrue(list[1]["loss"] is NSNull)
        XCTAssertEqual((list[1]["config"] as? NSDictionary)?["words"] as? [String], ["A", "B\u{85}"])
    }

    func testShowAndEvents() throws {
        let store = try store()
        let job = try seedTrainingJob(store)
        try store.appendEvents(jobID: job.id, (1...15).map { (kind: "metrics", payload: #"{"step":\#($0)}"#, externalID: nil) })
        let events = try store.events(jobID: job.id)

        let show = try jobs("show", "\(job.id)")
        XCTAssertEqual(show.status, 0, show.stderr)
        XCTAssertTrue(show.stdout.hasPrefix("job \(job.id): train on local, running\n"), show.stdout)
        XCTAssertTrue(show.stdout.contains("step        120/500"), show.stdout)
        XCTAssertTrue(show.stdout.contains("pid         \(getpid()) (alive)"), show.stdout)
        XCTAssertTrue(show.stdout.contains("info   step 15 "), show.stdout)
        XCTAssertTrue(show.stdout.contains("info   step 6 "), show.stdout)
        XCTAssertFalse(show.stdout.contains("step 5 "), "show prints only the latest 10 events")
        XCTAssertTrue(show.stdout.contains("config\n  {\n    \"epochs\" : 2\n  }"), "config as indented JSON: \(show.stdout)")

        let showJSON = try XCTUnwrap(try json(try jobs("show", "\(job.id)", "--json").stdout) as? [String: Any])
        XCTAssertEqual((showJSON["job"] as? [String: Any])?["id"] as? Int, Int(job.id))
        XCTAssertEqual((showJSON["events"] as? [Any])?.count, 10)

        let all = try jobs("events", "\(job.id)")
        XCTAssertEqual(all.status, 0, all.stderr)
        XCTAssertEqual(all.stdout.split(separator: "\n").count, 15)
        XCTAssertNotNil(all.stdout.range(of: #"^#\#(events[0].id)  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d  info   step 1 +metrics\n"#, options: .regularExpression),
                        all.stdout)

        let page = try jobs("events", "\(job.id)", "--after", "\(events[9].id)", "--limit", "3", "--json")
        XCTAssertEqual(page.status, 0, page.stderr)
        let lines = try page.stdout.split(separator: "\n").map { try XCTUnwrap(try json(String($0)) as? [String: Any]) }
        XCTAssertEqual(lines.map { $0["id"] as? Int }, events[10...12].map { Int($0.id) })
        XCTAssertEqual((lines.first?["payload"] as? [String: Any])?["step"] as? Int, 11)
    }

    func testCancelLocalJobTerminatesItsWorker() throws {
        let worker = Process()
        worker.executableURL = URL(fileURLWithPath: "/bin/sleep")
        worker.arguments = ["60"]
        try worker.run()
        defer { if worker.isRunning { worker.terminate() } }
        let store = try store()
        let job = try seedTrainingJob(store)
        try store.updateJob(job.id) { $0.pid = worker.processIdentifier }

        let r = try jobs("cancel", "\(job.id)")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("sent SIGTERM to its worker (pid \(worker.processIdentifier)); marked cancelled"), r.stdout)
        let deadline = Date().addingTimeInterval(10)
        while worker.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        XCTAssertFalse(worker.isRunning, "the worker should have ended on SIGTERM")
        XCTAssertEqual(worker.terminationReason, .uncaughtSignal)
        XCTAssertEqual(worker.terminationStatus, SIGTERM)
        XCTAssertEqual(try store.job(job.id)?.status, .cancelled)

        let again = try jobs("cancel", "\(job.id)")
        XCTAssertEqual(again.status, 0, "cancelling a cancelled job is not an error")
        XCTAssertTrue(again.stderr.contains("already cancelled"), again.stderr)
    }

    func testCancelLocalJobWhoseWorkerIsGoneMarksItInterrupted() throws {
        let store = try store()
        let job = try seedTrainingJob(store)
        let dead = try deadPID()
        try store.updateJob(job.id) { $0.pid = dead }
        let r = try jobs("cancel", "\(job.id)")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("its worker (pid \(dead)) is already gone; marked interrupted"), r.stdout)
        XCTAssertEqual(try store.job(job.id)?.status, .interrupted)
    }

    func testCancelOpenAIJobIsRequestedForItsWorker() throws {
        let store = try store()
        let job = try store.createJob(experimentID: nil, kind: "train", backend: "openai", config: "{}", outputDir: nil)
        try store.updateJob(job.id) { $0.status = .running; $0.externalID = "ftjob-123" }
        let r = try jobs("cancel", "\(job.id)")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("cancel requested; the openai worker cancels it"), r.stdout)
        XCTAssertEqual(try store.job(job.id)?.statusText, "cancel-requested")
        XCTAssertNil(try store.job(job.id)?.status)

        let again = try jobs("cancel", "\(job.id)", "--json")
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual((try json(again.stdout) as? [String: Any])?["status"] as? String, "cancel-requested")
        let list = try jobs("list")
        XCTAssertTrue(list.stdout.contains("cancel-requested"), "an unknown status is shown as stored: \(list.stdout)")
    }

    /// An OpenAI job made by `hellotune finetune`, followed with `jobs list/show/events` and cancelled remotely.
    func testOpenAIJobsAreFollowedAndCancelledThroughTheAPI() throws {
        let key = "sk-jobs-cli-key-4b2c9d"
        let service = try FakeOpenAIService(apiKey: key)
        defer { service.stop() }
        let api = CLI.openAIEnvironment(key: key, baseURL: service.baseURL, home: home)
        let data = CLI.trelisDataset("akewo.jsonl").path
        let made = try CLI.run(["finetune", "--data", data, "--model", "gpt-4o-mini-2024-07-18", "--yes"], env: api, timeout: 60)
        XCTAssertEqual(made.status, 0, made.stderr)
        let remoteID = try XCTUnwrap(service.createdJobIDs.first)
        let job = try XCTUnwrap(try store().jobs().first)
        XCTAssertEqual(job.externalID, remoteID)

        let list = try CLI.run(["jobs", "list"], env: api)
        XCTAssertEqual(list.status, 0, list.stderr)
        let row = try XCTUnwrap(list.stdout.split(separator: "\n").dropFirst().first).split(separator: " ").map(String.init)
        XCTAssertEqual(Array(row.prefix(4)), ["\(job.id)", "train", "openai", "validating"], list.stdout)

        // Each fetch moves the fake job one state on: show sees it queued, then events see it start.
        let show = try CLI.run(["jobs", "show", "\(job.id)"], env: api)
        XCTAssertEqual(show.status, 0, show.stderr)
        XCTAssertTrue(show.stdout.hasPrefix("job \(job.id): train on openai, queued\n"), show.stdout)
        XCTAssertTrue(show.stdout.contains("remote id   \(remoteID)"), show.stdout)
        XCTAssertTrue(show.stdout.contains("Files validated, moving job to queued state"), show.stdout)
        XCTAssertTrue(show.stderr.contains("job \(job.id): fetched 3 new events from \(service.baseURL.absoluteString)"), show.stderr)

        let events = try CLI.run(["jobs", "events", "\(job.id)", "--json"], env: api)
        XCTAssertEqual(events.status, 0, events.stderr)
        let lines = try events.stdout.split(separator: "\n").map { try XCTUnwrap(try json(String($0)) as? [String: Any]) }
        XCTAssertEqual(lines.map { $0["externalID"] as? String }, service.eventIDs(of: remoteID), "every event once, oldest first")
        XCTAssertEqual((lines.last?["payload"] as? [String: Any])?["type"] as? String, "metrics")
        XCTAssertEqual(lines.last?["kind"] as? String, "metrics")
        XCTAssertEqual(try store().job(job.id)?.status, .running)
        XCTAssertEqual(try store().job(job.id)?.step, 1)
        XCTAssertEqual(try store().job(job.id)?.cursor, service.eventIDs(of: remoteID).last)

        // Without the key: the stored state, and a word on why it is not fresh.
        let offline = try CLI.run(["jobs", "show", "\(job.id)"], env: env)
        XCTAssertEqual(offline.status, 0, offline.stderr)
        XCTAssertTrue(offline.stdout.hasPrefix("job \(job.id): train on openai, running\n"), offline.stdout)
        XCTAssertTrue(offline.stderr.contains("OPENAI_API_KEY is not set"), offline.stderr)

        // With a wrong key: the stored state, then the server's error and a non-zero exit.
        var wrong = api
        wrong["OPENAI_API_KEY"] = "sk-wrong-jobs-key-9999"
        let refused = try CLI.run(["jobs", "events", "\(job.id)"], env: wrong)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertEqual(refused.stdout.split(separator: "\n").count, service.eventIDs(of: remoteID).count)
        XCTAssertTrue(refused.stderr.contains("could not fetch job \(job.id) from the API"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("Incorrect API key provided"), refused.stderr)

        let cancel = try CLI.run(["jobs", "cancel", "\(job.id)"], env: api)
        XCTAssertEqual(cancel.status, 0, cancel.stderr)
        XCTAssertTrue(cancel.stdout.contains("job \(job.id): cancelled \(remoteID) through the API (now cancelled)"), cancel.stdout)
        XCTAssertEqual(service.job(remoteID)?["status"] as? String, "cancelled")
        XCTAssertEqual(try store().job(job.id)?.status, .cancelled)
        let again = try CLI.run(["jobs", "cancel", "\(job.id)"], env: api)
        XCTAssertEqual(again.status, 0, "cancelling a cancelled job is not an error")
        XCTAssertTrue(again.stderr.contains("already cancelled"), again.stderr)
        let after = try CLI.run(["jobs", "events", "\(job.id)"], env: api)
        XCTAssertTrue(after.stdout.split(separator: "\n").last?.contains("Fine-tuning job cancelled") == true, after.stdout)

        for r in [made, list, show, events, offline, refused, cancel, again, after] {
            XCTAssertFalse((r.stdout + r.stderr).contains(key))
        }
    }

    /// Without a key, a job whose create request never went out ends at once: nothing remote will ever carry out
    /// a stored request (it used to stay cancel-requested for ever).
    func testCancellingAJobThatNeverReachedTheAPIEndsIt() throws {
        let store = try store()
        let spec = OpenAIJobSpec(model: "gpt-4o-mini-2024-07-18", data: "/tmp/data.jsonl", baseURL: "https://api.openai.com/v1")
        let job = try store.createJob(experimentID: nil, kind: "train", backend: "openai", config: try spec.json(), outputDir: nil)
        let r = try jobs("cancel", "\(job.id)")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("job \(job.id): had not started; marked cancelled"), r.stdout)
        XCTAssertEqual(try store.job(job.id)?.status, .cancelled)

        // One whose create request went out may exist remotely: that stays a request, for whatever can look it up.
        var sent = spec
        sent.submitted = true
        let maybe = try store.createJob(experimentID: nil, kind: "train", backend: "openai", config: try sent.json(), outputDir: nil)
        XCTAssertTrue(try jobs("cancel", "\(maybe.id)").stdout.contains("cancel requested"))
        XCTAssertEqual(try store.job(maybe.id)?.statusText, "cancel-requested")
    }

    /// `jobs checkpoints` and `jobs files --cleanup` on a job made by `hellotune finetune` and followed to its end.
    /// An OpenAI job the API pauses: `jobs list` and `jobs show` say so and what to do, `jobs resume` resumes it through
    /// the API, and `jobs cancel` cancels it while paused. running → paused → running → succeeded, against the fake.
    func testAPausedOpenAIJobIsShownResumedAndCancelled() throws {
        let key = "sk-jobs-paused-key-5e1f"
        let service = try FakeOpenAIService(apiKey: key)
        defer { service.stop() }
        service.pausedAtStep = 1
        let api = CLI.openAIEnvironment(key: key, baseURL: service.baseURL, home: home)
        let data = CLI.trelisDataset("akewo.jsonl").path
        for _ in 0..<2 {
            let made = try CLI.run(["finetune", "--data", data, "--model", "gpt-4o-mini-2024-07-18", "--yes"], env: api, timeout: 60)
            XCTAssertEqual(made.status, 0, made.stderr)
        }
        let jobs = try store().jobs()
        XCTAssertEqual(jobs.count, 2)
        let (first, second) = (jobs[0], jobs[1])
        let remoteID = try XCTUnwrap(first.externalID)
        // queued, running at step 1, then paused.
        for _ in 0..<3 { _ = try CLI.run(["jobs", "show", "\(first.id)"], env: api) }
        let show = try CLI.run(["jobs", "show", "\(first.id)"], env: api)
        XCTAssertEqual(show.status, 0, show.stderr)
        XCTAssertTrue(show.stdout.hasPrefix("job \(first.id): train on openai, paused\n"), show.stdout)
        XCTAssertTrue(show.stdout.contains("paused      the API paused \(remoteID) (hellotune job \(first.id)); it waits there"), show.stdout)
        XCTAssertTrue(show.stdout.contains("`hellotune jobs resume \(first.id)` resumes it, `hellotune jobs cancel \(first.id)` cancels it"),
                      show.stdout)
        let list = try CLI.run(["jobs", "list"], env: api)
        let row = try XCTUnwrap(list.stdout.split(separator: "\n").first { $0.hasPrefix("\(first.id) ") })
        XCTAssertEqual(row.split(separator: " ").prefix(4).map(String.init), ["\(first.id)", "train", "openai", "paused"], list.stdout)

        let resumed = try CLI.run(["jobs", "resume", "\(first.id)"], env: api)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(resumed.stdout, "job \(first.id): resumed \(remoteID) through the API (now running); follow it with `hellotune jobs show \(first.id)`\n")
        XCTAssertEqual(service.requests.filter { $0.method == "POST" && $0.path == "/v1/fine_tuning/jobs/\(remoteID)/resume" }.count, 1)
        let again = try CLI.run(["jobs", "resume", "\(first.id)"], env: api)
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("job \(first.id) is running, not paused: there is nothing to resume"), again.stderr)
        for _ in 0..<4 { _ = try CLI.run(["jobs", "show", "\(first.id)"], env: api) }
        XCTAssertEqual(try store().job(first.id)?.status, .succeeded)

        // The second job pauses too, and is cancelled while paused.
        for _ in 0..<4 { _ = try CLI.run(["jobs", "show", "\(second.id)"], env: api) }
        XCTAssertEqual(try store().job(second.id)?.status, .paused)
        let cancel = try CLI.run(["jobs", "cancel", "\(second.id)"], env: api)
        XCTAssertEqual(cancel.status, 0, cancel.stderr)
        XCTAssertEqual(try store().job(second.id)?.status, .cancelled)
        XCTAssertEqual(service.job(try XCTUnwrap(second.externalID))?["status"] as? String, "cancelled")
    }

    func testCheckpointsAndResultFilesOfAFinishedOpenAIJob() throws {
        let key = "sk-jobs-files-key-77aa"
        let service = try FakeOpenAIService(apiKey: key)
        defer { service.stop() }
        let api = CLI.openAIEnvironment(key: key, baseURL: service.baseURL, home: home)
        let made = try CLI.run(["finetune", "--data", CLI.trelisDataset("akewo.jsonl").path, "--model", "gpt-4o-mini-2024-07-18",
                                "--yes"], env: api, timeout: 60)
        XCTAssertEqual(made.status, 0, made.stderr)
        let job = try XCTUnwrap(try store().jobs().first)
        let early = try CLI.run(["jobs", "files", "\(job.id)", "--cleanup"], env: api)
        XCTAssertNotEqual(early.status, 0)
        XCTAssertTrue(early.stderr.contains("the API still needs its uploaded files"), early.stderr)
        for _ in 0..<6 { _ = try CLI.run(["jobs", "show", "\(job.id)"], env: api) }
        XCTAssertEqual(try store().job(job.id)?.status, .succeeded)

        let checkpoints = try CLI.run(["jobs", "checkpoints", "\(job.id)"], env: api)
        XCTAssertEqual(checkpoints.status, 0, checkpoints.stderr)
        XCTAssertEqual(checkpoints.stdout.split(separator: "\n").count, 3, checkpoints.stdout)
        XCTAssertTrue(checkpoints.stdout.hasPrefix("step 3  ft:gpt-4o-mini-2024-07-18:"), checkpoints.stdout)

        let files = try CLI.run(["jobs", "files", "\(job.id)", "--cleanup"], env: api)
        XCTAssertEqual(files.status, 0, files.stderr)
        let path = try XCTUnwrap(files.stdout.split(separator: "\n").first.map(String.init))
        XCTAssertTrue(path.hasPrefix(home.appendingPathComponent("jobs/\(job.id)/result-").path), path)
        XCTAssertFalse(path.contains("\u{1b}"), "the server's escape never reaches the name")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "step,train_loss\n1,2.0\n")
        XCTAssertEqual(service.deletedFileIDs.count, 1, files.stderr)
        XCTAssertTrue(files.stderr.contains("deleted \(service.deletedFileIDs[0]) from the API"), files.stderr)
    }

    /// `jobs list` and `--json` read the store a page at a time: 100,000 jobs (inserted through the Store API)
    /// come out whole, in order, and the JSON is the same array a one-shot serialisation gives. No timing asserts.
    func testListPagesThroughAHundredThousandJobs() throws {
        let store = try store()
        let count = 100_000
        for i in 0..<count {
            try store.createJob(experimentID: nil, kind: i % 2 == 0 ? "train" : "evaluate", backend: "local", config: "{}",
                                outputDir: nil)
        }
        let json = try CLI.run(["jobs", "list", "--json"], env: env, timeout: 600)
        XCTAssertEqual(json.status, 0, json.stderr)
        let list = try XCTUnwrap(try self.json(json.stdout) as? [[String: Any]])
        XCTAssertEqual(list.count, count)
        XCTAssertEqual(list.first?["id"] as? Int, 1)
        XCTAssertEqual(list.last?["id"] as? Int, count)
        XCTAssertEqual(json.stdout.filter { $0 == "\n" }.count, 1, "one line, as before")

        let table = try CLI.run(["jobs", "list"], env: env, timeout: 600)
        XCTAssertEqual(table.status, 0, table.stderr)
        let lines = table.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, count + 1)
        let statusColumn = try XCTUnwrap(lines[0].range(of: "STATUS")).lowerBound.utf16Offset(in: lines[0])
        XCTAssertEqual(lines.last.map { $0.prefix(6) }, "100000")
        XCTAssertEqual(lines[1].utf16.count > statusColumn ? String(lines[1].dropFirst(statusColumn).prefix(6)) : "", "queued",
                       "columns are as wide as the widest row anywhere: \(lines[1])")
    }

    func testCancelFinishedJobFails() throws {
        let store = try store()
        let job = try store.createJob(experimentID: nil, kind: "evaluate", backend: "local", config: "{}", outputDir: nil)
        try store.updateJob(job.id) { $0.status = .succeeded }
        let r = try jobs("cancel", "\(job.id)")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("job \(job.id) already succeeded; nothing to cancel"), r.stderr)
        XCTAssertEqual(try store.job(job.id)?.status, .succeeded)
    }

    /// An interrupted local training job resumes in a detached worker that trains it to the end; what cannot
    /// resume is refused with the reason, and nothing is started.
    func testResumeStartsTheWorkerAndRefusesWhatCannotResume() throws {
        try TinyChatModel.install(in: home, examples: 4)
        let store = try store()
        var options = TrainingOptions()
        options.epochs = 1
        options.lora = LoRAConfig(rank: 4, alpha: 8)
        let out = home.appendingPathComponent("runs/resume")
        let spec = TrainingJobSpec(model: TinyChatModel.modelPath(in: home), data: TinyChatModel.dataPath(in: home),
                                   outputDirectory: out.path, options: options)
        let job = try store.createJob(experimentID: nil, kind: "train", backend: "local", config: spec.json(), outputDir: out.path)
        try store.updateJob(job.id) { $0.status = .interrupted }

        let r = try jobs("resume", "\(job.id)", "--json")
        XCTAssertEqual(r.status, 0, r.stderr)
        let started = try XCTUnwrap(try json(r.stdout) as? [String: Any])
        XCTAssertEqual(started["job"] as? Int, Int(job.id))
        XCTAssertEqual(started["from_checkpoint"] as? Bool, false)
        XCTAssertEqual(started["log"] as? String, out.appendingPathComponent("worker.log").path)
        XCTAssertNotNil(started["pid"] as? Int)
        let deadline = Date().addingTimeInterval(120)
        while try store.job(job.id)?.status != .succeeded, Date() < deadline { usleep(50_000) }
        XCTAssertEqual(try store.job(job.id)?.status, .succeeded)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(AdapterIO.peftWeightsFile).path))

        let remote = try store.createJob(experimentID: nil, kind: "train", backend: "openai", config: "{}", outputDir: nil)
        let running = try seedTrainingJob(store)
        for (id, message) in [(job.id, "job \(job.id) has finished; nothing to resume"),
                              (remote.id, "OPENAI_API_KEY is not set"),
                              (running.id, "job \(running.id) is still running (worker pid \(getpid()))")] {
            let before = try store.job(id)
            let refused = try jobs("resume", "\(id)")
            XCTAssertNotEqual(refused.status, 0, "job \(id)")
            XCTAssertTrue(refused.stderr.contains(message), refused.stderr)
            XCTAssertEqual(try store.job(id), before)
        }
    }

    func testListMarksJobsWithADeadWorkerInterrupted() throws {
        let store = try store()
        let alive = try seedTrainingJob(store)
        let crashed = try seedTrainingJob(store)
        let dead = try deadPID()
        try store.updateJob(crashed.id) { $0.pid = dead }

        let r = try jobs("list")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("job \(crashed.id): its worker (pid \(dead)) is gone; marked interrupted"), r.stderr)
        let rows = r.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(rows.map { $0[3] }, ["running", "interrupted"], r.stdout)
        XCTAssertEqual(try store.job(crashed.id)?.status, .interrupted)
        XCTAssertEqual(try store.job(alive.id)?.status, .running)
    }

    /// `hellotune finetune` prints the remote id and the Jobs screen the run's name: each names the job as its number does.
    func testJobsAreNamedByNumberRemoteIDOrRunName() throws {
        let store = try store()
        let experiment = try store.createExperiment(name: "akewo-solo", config: "{}")
        var local = try seedTrainingJob(store, experimentID: experiment.id)
        local = try store.updateJob(local.id) { $0.outputDir = self.home.appendingPathComponent("runs/akewo-solo-1-AKEWO-s1").path }
        let remote = try store.createJob(experimentID: nil, kind: "train", backend: "openai", config: "{}", outputDir: nil)
        try store.updateJob(remote.id) { $0.externalID = "ftjob-abc123" }
        try store.appendEvents(jobID: local.id, [(kind: "step", payload: #"{"event":"step","step":3,"total_steps":9,"epoch":1,"loss":2.5,"tok_s":100,"eta_s":5}"#, externalID: nil)])
        try store.appendEvents(jobID: remote.id, [(kind: "metrics", payload: #"{"created_at":1700000000,"data":{"step":4,"total_steps":30,"train_loss":1.75},"id":"ftevent-1","level":"info","message":"Step 4/30: training loss=1.75","object":"fine_tuning.job.event","type":"metrics"}"#, externalID: "ftevent-1")])

        for name in ["\(local.id)", "akewo-solo-1-AKEWO-s1", "akewo-solo"] {
            let r = try jobs("show", name)
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            XCTAssertTrue(r.stdout.hasPrefix("job \(local.id): train on local"), "\(name): \(r.stdout)")
            XCTAssertTrue(r.stdout.contains("info   step 3/9  loss 2.5000"), r.stdout)
            XCTAssertTrue(r.stdout.contains("epoch 1, 100 tok/s"), r.stdout)
        }
        let byRemote = try jobs("events", "ftjob-abc123")
        XCTAssertEqual(byRemote.status, 0, byRemote.stderr)
        XCTAssertTrue(byRemote.stdout.contains("  info   step 4/30  loss 1.7500"), byRemote.stdout)
        XCTAssertTrue(byRemote.stdout.hasSuffix("Step 4/30: training loss=1.75\n"), byRemote.stdout)
        XCTAssertFalse(byRemote.stdout.contains("{"), "no raw JSON without --json: \(byRemote.stdout)")
        let raw = try jobs("events", "ftjob-abc123", "--json")
        let line = try XCTUnwrap(try json(raw.stdout) as? [String: Any])
        XCTAssertEqual((line["payload"] as? [String: Any])?["message"] as? String, "Step 4/30: training loss=1.75")

        let cancel = try jobs("cancel", "ftjob-abc123")
        XCTAssertEqual(cancel.status, 0, cancel.stderr)
        XCTAssertTrue(cancel.stdout.contains("job \(remote.id): cancel requested"), cancel.stdout)
        let resume = try jobs("resume", "ftjob-abc123")
        XCTAssertNotEqual(resume.status, 0)
        XCTAssertFalse(resume.stderr.contains("invalid for"), resume.stderr)

        let missing = try jobs("show", "ftjob-nope")
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("no job is named 'ftjob-nope': give its number, its remote id (ftjob-…) or its "
            + "run folder's name"), missing.stderr)
        _ = try seedTrainingJob(store, experimentID: experiment.id)
        let ambiguous = try jobs("show", "akewo-solo")
        XCTAssertNotEqual(ambiguous.status, 0)
        XCTAssertTrue(ambiguous.stderr.contains("'akewo-solo' names 2 jobs"), ambiguous.stderr)
    }

    func testUnknownJob() throws {
        _ = try store()
        for args in [["show", "999"], ["events", "999"], ["cancel", "999"], ["resume", "999"]] {
            let r = try CLI.run(["jobs"] + args, env: env)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(r.stderr.contains("no job 999 (see `hellotune jobs list`)"), "\(args): \(r.stderr)")
        }
    }

    func testStoreFromANewerHellotuneIsRefusedUntouched() throws {
        let store = try store()
        try seedTrainingJob(store)
        try store.close()
        try stampSchemaVersion(42, at: dbPath)
        let before = try Data(contentsOf: URL(fileURLWithPath: dbPath))
        let modified = try FileManager.default.attributesOfItem(atPath: dbPath)[.modificationDate] as? Date

        let r = try jobs("list")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("\(dbPath) was written by a newer hellotune (schema 42); this one reads up to "
            + "\(Store.schemaVersion). Upgrade hellotune, or point HELLOTUNE_HOME elsewhere."), r.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dbPath)), before, "the newer file must not be modified")
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: dbPath)[.modificationDate] as? Date, modified)
    }

    /// Several hellotune processes start on a fresh home at once, then write while this process writes too.
    func testProcessesWritingAtOnceNeverFailLocked() throws {
        let env = self.env
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 3) { _ in
            results.add(Result { try CLI.run(["jobs", "list"], env: env) })
        }
        for r in results.take() {
            let r = try r.get()
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(r.stdout, "no jobs yet\n")
        }

        let store = try store()
        let job = try seedTrainingJob(store)
        let remote = try (0..<9).map { _ in
            try store.createJob(experimentID: nil, kind: "train", backend: "openai", config: "{}", outputDir: nil).id
        }
        let writing = Flag()
        let writerErrors = Collected()
        let writer = Thread {
            var i = 0
            while !writing.isDone {
                do {
                    try store.appendEvents(jobID: job.id, [(kind: "metrics", payload: #"{"i":\#(i)}"#, externalID: nil)])
                    try store.updateJob(job.id) { $0.step = i }
                } catch {
                    writerErrors.add("\(error)")
                }
                i += 1
            }
        }
        writer.start()
        DispatchQueue.concurrentPerform(iterations: 3) { lane in
            for id in remote.enumerated().filter({ $0.offset % 3 == lane }).map(\.element) {
                results.add(Result { try CLI.run(["jobs", "cancel", "\(id)"], env: env) })
            }
        }
        writing.finish()
        while !writer.isFinished { Thread.sleep(forTimeInterval: 0.01) }

        for r in results.take() {
            let r = try r.get()
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertFalse(r.stderr.contains("locked"), r.stderr)
        }
        XCTAssertEqual(writerErrors.take(), [])
        XCTAssertEqual(try remote.map { try store.job($0)?.statusText }, Array(repeating: "cancel-requested", count: 9))
        XCTAssertGreaterThan(try store.events(jobID: job.id).count, 0)
        XCTAssertEqual(try store.integrityCheck(), "ok")
    }
}

/// Results gathered from several threads.
private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Result<CLI.Result, Error>] = []
    func add(_ item: Result<CLI.Result, Error>) { lock.withLock { items.append(item) } }
    func take() -> [Result<CLI.Result, Error>] { lock.withLock { defer { items = [] }; return items } }
}

private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ item: String) { lock.withLock { items.append(item) } }
    func take() -> [String] { lock.withLock { items } }
}

private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    var isDone: Bool { lock.withLock { done } }
    func finish() { lock.withLock { done = true } }
}
