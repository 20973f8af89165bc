import ArgumentParser
import ModelCore

struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits", abstract: "The most likely next tokens after a prompt, with their logits.")
    @OptionGroup var model: ModelOptions
    @Option(help: "The prompt (a user message, unless --raw).") var prompt: String
    @Option(help: "System message (with the chat template).") var system: String?
    @Flag(help: "Feed the prompt as it is, without the chat template.") var raw = false
    @Option(help: "How many of the best tokens to print.") var top: Int = 10
    @Flag(help: "Print JSON {\"top\": [ids], \"logits\": [floats]}.") var json = false

    func validate() throws {
        guard top > 0 else { throw ValidationError("--top must be > 0") }
    }

    func run() throws {
        let m = try model.load()
        let ids = raw ? m.tokenizer.encode(prompt) : m.encode(LocalModel.conversation(system: system, user: prompt))
        let cache = KVCache(config: m.model.config, maxPositions: ids.count)
        // Float activations: these logits are compared with reference implementations.
        let logits = try m.model.prefill(ids, cache: cache, workspace: Workspace(), precision: .float)
        let best = logits.indices.sorted { logits[$0] > logits[$1] }.prefix(top)
        if json {
            printJSON(["top": Array(best), "logits": best.map { Double(logits[$0]) }])
            return
        }
        for id in best { say("\(id)\t\(logits[id])\t\(m.tokenizer.piece(id).debugDescription)") }
    }
}
