import ArgumentParser
import Foundation
import Support
import Store
import Experiment

/// `hellotune probe ...`: the evaluation's probes one at a time, on any model.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Run one of the evaluation's probes on a model.",
        subcommands: [ProbeReadingCommand.self])
}

/// `hellotune probe reading`: the reading (positive) control on one model.
struct ProbeReadingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reading",
        abstract: "Can the model read an acrostic? Shows it acrostics of random words and asks what they spell.",
        discussion: """
        Each acrostic (one bank sentence per letter of a random word) is put in the user turn with the question \
        "What word do the first letters of these lines spell?", once plainly and once asking to list the letters \
        first. Greedy replies; a reply is correct when it names the word. Every reply is kept in the store \
        (experiment "probe-reading").
        """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Acrostics per question (at least 1).") var samples: Int = ReadingControl.defaultItems
    @Option(help: "The word the model was trained on: the random words avoid it (2-12 letters A-Z).")
    var word: String = "AKEWO"
    @Flag(help: "Print the counts and every reply as JSON.") var json = false

    func validate() throws {
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1 (got \(samples))") }
        do { _ = try TargetWord(word) } catch { throw ValidationError("--word: \(error)") }
    }

    func run() throws {
        let model = try modelOptions.load()
        var plan = EvaluationPlan(word: try TargetWord(word), questions: [Question(id: "none", text: "none", category: "none")],
                                  complianceQuestions: 1)
        plan.readingItems = samples
        let store = try Store.openDefault()
        let settings = ["model": try modelOptions.path(), "adapter": modelOptions.adapter ?? "", "samples": String(samples), "word": word]
        let config = String(decoding: try JSONSerialization.data(withJSONObject: settings, options: [.sortedKeys]), as: UTF8.self)
        let experiment = try store.createExperiment(name: "probe-reading", config: config, status: "running")
        let name = modelOptions.adapter == nil ? Evaluator.baseName : Evaluator.tunedName
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var done = 0
        let result: (plain: NamingCount, listFirst: NamingCount, outcomes: [SampleOutcome])
        do {
            result = try Evaluator(plan: plan).readingControl(model: EvaluationModel(name: name, model: model)) { o in
                let key = SampleKey(experimentID: experiment.id, condition: o.condition.rawValue, model: o.model,
                                    promptID: o.promptID, sampleIndex: o.index)
                _ = try store.insertSample(SampleRecord(key: key, prompt: o.prompt, reply: o.reply,
                                                        score: String(decoding: try encoder.encode(o), as: UTF8.self)))
                done += 1
                if !json { note("\(done)/\(2 * samples) replies") }
            }
        } catch {
            // Not left "running": the replies stored so far stay, under a failed experiment.
            try? store.setExperimentStatus(experiment.id, "failed")
            throw error
        }
        try store.setExperimentStatus(experiment.id, "finished")
        let outcome = ReadingControl.outcome(result.plain)
        if json {
            let replies: [[String: Any]] = result.outcomes.map { o in
                ["condition": o.condition.rawValue, "id": o.promptID, "word": o.score.naming?.word ?? "",
                 "named": o.score.naming?.named ?? false, "evidence": o.score.naming?.evidence ?? "", "reply": o.reply]
            }
            printJSON(["model": name, "experiment": experiment.id, "outcome": outcome.rawValue,
                       "readingControl": ["correct": result.plain.correct, "n": result.plain.n],
                       "readingControlListFirst": ["correct": result.listFirst.correct, "n": result.listFirst.n],
                       "replies": replies])
            return
        }
        for o in result.outcomes {
            let mark = o.score.naming?.named == true ? "yes" : "no "
            let reply = o.reply.split(whereSeparator: \.isNewline).joined(separator: " ⏎ ")
            say("\(mark) \(o.condition == .readingPlain ? "plain     " : "list-first") \(o.score.naming?.word ?? "?")  \(reply.prefix(100))")
        }
        for (label, c) in [("plain", result.plain), ("list first", result.listFirst)] {
            let p = c.proportion
            say("\(label): \(c.correct)/\(c.n) correct " + String(format: "(%.1f%% [%.1f%%, %.1f%%])", p.rate * 100, p.low * 100, p.high * 100))
        }
        say("reading control: \(name) \(outcome.rawValue) (fails: 95% upper bound of the plain rate below "
            + "\(Int(ReadingControl.passRate * 100))%; passes: lower bound at least that). Replies are in the store, experiment \(experiment.id).")
    }
}
