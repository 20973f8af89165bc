import FakeOpenAI
import Foundation
import XCTest

/// `hellotune chat --backend openai` against an OpenAI-compatible server on 127.0.0.1.
final class ChatOpenAICLITests: XCTestCase {
    let key = "sk-chat-cli-key-5d1e7a"
    var home: URL!
    var service: FakeOpenAIService!

    override func setUpWithError() throws {
        (home, service) = try openAIHome(key: key)
    }

    /// The key in the environment, the server only through --base-url.
    var env: [String: String] {
        var e = CLI.openAIEnvironment(key: key, baseURL: service.baseURL, home: home)
        e["OPENAI_BASE_URL"] = ""
        return e
    }

    func chat(_ args: [String], env: [String: String]? = nil) throws -> CLI.Result {
        try CLI.run(["chat", "--backend", "openai", "--base-url", service.baseURL.absoluteString] + args, env: env ?? self.env,
                    timeout: 60)
    }

    func testStreamsJSONAndBatchFromACompatibleServer() throws {
        let streamed = try chat(["--model", "gpt-4o-mini", "--prompt", "Which word? Answer with the word only."])
        XCTAssertEqual(streamed.status, 0, streamed.stderr)
        XCTAssertEqual(streamed.stdout, "HELLO\n")
        let first = try XCTUnwrap(service.requests.last?.json)
        XCTAssertEqual(service.requests.last?.path, "/v1/chat/completions")
        XCTAssertEqual(first["model"] as? String, "gpt-4o-mini")
        XCTAssertEqual(first["stream"] as? Bool, true)
        XCTAssertEqual(first["messages"] as? [[String: String]], [["role": "user", "content": "Which word? Answer with the word only."]])

        let json = try chat(["--model", "gpt-4o-mini", "--system", "Be brief.", "--prompt", "Tell me about cats.", "--json",
                             "--temperature", "0.5", "--max-tokens", "20", "--seed", "9"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let reply = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(reply["text"] as? String, FakeOpenAIService.plainReply)
        XCTAssertEqual(reply["finish_reason"] as? String, "stop")
        XCTAssertEqual(reply["completion_tokens"] as? Int, 8)
        XCTAssertGreaterThan(reply["prompt_tokens"] as? Int ?? 0, 0)
        let sent = try XCTUnwrap(service.requests.last?.json)
        XCTAssertEqual(sent["temperature"] as? Double, 0.5)
        XCTAssertEqual(sent["max_tokens"] as? Int, 20)
        XCTAssertEqual(sent["seed"] as? Int, 9)
        XCTAssertNil(sent["stream"])
        XCTAssertEqual(sent["messages"] as? [[String: String]],
                       [["role": "system", "content": "Be brief."], ["role": "user", "content": "Tell me about cats."]])

        let batch = home.appendingPathComponent("batch.jsonl")
        try "{\"user\": \"Name a word. Answer with the word only.\"}\n{\"system\": \"s\", \"user\": \"Tell me more.\"}\n"
            .write(to: batch, atomically: true, encoding: .utf8)
        let lines = try chat(["--model", "gpt-4o-mini", "--batch", batch.path])
        XCTAssertEqual(lines.status, 0, lines.stderr)
        XCTAssertEqual(lines.stdout, "{\"text\":\"HELLO\"}\n{\"text\":\"\(FakeOpenAIService.plainReply)\"}\n")
        // Sent together (--batch-size), so they may arrive in either order.
        let seeds = Dictionary(uniqueKeysWithValues: service.requests.suffix(2).compactMap { r -> (String, Int)? in
            guard let json = r.json, let messages = json["messages"] as? [[String: String]], let seed = json["seed"] as? Int,
                  let user = messages.last?["content"] else { return nil }
            return (user, seed)
        })
        XCTAssertEqual(seeds, ["Name a word. Answer with the word only.": 0, "Tell me more.": 1], "seed + line index, as locally")

        for r in [streamed, json, lines] { XCTAssertFalse((r.stdout + r.stderr).contains(key)) }
    }

    func testTheServersErrorIsShownAndTheExitIsNonZero() throws {
        var wrong = env
        wrong["OPENAI_API_KEY"] = "sk-not-the-right-key-0000"
        let unauthorised = try chat(["--model", "gpt-4o-mini", "--prompt", "hi"], env: wrong)
        XCTAssertNotEqual(unauthorised.status, 0)
        XCTAssertEqual(unauthorised.stdout, "")
        XCTAssertTrue(unauthorised.stderr.contains("OpenAI API error 401: Incorrect API key provided: sk-********0000. "
            + "You can find your API key at https://platform.openai.com/account/api-keys."), unauthorised.stderr)
        XCTAssertTrue(unauthorised.stderr.contains("code invalid_api_key"), unauthorised.stderr)
        XCTAssertFalse(unauthorised.stderr.contains("sk-not-the-right-key-0000"))

        let missing = try chat(["--model", "ft:gpt-4o-mini:nobody:x:1", "--prompt", "hi", "--json"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("OpenAI API error 404: The model `ft:gpt-4o-mini:nobody:x:1` does not exist "
            + "or you do not have access to it."), missing.stderr)

        var noKey = env
        noKey["OPENAI_API_KEY"] = ""
        let unset = try chat(["--model", "gpt-4o-mini", "--prompt", "hi"], env: noKey)
        XCTAssertNotEqual(unset.status, 0)
        XCTAssertTrue(unset.stderr.contains("OPENAI_API_KEY is not set"), unset.stderr)

        let localOnly = try chat(["--model", "gpt-4o-mini", "--prompt", "hi", "--top-k", "5"])
        XCTAssertNotEqual(localOnly.status, 0)
        XCTAssertTrue(localOnly.stderr.contains("--top-k is not part of the OpenAI chat API"), localOnly.stderr)
        let noModel = try chat(["--prompt", "hi"])
        XCTAssertNotEqual(noModel.status, 0)
        XCTAssertTrue(noModel.stderr.contains("--model is required with --backend openai"), noModel.stderr)
        XCTAssertEqual(service.requests.count, 2, "only the 401 and the 404 reached the server")
    }
}
