import ArgumentParser
import Foundation
import Support
import ModelCore
import Backends

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat", abstract: "Generate a reply to one prompt, or to every line of a JSONL file with --batch.",
        discussion: """
        --backend local (the default) runs a GGUF model here. --backend openai sends the conversation to the OpenAI
        API, or to any OpenAI-compatible server with --base-url; --model then names the server's model (for example
        gpt-4o-mini or a fine-tuned ft:... name). It needs OPENAI_API_KEY; OPENAI_BASE_URL, OPENAI_ORG_ID and
        OPENAI_PROJECT_ID are honoured. --top-k, --min-p, --repeat-penalty, --template, --adapter and --context are
        local only.
        """)
    enum BackendKind: String, ExpressibleByArgument, CaseIterable { case local, openai }

    @Option(help: "Where the model runs: local or openai.") var backend: BackendKind = .local
    @Option(name: .customLong("base-url"), help: "OpenAI-compatible API base URL (default: $OPENAI_BASE_URL or https://api.openai.com/v1).")
    var baseURL: String?
    @Flag(name: .customLong("allow-insecure"), help: "Allow a plain-http --base-url to another machine (the key then crosses the network in clear).")
    var allowInsecure = false
    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @Option(help: "The user message.") var prompt: String?
    @Option(help: "System message (default: the model's own).") var system: String?
    @Option(help: "JSONL file of {\"system\"?: s, \"user\": s} lines; writes one {\"text\": ...} line each, in order.")
    var batch: String?
    @Option(name: .customLong("batch-size"),
            help: "With --batch: sequences decoded together (local), or requests in flight together (openai).")
    var batchSize: Int = 16
    @Flag(help: "Print {\"text\": ...} (and token counts) as JSON.") var json = false

    func validate() throws {
        guard (prompt == nil) != (batch == nil) else { throw ValidationError("give exactly one of --prompt or --batch") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be > 0") }
        if backend == .local, baseURL != nil { throw ValidationError("--base-url needs --backend openai") }
        if backend == .openai {
            guard model.model != nil else {
                throw ValidationError("--model is required with --backend openai: the server's model name, e.g. gpt-4o-mini")
            }
            let localOnly: [(String, Bool)] = [
                ("--template", model.template != nil), ("--adapter", model.adapter != nil), ("--context", model.context != nil),
                ("--top-k", sampling.topK != 0), ("--min-p", sampling.minP != 0), ("--repeat-penalty", sampling.repeatPenalty != 1),
            ]
            if let flag = localOnly.first(where: { $0.1 })?.0 {
                throw ValidationError("\(flag) is not part of the OpenAI chat API; leave it out with --backend openai")
            }
        }
    }

    func run() throws {
        let chat: any ChatBackend
        var contextLength: Int?
        switch backend {
        case .local:
            let m = try model.load()
            chat = LocalChatBackend(model: m)
            contextLength = m.model.config.contextLength
        case .openai:
            let config: OpenAIConfiguration
            do {
                config = try OpenAIConfiguration.fromEnvironment(baseURL: baseURL, allowInsecure: allowInsecure)
            } catch {
                throw ValidationError("\(error)")
            }
            chat = OpenAIClient(configuration: config, log: { note($0) })
        }
        if let batch {
            let requests = try BatchRequest.read(path: batch).enumerated().map { i, line in
                request(system: line.system, user: line.user, seed: sampling.seed &+ UInt64(i))
            }
            return try completeInOrder(requests, on: chat)
        }
        let r = request(system: system, user: prompt!, seed: sampling.seed)
        if json {
            let completion = try runBlocking { try await chat.complete(r) }
            printJSON(["text": completion.text, "prompt_tokens": completion.usage?.promptTokens ?? 0,
                       "completion_tokens": completion.usage?.completionTokens ?? 0,
                       "finish_reason": completion.choices.first?.finishReason ?? "stop", "model": completion.model])
            return
        }
        let (reason, tokens) = try runBlocking {
            var reason = "stop", tokens = 0
            // The model's or server's text, sanitised as it streams: a sequence split between two chunks is held
            // back whole.
            var screen = TerminalTextStream()
            for try await chunk in chat.stream(r) {
                let text = screen.feed(chunk.choices.compactMap(\.content).joined())
                if !text.isEmpty { FileHandle.standardOutput.write(Data(text.utf8)) }
                if let r = chunk.choices.compactMap(\.finishReason).first { reason = r }
                if let usage = chunk.usage { tokens = usage.completionTokens }
            }
            return (reason, tokens)
        }
        print("")
        if reason == "time", let limit = sampling.timeLimit { note("(stopped: the --time-limit of \(limit) s ran out)") }
        if reason == "length", tokens < sampling.maxTokens, let contextLength {
            note("(stopped: the prompt and reply filled the context of \(contextLength) positions)")
        }
    }

    /// One conversation as the chat seam takes it. The local engine's own samplers are nil unless set, and
    /// `validate()` keeps them away from the API.
    func request(system: String?, user: String, seed: UInt64) -> ChatRequest {
        ChatRequest(messages: LocalModel.conversation(system: system, user: user), model: model.model ?? "local",
                    seed: Int(truncatingIfNeeded: seed), temperature: ChatRequest.decimal(sampling.temperature),
                    topP: sampling.topP < 1 ? ChatRequest.decimal(sampling.topP) : nil, maxTokens: sampling.maxTokens,
                    topK: sampling.topK != 0 ? sampling.topK : nil, minP: sampling.minP != 0 ? Double(sampling.minP) : nil,
                    repetitionPenalty: sampling.repeatPenalty != 1 ? Double(sampling.repeatPenalty) : nil,
                    timeLimit: backend == .local ? sampling.timeLimit : nil)
    }
}

/// One line of a `chat --batch` file.
struct BatchRequest: Decodable {
    var system: String?
    var user: String

    static func read(path: String) throws -> [BatchRequest] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read \(path): no such file or not readable")
        }
        var out: [BatchRequest] = []
        for (n, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            do {
                out.append(try JSONDecoder().decode(BatchRequest.self, from: Data(trimmed.utf8)))
            } catch {
                let reason: String
                switch error {
                case let DecodingError.keyNotFound(key, _): reason = "\"\(key.stringValue)\" is missing"
                case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context):
                    reason = "\"\(context.codingPath.last?.stringValue ?? "")\" must be a string"
                default: reason = "the line is not a JSON object"
                }
                throw ValidationError("\(path):\(n + 1): \(reason). Write one {\"system\"?: string, \"user\": string} object per line.")
            }
        }
        guard !out.isEmpty else { throw ValidationError("\(path) holds no requests") }
        return out
    }
}

extension ChatCommand {
    /// Prints one {"text"} line per request, in the input order. The local engine decodes --batch-size requests as
    /// one batch (line i sampled with seed + i, as alone); an API gets up to --batch-size requests in flight together,
    /// and the first failure in input order ends the batch after the replies before it, as sending one at a time
    /// would; nothing more is sent once a request has failed.
    func completeInOrder(_ requests: [ChatRequest], on chat: any ChatBackend) throws {
        if backend == .local {
            var start = 0
            while start < requests.count {
                let chunk = Array(requests[start..<min(start + batchSize, requests.count)])
                for completion in try runBlocking({ try await chat.completeBatch(chunk) }) { printJSON(["text": completion.text]) }
                start += chunk.count
                note("\(start)/\(requests.count) replies")
            }
            return
        }
        func send(_ i: Int) -> @Sendable () async -> (Int, Result<String, Error>) {
            let r = requests[i]
            return {
                do { return (i, .success(try await chat.complete(r).text)) } catch { return (i, .failure(error)) }
            }
        }
        try runBlocking {
            try await withThrowingTaskGroup(of: (Int, Result<String, Error>).self) { group in
                var sent = 0, printed = 0, failed = false
                var finished: [Int: Result<String, Error>] = [:]
                while sent < min(batchSize, requests.count) {
                    group.addTask(operation: send(sent))
                    sent += 1
                }
                while let (i, result) = try await group.next() {
                    finished[i] = result
                    if case .failure = result { failed = true }
                    while let next = finished.removeValue(forKey: printed) {
                        let text: String
                        switch next {
                        case let .success(t): text = t
                        case let .failure(error):
                            group.cancelAll()
                            throw error
                        }
                        printJSON(["text": text])
                        printed += 1
                        note("\(printed)/\(requests.count) replies")
                    }
                    if !failed, sent < requests.count {
                        group.addTask(operation: send(sent))
                        sent += 1
                    }
                }
            }
        }
    }
}
