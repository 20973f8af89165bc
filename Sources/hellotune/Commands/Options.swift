import ArgumentParser
import Foundation
import Support
import ModelCore
import Experiment

/// `--model` and `--template`, shared by every command that runs a model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "A name from `hellotune model list`, hf:OWNER/REPO/FILE.gguf, or a GGUF file (default: the fetched default model, see `hellotune model fetch`).")
    var model: String?

    @Option(name: .long, help: "Chat template override: chatml or llama3 (default: recognised from the model).")
    var template: String?

    @Option(name: .long, help: "LoRA adapter folder written by `hellotune train` (PEFT files or adapter.gguf).")
    var adapter: String?

    @Option(name: .long, help: "Most positions (prompt + reply) a sequence may use (default: the model's context).")
    var context: Int?

    /// The file to open: a model's name becomes the path of its fetched file. Resolved only where a local model is
    /// opened, since `chat --backend openai --model NAME` names the server's model, not one of ours.
    func path() throws -> String {
        guard let named = model else { return Paths.defaultModel.path }
        do {
            return try ModelReference.resolve(named)
        } catch let e as ModelLookupError {
            throw ValidationError("--model: \(e)")
        }
    }

    func load() throws -> LocalModel {
        let path = try path()
        if model == nil, !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("the default model is not fetched yet: run `hellotune model fetch` (or pass --model PATH).")
        }
        if let context, context < 1 { throw ValidationError("--context must be at least 1") }
        return try LocalModel(path: path, template: template, adapter: adapter.map { URL(fileURLWithPath: $0) },
                              contextLength: context)
    }
}

/// Sampling flags shared by chat and the explorer.
struct SamplingOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0
    @Option(name: .customLong("top-k"), parsing: .unconditional, help: "Keep the k most likely tokens (0: off).") var topK: Int = 0
    @Option(name: .customLong("top-p"), parsing: .unconditional, help: "Nucleus sampling mass (1: off).") var topP: Float = 1
    @Option(name: .customLong("min-p"), parsing: .unconditional, help: "Drop tokens below min-p times the best one (0: off).") var minP: Float = 0
    @Option(name: .customLong("repeat-penalty"), parsing: .unconditional, help: "Repetition penalty (1: off).") var repeatPenalty: Float = 1
    @Option(parsing: .unconditional, help: "Random seed.") var seed: UInt64 = 0
    @Option(name: .customLong("max-tokens"), parsing: .unconditional, help: "Most tokens to generate per reply.") var maxTokens: Int = 256
    @Option(name: .customLong("time-limit"), parsing: .unconditional, help: "Stop a reply after this many seconds; it keeps what was generated (default: no limit).")
    var timeLimit: Double?

    func validate() throws {
        // The experiment file's evaluation.temperature range; nan and infinity fail every comparison below.
        let hottest = Float(ExperimentLimits.temperature.upperBound)
        guard temperature >= 0, temperature <= hottest else {
            throw ValidationError("--temperature must be between 0 and \(hottest), not \(temperature)")
        }
        guard topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
        guard minP >= 0, minP < 1 else { throw ValidationError("--min-p must be in [0, 1)") }
        guard topK >= 0 else { throw ValidationError("--top-k must be >= 0") }
        guard repeatPenalty > 0, repeatPenalty.isFinite else { throw ValidationError("--repeat-penalty must be a number > 0") }
        guard maxTokens > 0 else { throw ValidationError("--max-tokens must be > 0") }
        if let timeLimit, !(timeLimit > 0 && timeLimit.isFinite) {
            throw ValidationError("--time-limit must be a number of seconds > 0, not \(timeLimit)")
        }
    }

    var options: GenerationOptions {
        GenerationOptions(maxTokens: maxTokens,
                          sampling: SamplingParameters(temperature: temperature, topK: topK, topP: topP, minP: minP,
                                                       repetitionPenalty: repeatPenalty, seed: seed),
                          timeLimit: timeLimit)
    }
}

/// Prints a JSON value on stdout, keys sorted, one line.
func printJSON(_ value: Any) {
    let data = try! JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
    print(terminalSafeJSON(String(decoding: data, as: UTF8.self)))
}

/// Progress and notes go to stderr so stdout stays clean for scripts. They quote servers and files, so they are
/// sanitised like `say`.
func note(_ s: String) {
    FileHandle.standardError.write(Data((TerminalText.clean(s) + "\n").utf8))
}
