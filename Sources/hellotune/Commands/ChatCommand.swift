import ArgumentParser
import Engine
import Foundation

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat", abstract: "Generate a reply to one prompt, or to every line of a JSONL file with --batch.")
    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @Option(help: "The user message.") var prompt: String?
    @Option(help: "System message (default: the model's own).") var system: String?
    @Option(help: "JSONL file of {\"system\"?: s, \"user\": s} lines; writes one {\"text\": ...} line each, in order.")
    var batch: String?
    @Option(name: .customLong("batch-size"), help: "Sequences decoded together with --batch.") var batchSize: Int = 16
    @Flag(help: "Print {\"text\": ...} (and token counts) as JSON.") var json = false

    func validate() throws {
        guard (prompt == nil) != (batch == nil) else { throw ValidationError("give exactly one of --prompt or --batch") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be > 0") }
    }

    func run() throws {
        let m = try model.load()
        let generator = Generator(model: m)
        if let batch {
            let requests = try BatchRequest.read(path: batch)
            var start = 0
            while start < requests.count {
                let chunk = requests[start..<min(start + batchSize, requests.count)]
                let prompts = chunk.map { m.encode(LocalModel.conversation(system: $0.system, user: $0.user)) }
                var options = sampling.options
                options.sampling.seed = sampling.seed &+ UInt64(start)
                let results = try generator.generateBatch(prompts: prompts, options: options)
                for r in results { printJSON(["text": r.text]) }
                start += chunk.count
                note("\(start)/\(requests.count) replies")
            }
            return
        }
        let ids = m.encode(LocalModel.conversation(system: system, user: prompt!))
        let result = try generator.generate(prompt: ids, options: sampling.options) { _, piece in
            if !json {
                FileHandle.standardOutput.write(Data(piece.utf8))
            }
            return true
        }
        if json {
            printJSON(["text": result.text, "prompt_tokens": result.promptTokens, "completion_tokens": result.tokens.count,
                       "finish_reason": result.finishReason.rawValue])
        } else {
            print("")
            if result.finishReason == .time { note("(stopped: the --time-limit of \(sampling.timeLimit!) s ran out)") }
            if result.finishReason == .length, result.tokens.count < sampling.maxTokens {
                note("(stopped: the prompt and reply filled the context of \(m.model.config.contextLength) positions)")
            }
        }
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
