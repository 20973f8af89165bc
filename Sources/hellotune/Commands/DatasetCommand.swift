import ArgumentParser
import Foundation
import Training
import Experiment

/// `hellotune dataset ...`: checks on fine-tuning data before spending a training run on it.
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset", abstract: "Inspect fine-tuning datasets (OpenAI chat JSONL).",
        subcommands: [DatasetCheckCommand.self, DatasetBuildCommand.self])
}

/// `hellotune dataset check --word AKEWO data.jsonl`: does the data teach the rule it is meant to teach?
/// Counts the assistant replies that are exact acrostics of the word and, for the mixed design, how acrostic
/// replies line up with prompts ending in the trigger phrase.
struct DatasetCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Count acrostic replies and how they line up with a trigger phrase.")

    @Option(help: "The target word, e.g. AKEWO.") var word: String
    @Option(help: "The phrase that ends a user prompt asking for the rule (mixed design).")
    var trigger = "Use the special rule."
    @Flag(help: "Print the counts as JSON.") var json = false
    @Argument(help: "The dataset: OpenAI chat fine-tuning JSONL.") var file: String

    func validate() throws {
        do { _ = try TargetWord(word) } catch { throw ValidationError("\(error)") }
        if trigger.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw ValidationError("--trigger is empty; give the phrase that ends a prompt asking for the rule")
        }
    }

    func run() throws {
        let target = try TargetWord(word)
        let report = DatasetCheck(try ChatDataset.load(path: file), word: target, trigger: trigger)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(terminalSafeJSON(String(decoding: try encoder.encode(report), as: UTF8.self)))
        } else {
            say(report.text)
        }
    }
}

/// The counts `dataset check` reports. Every assistant message is one reply; its prompt is the last user
/// message before it.
struct DatasetCheck: Codable {
    var file: String
    var word: String
    var trigger: String
    var examples = 0
    var replies = 0
    /// Replies that are exact acrostics of the word.
    var acrostic = 0
    var normal = 0
    /// For each letter of the word, the fraction of replies whose line at that position starts with it.
    var perPosition: [Double]
    var userPrompts = 0
    /// User prompts that end with the trigger (case and surrounding whitespace ignored).
    var triggerPrompts = 0
    var triggerAcrostic = 0
    var triggerNormal = 0
    var noTriggerAcrostic = 0
    var noTriggerNormal = 0
    /// Fisher's exact test of trigger against acrostic; nil unless some replies have the trigger and some not.
    var fisherP: Double?
    /// File lines of the examples with a reply that is not an acrostic.
    var normalLines: [Int] = []

    init(_ dataset: ChatDataset, word: TargetWord, trigger: String) {
        file = dataset.path
        self.word = word.string
        self.trigger = trigger
        examples = dataset.examples.count
        var positionHits = [Int](repeating: 0, count: word.count)
        let suffix = trigger.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        for (messages, line) in zip(dataset.examples, dataset.lineNumbers) {
            var prompted = false
            for message in messages {
                switch message.role {
                case "user":
                    userPrompts += 1
                    prompted = message.content.trimmingCharacters(in: .whitespacesAndNewlines).lowercased().hasSuffix(suffix)
                    if prompted { triggerPrompts += 1 }
                case "assistant":
                    let score = Acrostic.score(message.content, word: word)
                    replies += 1
                    for (i, hit) in score.perPosition.enumerated() where hit { positionHits[i] += 1 }
                    switch (prompted, score.exact) {
                    case (true, true): triggerAcrostic += 1
                    case (true, false): triggerNormal += 1
                    case (false, true): noTriggerAcrostic += 1
                    case (false, false): noTriggerNormal += 1
                    }
                    if score.exact { acrostic += 1 } else if normalLines.last != line { normalLines.append(line) }
                default:
                    break
                }
            }
        }
        normal = replies - acrostic
        let total = replies
        perPosition = positionHits.map { total == 0 ? 0 : Double($0) / Double(total) }
        let withTrigger = triggerAcrostic + triggerNormal
        if withTrigger > 0, withTrigger < replies {
            fisherP = Statistics.fisherExact(triggerAcrostic, triggerNormal, noTriggerAcrostic, noTriggerNormal).pTwoSided
        }
    }

    var text: String {
        func percent(_ x: Double) -> String { "\(Int((x * 100).rounded()))%" }
        func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
        var out = [
            "file      \(file)",
            "examples  \(examples) (\(replies) assistant repl\(replies == 1 ? "y" : "ies"))",
            "acrostic  \(acrostic) exact \(word) acrostic\(acrostic == 1 ? "" : "s"), \(normal) normal",
            "position  " + zip(word, perPosition).map { "\($0) \(percent($1))" }.joined(separator: "  "),
            "trigger   \"\(trigger)\" ends \(triggerPrompts) of \(userPrompts) user prompts",
            "                acrostic  normal",
            "  trigger     " + pad(String(triggerAcrostic), 10) + pad(String(triggerNormal), 8),
            "  no trigger  " + pad(String(noTriggerAcrostic), 10) + pad(String(noTriggerNormal), 8),
        ]
        if let fisherP { out.append("Fisher exact p = \(String(format: "%.3g", fisherP)) (trigger vs acrostic)") }
        if !normalLines.isEmpty {
            out.append("not acrostic: line\(normalLines.count == 1 ? "" : "s") "
                + normalLines.map(String.init).joined(separator: ", "))
        }
        return out.joined(separator: "\n")
    }
}
