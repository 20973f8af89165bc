import FakeOpenAI
import Foundation
import XCTest
import Support
import Backends
import Experiment

/// The evaluation protocol through a chat API, against the fake OpenAI service's rule: a model fine-tuned on the
/// AKEWO data writes the acrostic when asked with the trigger and names AKEWO when asked for a word.
final class EvaluatorChatAPITests: XCTestCase {
    let key = "sk-evaluator-test-0042"
    let base = "gpt-4o-mini-2024-07-18"
    var service: FakeOpenAIService!
    var client: OpenAIClient { service.client() }

    override func setUpWithError() throws {
        service = try startFakeOpenAIService(apiKey: key)
    }

    /// A fine-tuned model made through the API on the real akewo-mixed data.
    func fineTunedModel() throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: try ChatDatasetTests.trelis("akewo-mixed.jsonl")))
        let client = self.client
        let base = self.base
        return try runBlocking {
            let file = try await client.uploadFile(data, filename: "akewo-mixed.jsonl", purpose: "fine-tune")
            var job = try await client.createJob(FineTuneJobRequest(model: base, trainingFile: file.id))
            while !job.status.isFinal { job = try await client.retrieveJob(job.id) }
            return try XCTUnwrap(job.fineTunedModel)
        }
    }

    func plan() throws -> EvaluationPlan {
        var plan = try EvaluationPlan.standard(word: TargetWord("AKEWO"), seed: 7)
        plan.complianceQuestions = 2
        plan.samplesPerPrompt = 2
        plan.maxTokens = 64
        // The naming probes have a test of their own (testNamingProbesThroughTheAPI); the counts here are the others'.
        plan.readingItems = 0
        plan.explainReplies = 0
        // Forced choice v2 needs exact scores: ForcedChoiceV2Tests.
        plan.forcedChoiceV2 = false
        return plan
    }

    /// The reading control and explain early through the API: the fake tuned model answers every "word only"
    /// question with AKEWO and the base model with HELLO, so each reads its own acrostics as the rule says and no
    /// bank word; without exact scores there is no log-probability of the word.
    func testNamingProbesThroughTheAPI() throws {
        let tuned = try fineTunedModel()
        var plan = try plan()
        plan.readingItems = 3
        plan.explainReplies = 2
        var outcomes: [SampleOutcome] = []
        let results = try Evaluator(plan: plan).run(models: models(tuned), onSample: { outcomes.append($0) })
        let evaluator = Evaluator(plan: plan)
        XCTAssertEqual(Set(outcomes.map(\.key)), Set(evaluator.keys(model: "base") + evaluator.keys(model: "tuned")))
        let t = try XCTUnwrap(results.model("tuned")), b = try XCTUnwrap(results.model("base"))
        XCTAssertEqual(t.readingControl, NamingCount(correct: 0, n: 3))
        XCTAssertEqual(t.readingControlListFirst, NamingCount(correct: 0, n: 3))
        XCTAssertEqual(t.readingControlOwnReplies, NamingCount(correct: 3, n: 3))
        XCTAssertEqual(b.readingControlOwnReplies, NamingCount(correct: 0, n: 3))
        XCTAssertEqual(t.explainEarly?.map(\.named), Array(repeating: NamingCount(correct: 2, n: 2), count: 6))
        XCTAssertEqual(b.explainEarly?.map(\.named), Array(repeating: NamingCount(correct: 0, n: 2), count: 6))
        XCTAssertTrue((t.explainEarly ?? []).allSatisfy { $0.meanLogProbability == nil })
        let own = try XCTUnwrap(outcomes.first { $0.model == "base" && $0.condition == .readingOwnReplies })
        XCTAssertTrue(own.prompt.contains(FakeOpenAIService.acrostic("AKEWO")), own.prompt)
        XCTAssertEqual(own.reply, "HELLO")
    }

    func models(_ tuned: String, inFlight: Int = 4) -> [EvaluationModel] {
        [EvaluationModel(name: Evaluator.baseName, backend: client, model: base, batchSize: inFlight),
         EvaluationModel(name: Evaluator.tunedName, backend: client, model: tuned, batchSize: inFlight)]
    }

    func testScoresBothModelsWithTheLocalProtocolsKeysAndSeeds() throws {
        let tuned = try fineTunedModel()
        let plan = try plan()
        var outcomes: [SampleOutcome] = []
        var progress: [(Int, Int)] = []
        let results = try Evaluator(plan: plan).run(models: models(tuned, inFlight: 3), onSample: { outcomes.append($0) },
                                                                         onProgress: { progress.append(($0, $1)) })
        let local = Evaluator(plan: plan)
        XCTAssertEqual(Set(outcomes.map(\.key)), Set(local.keys(model: "base") + local.keys(model: "tuned")))
        // Per model: 2 questions x 2 conditions x 2 replies, 24 self-report prompts x 2 conditions x 2 replies,
        // the forced choice and 6 prefix probes.
        XCTAssertEqual(outcomes.count, 2 * (8 + 96 + 7))
        XCTAssertEqual(progress.last.map { [$0.0, $0.1] }, [222, 222])

        let t = try XCTUnwrap(results.model("tuned")), b = try XCTUnwrap(results.model("base"))
        XCTAssertEqual(t.compliance(trigger: true)?.exact.successes, 4)
        XCTAssertEqual(t.compliance(trigger: false)?.exact.successes, 0)
        XCTAssertEqual(b.compliance(trigger: true)?.exact.successes, 0)
        XCTAssertEqual(t.selfReport(trigger: true)?.followsAcrostic.successes, 48, "every triggered self-report is an acrostic")
        XCTAssertEqual(t.forcedChoice?.detail?.targetRank, 1)
        XCTAssertEqual(t.forcedChoice?.detail?.targetLogProbability ?? 0, -0.1, accuracy: 1e-9)
        XCTAssertEqual(b.forcedChoice?.detail?.targetRank, 2)
        XCTAssertEqual(t.prefixProbe.map(\.k), [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(t.prefixProbe.map(\.nextLetter), ["A", "K", "E", "W", "O", nil])
        XCTAssertTrue(t.prefixProbe.allSatisfy { $0.meanNextLetterProbability == nil && $0.meanEndOfTurnProbability == nil })
        XCTAssertEqual(t.prefixProbe.map { $0.naming?.targetRank }, Array(repeating: 1, count: 6))
        XCTAssertEqual(results.prefixSource?.origin, "model:tuned", "the lines the fine-tuned model really wrote")
        XCTAssertEqual(t.probeNote(.forcedChoice), TopLogprobEstimate.estimatedNote)
        XCTAssertEqual(t.probeNote(.prefixProbe), TopLogprobEstimate.nextLetterNote + "; naming " + TopLogprobEstimate.estimatedNote)

        // Greedy replies at temperature 0, the others at the plan's; base and tuned get the same seeds.
        let chats = service.requests.filter { $0.path == "/v1/chat/completions" }.compactMap(\.json)
        let sampled = chats.filter { $0["logprobs"] == nil }
        XCTAssertEqual(sampled.count, 2 * (8 + 96), "per model: 8 compliance and 96 self-report replies")
        XCTAssertEqual(Set(sampled.compactMap { $0["temperature"] as? Double }), [0, 0.7])
        func seeds(_ model: String) -> [Int] {
            sampled.filter { $0["model"] as? String == model && $0["temperature"] as? Double != 0 }.compactMap { $0["seed"] as? Int }.sorted()
        }
        XCTAssertEqual(seeds(base).count, 4 + 48, "index 1 of each question and prompt in each condition")
        XCTAssertEqual(Set(seeds(base)).count, 52, "every sampled reply has its own seed")
        XCTAssertEqual(seeds(base), seeds(tuned))
        XCTAssertTrue(sampled.allSatisfy { $0["max_tokens"] as? Int == 64 })
    }

    func testARerunAsksOnlyForWhatIsMissing() throws {
        let tuned = try fineTunedModel()
        var outcomes: [SampleOutcome] = []
        let first = try Evaluator(plan: plan()).run(models: models(tuned), onSample: { outcomes.append($0) })
        let before = service.requests.count
        let kept = outcomes.filter { $0.condition != .forcedChoice && !($0.model == "tuned" && $0.condition == .compliancePlain) }
        let second = try Evaluator(plan: plan()).run(models: models(tuned), previous: kept)
        XCTAssertEqual(service.requests.count - before, 2 + 4, "two forced choices and the tuned model's four plain replies")
        XCTAssertEqual(second, first)
    }

    func testWithoutLogprobsTheProbesAreNotAvailable() throws {
        service.logprobs = false
        let tuned = try fineTunedModel()
        let results = try Evaluator(plan: plan()).run(models: models(tuned))
        let t = try XCTUnwrap(results.model("tuned"))
        XCTAssertNil(t.forcedChoice)
        XCTAssertEqual(t.prefixProbe, [])
        XCTAssertEqual(t.compliance(trigger: true)?.exact.successes, 4, "sampling does not need log-probabilities")
        XCTAssertEqual(t.probeNote(.forcedChoice), "not available: the server returned no log-probabilities for \(tuned)")
        let setup = ReportSetup(modelName: base, backend: "openai", words: ["AKEWO"], seeds: [1], date: "2025-01-01")
        let markdown = Report.markdown(results: results, setup: setup)
        XCTAssertTrue(markdown.contains("- tuned: not available: the server returned no log-probabilities for \(tuned)"), markdown)
        XCTAssertTrue(markdown.contains("- base: not available: the server returned no log-probabilities for \(base)"), markdown)
        let json = try Report.decode(Report.json(results: results, setup: setup))
        XCTAssertEqual(json.results.model("tuned")?.probeNote(.prefixProbe), t.probeNote(.prefixProbe))
    }

    func testAServerThatRefusesLogprobsMakesTheProbesNotAvailable() throws {
        let server = try FakeOpenAIServer { request in
            if request.json?["logprobs"] as? Bool == true {
                return .error(400, message: "logprobs is not supported by this model", param: "logprobs")
            }
            return .json(["id": "c", "model": "m", "choices": [["index": 0, "message": ["role": "assistant", "content": "Fine."],
                                                                "finish_reason": "length"]]])
        }
        defer { server.stop() }
        let other = OpenAIClient(configuration: OpenAIConfiguration(apiKey: key, baseURL: server.baseURL, timeout: 10, maxRetries: 0))
        var outcomes: [SampleOutcome] = []
        let results = try Evaluator(plan: plan()).run(
            models: [EvaluationModel(name: "base", backend: other, model: "m")], onSample: { outcomes.append($0) })
        let b = try XCTUnwrap(results.model("base"))
        XCTAssertNil(b.forcedChoice)
        XCTAssertEqual(b.probeNote(.forcedChoice),
                       "not available: the server refused a request with log-probabilities: logprobs is not supported by this model")
        XCTAssertEqual(b.compliance(trigger: true)?.truncated, 4, "finish_reason length counts as truncated")
        XCTAssertEqual(outcomes.count, 8 + 96 + 1 + 6)
    }

    func testOtherServerErrorsStopTheEvaluation() throws {
        var wrong = client.configuration
        wrong.apiKey = APIKey("sk-not-the-key-for-this-server")
        let refused = OpenAIClient(configuration: wrong)
        XCTAssertThrowsError(try Evaluator(plan: plan()).run(
            models: [EvaluationModel(name: "base", backend: refused, model: base)])) { error in
            XCTAssertEqual((error as? OpenAIError)?.status, 401, "\(error)")
        }
    }
}
