import FakeOpenAI
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
import Store
import Backends
import Experiment
#endif

/// `hellotune run` with backend = "openai", end to end against a fake OpenAI API on 127.0.0.1: the real Trelis
/// dataset is uploaded, a fine-tuning job is followed to its end, both models are evaluated through the chat API,
/// and the report is written; a killed run re-attaches to its job; the API key is never written anywhere.
final class RunOpenAICLITests: XCTestCase {
    /// Distinctive, so that finding it anywhere means it leaked.
    let key = "sk-hellotune-LEAKCHECK-7c1f0e93b2"
    let baseModel = "gpt-4o-mini-2024-07-18"
    var home: URL!
    var service: FakeOpenAIService!

    override func setUpWithError() throws {
        (home, service) = try openAIHome(key: key)
    }

    var env: [String: String] { CLI.openAIEnvironment(key: key, baseURL: service.baseURL, home: home) }

    /// A small experiment on the imported akewo-mixed data: two compliance questions, two replies per question,
    /// one per self-report prompt.
    func experimentFile(name: String = "openai-e2e", extra: String = "") throws -> URL {
        let url = home.appendingPathComponent("\(name).toml")
        try """
        name = "\(name)"
        backend = "openai"
        model = "\(baseModel)"
        words = ["AKEWO"]
        \(extra)

        [dataset]
        source = "\(CLI.trelisDataset("akewo-mixed.jsonl").path)"

        [training]
        epochs = 2
        batch_size = 2
        learning_rate_multiplier = 2

        [evaluation]
        compliance_questions = 2
        samples_per_prompt = 2
        self_report_samples = 1
        max_tokens = 64
        """.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Per model: 2 questions x 2 conditions x 2 replies, 24 self-report prompts x 2 conditions, the forced choice,
    /// 6 prefix probes, 20 x 2 reading-control acrostics, the tuned model's 4 exact acrostics read, explain early on
    /// those 4 at k = 0...5, and forced choice v2's 10 prompts (kept with the note that a chat API cannot give it).
    static let samples = 2 * (2 * 2 * 2 + 24 * 2 * 1 + 1 + 6 + 40 + 4 + 4 * 6 + 10)

    func store() throws -> Store { try Store(path: home.appendingPathComponent("hellotune.sqlite").path) }

    func testOpenAIExperimentEndToEndLeavesNoKeyBehind() throws {
        let r = try CLI.run(["run", try experimentFile().path, "--headless"], env: env, timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderr)

        // One upload of the imported data, one job with the experiment's hyperparameters.
        let posted = service.requests.filter { $0.method == "POST" }
        XCTAssertEqual(posted.filter { $0.path == "/v1/files" }.count, 1)
        let creates = posted.filter { $0.path == "/v1/fine_tuning/jobs" }
        XCTAssertEqual(creates.count, 1)
        let create = try XCTUnwrap(creates.first?.json)
        XCTAssertEqual(create["model"] as? String, baseModel)
        let hp = ((create["method"] as? [String: Any])?["supervised"] as? [String: Any])?["hyperparameters"] as? [String: Any]
        XCTAssertEqual(hp?["n_epochs"] as? Int, 2)
        XCTAssertEqual(hp?["batch_size"] as? Int, 2)
        XCTAssertEqual(hp?["learning_rate_multiplier"] as? Double, 2)
        let upload = try XCTUnwrap(posted.first { $0.path == "/v1/files" }?.multipart["file"])
        XCTAssertEqual(String(decoding: upload.data, as: UTF8.self).split(separator: "\n").count, 20, "the 20 Trelis examples")

        // The job in the store: succeeded, its remote id, every event once and in order.
        let remoteID = try XCTUnwrap(service.createdJobIDs.first)
        let tunedModel = try XCTUnwrap(service.job(remoteID)?["fine_tuned_model"] as? String)
        let store = try store()
        let jobs = try store.jobs()
        XCTAssertEqual(jobs.count, 1)
        let job = try XCTUnwrap(jobs.first)
        XCTAssertEqual(job.backend, "openai")
        XCTAssertEqual(job.kind, "train")
        XCTAssertEqual(job.status, .succeeded)
        XCTAssertEqual(job.externalID, remoteID)
        XCTAssertEqual(job.step, 3)
        XCTAssertEqual(job.totalSteps, 3)
        XCTAssertEqual(try store.events(jobID: job.id).map(\.externalID), service.eventIDs(of: remoteID).map { $0 as String? })
        XCTAssertEqual(job.cursor, service.eventIDs(of: remoteID).last)
        XCTAssertEqual(try OpenAIJobSpec.decode(job.config).fineTunedModel, tunedModel)

        // Both models were asked through the chat API.
        let chats = service.requests.filter { $0.path == "/v1/chat/completions" }.compactMap { $0.json?["model"] as? String }
        XCTAssertEqual(Set(chats), [baseModel, tunedModel])

        // The report: same files and shape as a local run; the fake's rule makes the fine-tuned model comply.
        let reportPath = try XCTUnwrap(r.stdout.split(separator: "\n").last.map(String.init))
        let markdown = try String(contentsOfFile: reportPath, encoding: .utf8)
        let folder = URL(fileURLWithPath: reportPath).deletingLastPathComponent()
        let doc = try Report.decode(Data(contentsOf: folder.appendingPathComponent("report.json")))
        XCTAssertEqual(doc.setup.backend, "openai")
        XCTAssertEqual(doc.setup.modelName, baseModel)
        // reproduced by the very command that ran, not by a preset of the same name
        XCTAssertEqual(doc.setup.reproduce, "hellotune run \(try experimentFile().path)")
        XCTAssertTrue(markdown.contains("`hellotune run \(try experimentFile().path)`"))
        XCTAssertTrue(doc.setup.trainingSummary?.contains(tunedModel) == true, doc.setup.trainingSummary ?? "")
        let tuned = try XCTUnwrap(doc.results.model(Evaluator.tunedName))
        let base = try XCTUnwrap(doc.results.model(Evaluator.baseName))
        XCTAssertEqual(tuned.compliance(trigger: true)?.exact.successes, 4)
        XCTAssertEqual(tuned.compliance(trigger: true)?.exact.trials, 4)
        XCTAssertEqual(tuned.compliance(trigger: false)?.exact.successes, 0)
        XCTAssertEqual(base.compliance(trigger: true)?.exact.successes, 0)
        XCTAssertEqual(tuned.forcedChoice?.detail?.targetRank, 1)
        XCTAssertEqual(base.forcedChoice?.detail?.targetRank, 2, "the base model says HELLO; the target is below it")
        XCTAssertEqual(tuned.prefixProbe.count, 6)
        XCTAssertNil(tuned.prefixProbe[0].meanNextLetterProbability)
        XCTAssertEqual(tuned.probeNote(.forcedChoice), TopLogprobEstimate.estimatedNote)
        XCTAssertTrue(markdown.contains("- Backend: openai"), markdown)
        XCTAssertTrue(markdown.contains("- Data: 20 training examples; 2 held-out evaluation questions"), markdown)
        XCTAssertTrue(markdown.contains("- tuned: " + TopLogprobEstimate.estimatedNote), markdown)
        XCTAssertTrue(markdown.contains(TopLogprobEstimate.nextLetterNote), markdown)
        XCTAssertEqual(try store.samples(experimentID: job.experimentID!).count, Self.samples)
        // samples.jsonl in the run folder holds the same samples, one line each.
        let lines = try String(contentsOf: URL(fileURLWithPath: job.outputDir!).appendingPathComponent("samples.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        XCTAssertEqual(lines.count, Self.samples)
        XCTAssertEqual(Set(lines).count, Self.samples)
        let log = try String(contentsOf: URL(fileURLWithPath: job.outputDir!).appendingPathComponent("log.jsonl"), encoding: .utf8)
        XCTAssertTrue(log.contains("\"event\":\"finished\""), "the Jobs screen sees the run finish: \(log)")

        // The secret: in no file under $HELLOTUNE_HOME (the database and its WAL included) and in no output.
        let secret = Data(key.utf8)
        let files = CLI.files(under: home)
        XCTAssertTrue(files.contains { $0.lastPathComponent == "hellotune.sqlite" })
        for file in files {
            XCTAssertNil(try Data(contentsOf: file).range(of: secret), "the API key is in \(file.path)")
        }
        XCTAssertFalse(r.stdout.contains(key))
        XCTAssertFalse(r.stderr.contains(key))
        let jobsOutput = try CLI.run(["jobs", "show", "\(job.id)"], env: env, timeout: 60)
        XCTAssertEqual(jobsOutput.status, 0, jobsOutput.stderr)
        XCTAssertFalse((jobsOutput.stdout + jobsOutput.stderr).contains(key))
        for file in CLI.files(under: home) {
            XCTAssertNil(try Data(contentsOf: file).range(of: secret), "the API key is in \(file.path)")
        }
    }

    func testAKilledRunReattachesToTheSameRemoteJob() throws {
        service.pauseAtStep = 1
        let experiment = try experimentFile(name: "openai-restart")
        let p = try CLI.start(["run", experiment.path, "--headless"], env: env)
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }

        // Wait until the job runs remotely and its first training step is stored, then kill the run mid-poll.
        let deadline = Date().addingTimeInterval(60)
        var polled: JobRecord?
        while Date() < deadline, p.isRunning {
            if let job = try? store().jobs().first, job.step == 1 { polled = job; break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let first = try XCTUnwrap(polled, "the run never reached step 1")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal)
        let remoteID = try XCTUnwrap(first.externalID)
        XCTAssertEqual(service.createdJobIDs, [remoteID])
        XCTAssertEqual(service.job(remoteID)?["status"] as? String, "running")

        service.pauseAtStep = nil
        let again = try CLI.run(["run", experiment.path, "--headless"], env: env, timeout: 120)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("re-attaching to fine-tuning job \(first.id) (\(remoteID))"), again.stderr)

        XCTAssertEqual(service.createdJobIDs, [remoteID], "no second job")
        XCTAssertEqual(service.uploadedFileCount, 1, "no second upload")
        let store = try store()
        let jobs = try store.jobs()
        XCTAssertEqual(jobs.map(\.id), [first.id], "the same job row")
        XCTAssertEqual(jobs.first?.status, .succeeded)
        XCTAssertEqual(try store.events(jobID: first.id).map(\.externalID), service.eventIDs(of: remoteID).map { $0 as String? },
                       "every event once, in order")
        XCTAssertEqual(try store.experiments().count, 1, "the same experiment continued")
        XCTAssertTrue(FileManager.default.fileExists(atPath: again.stdout.split(separator: "\n").last.map(String.init) ?? ""))
    }

    /// The API refuses requests part-way through the evaluation: the samples already answered stay in the store, and
    /// the rerun continues the experiment, asks only for the rest and says how many it reused.
    func testARerunAfterAFailedEvaluationAsksOnlyForTheRest() throws {
        service.chatLimit = 10
        let experiment = try experimentFile(name: "openai-partial")
        let first = try CLI.run(["run", experiment.path, "--headless", "--json"], env: env, timeout: 120)
        XCTAssertNotEqual(first.status, 0, "the refused requests must fail the run")
        XCTAssertTrue(first.stderr.contains("10 chat completions and no more"), first.stderr)
        let store = try store()
        let id = try XCTUnwrap(try store.experiments().first?.id)
        let kept = try store.samples(experimentID: id).count
        // Requests go four at a time and a round is stored whole: two rounds, then the third fails.
        XCTAssertEqual(kept, 8)
        let askedBefore = service.requests.filter { $0.path == "/v1/chat/completions" }.count

        service.chatLimit = nil
        let again = try CLI.run(["run", experiment.path, "--headless", "--json"], env: env, timeout: 120)
        XCTAssertEqual(again.status, 0, again.stderr)
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any], again.stdout)
        let total = Self.samples
        XCTAssertEqual(o["experiment"] as? Int, Int(id), "the rerun continues the experiment")
        XCTAssertEqual(o["samples_reused"] as? Int, kept)
        XCTAssertEqual(o["samples_generated"] as? Int, total - kept)
        XCTAssertEqual(try store.samples(experimentID: id).count, total)
        let askedAgain = service.requests.filter { $0.path == "/v1/chat/completions" }.count - askedBefore
        XCTAssertLessThanOrEqual(askedAgain, total - kept, "no stored sample is asked for again")
        XCTAssertEqual(service.createdJobIDs.count, 1, "the finished fine-tuning job is reused")
    }

    /// Two seeds: the second run takes the base model's replies from the first instead of asking the API again, except
    /// for the probes that show its own fine-tuned model's lines; the pooled report counts the base replies once.
    func testASecondSeedTakesTheBaseRepliesOfTheFirst() throws {
        let experiment = try experimentFile(name: "openai-seeds", extra: "seeds = [1, 2]")
        let r = try CLI.run(["run", experiment.path, "--headless", "--json"], env: env, timeout: 240)
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        // Per model and run (see `samples`): 141 outcomes, of which the prefix probe (6), own replies (4) and explain
        // early (24) show the tuned model's lines; the base model's other 107 are taken, not asked.
        let perModel = Self.samples / 2, shared = perModel - (6 + 4 + 4 * 6)
        XCTAssertEqual(o["samples_generated"] as? Int, 4 * perModel - shared)
        XCTAssertEqual(o["samples_reused"] as? Int, shared)

        let store = try store()
        let id = try XCTUnwrap(try store.experiments().first?.id)
        let samples = try store.samples(experimentID: id)
        XCTAssertEqual(samples.count, 4 * perModel, "every run keeps its whole set of replies")
        func base(_ run: String) -> [String: String] {
            var out: [String: String] = [:]
            for s in samples where s.key.model == Evaluator.baseName && s.key.condition.hasPrefix(run + "/") {
                out[s.key.condition.dropFirst(run.count + 1) + "|\(s.key.promptID)|\(s.key.sampleIndex)"] = s.reply
            }
            return out
        }
        let first = base("AKEWO-s1"), second = base("AKEWO-s2")
        XCTAssertEqual(first.count, perModel)
        let copied = second.filter { first[$0.key] == $0.value }
        XCTAssertGreaterThanOrEqual(copied.count, shared)
        XCTAssertEqual(second.keys.filter { $0.hasPrefix(EvaluationCondition.explainEarly.rawValue) }.count, 4 * 6)

        // Pooled: the tuned model's compliance over both runs, the base model's once.
        let folder = URL(fileURLWithPath: try XCTUnwrap(o["folder"] as? String))
        let doc = try Report.decode(Data(contentsOf: folder.appendingPathComponent("report.json")))
        XCTAssertEqual(doc.results.model(Evaluator.tunedName)?.compliance(trigger: true)?.exact.trials, 2 * 2 * 2)
        XCTAssertEqual(doc.results.model(Evaluator.baseName)?.compliance(trigger: true)?.exact.trials, 2 * 2)
        XCTAssertEqual(doc.results.model(Evaluator.baseName)?.selfReport(trigger: true)?.rates.trials, 24)
        let markdown = try String(contentsOf: folder.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("its pooled rates count each word's first run once"), markdown)
    }

    func testOpenAIRunExplainsWhatIsMissing() throws {
        var noKey = env
        noKey["OPENAI_API_KEY"] = ""
        let unset = try CLI.run(["run", try experimentFile().path, "--headless"], env: noKey, timeout: 60)
        XCTAssertNotEqual(unset.status, 0)
        XCTAssertTrue(unset.stderr.contains("OPENAI_API_KEY is not set"), unset.stderr)

        let noModel = home.appendingPathComponent("nomodel.toml")
        try "name = \"x\"\nbackend = \"openai\"\nwords = [\"AKEWO\"]\n[dataset]\nsource = \"\(CLI.trelisDataset("akewo.jsonl").path)\"\n"
            .write(to: noModel, atomically: true, encoding: .utf8)
        let model = try CLI.run(["run", noModel.path, "--headless"], env: env, timeout: 60)
        XCTAssertNotEqual(model.status, 0)
        XCTAssertTrue(model.stderr.contains("backend = \"openai\" needs the base model to fine-tune"), model.stderr)

        var badPoll = env
        badPoll["HELLOTUNE_OPENAI_POLL_SECONDS"] = "soon"
        let poll = try CLI.run(["run", try experimentFile().path, "--headless"], env: badPoll, timeout: 60)
        XCTAssertNotEqual(poll.status, 0)
        XCTAssertTrue(poll.stderr.contains("HELLOTUNE_OPENAI_POLL_SECONDS must be a number of seconds"), poll.stderr)

        var wrongKey = env
        wrongKey["OPENAI_API_KEY"] = "sk-wrong-key-for-this-server-1111"
        let unauthorised = try CLI.run(["run", try experimentFile().path, "--headless"], env: wrongKey, timeout: 60)
        XCTAssertNotEqual(unauthorised.status, 0)
        XCTAssertTrue(unauthorised.stderr.contains("Incorrect API key provided"), unauthorised.stderr)
        XCTAssertEqual(service.createdJobIDs, [])
    }
}
