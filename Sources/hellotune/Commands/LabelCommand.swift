import ArgumentParser
import Foundation
import Store
import Experiment

/// `hellotune label RUN SAMPLE CATEGORY` and `hellotune label RUN --list`: a researcher's codes of self-reports, as the
/// Results screen's label keys store them. `hellotune report RUN` then recounts with them.
struct LabelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label", abstract: "Label a self-report's category by hand (the label wins over the automatic coder), or list the labels.",
        discussion: """
            RUN is an experiment id or its folder name under $HELLOTUNE_HOME/runs. SAMPLE is the sample id that --list \
            prints. CATEGORY is one of namesWord, partialWord, mechanism, wrongRule, noRule, or none to clear the label. \
            Then `hellotune report RUN` rewrites the report with the labels and the coder's agreement with them (Cohen's κ).
            """)
    @Argument(help: ArgumentHelp("Experiment id or run folder name.", valueName: "run")) var target: String
    @Argument(help: "Sample id (see --list).") var sample: Int64?
    @Argument(help: "namesWord, partialWord, mechanism, wrongRule, noRule, or none (clears the label).") var category: String?
    @Flag(help: "List the run's self-reports with the coder's category and any label.") var list = false
    @Flag(help: "With --list: print JSON.") var json = false
    @Option(help: "Who labels (default: $USER).") var labeller: String?

    func validate() throws {
        if list {
            if sample != nil || category != nil { throw ValidationError("give --list alone, or SAMPLE and CATEGORY, not both") }
        } else {
            guard sample != nil, let category else { throw ValidationError("give SAMPLE and CATEGORY (or --list to see the samples)") }
            if category != "none", SelfReportCategory(rawValue: category) == nil {
                throw ValidationError(LabelError.unknownCategory(category).description)
            }
            if json { throw ValidationError("--json goes with --list") }
        }
        if let labeller, labeller.isEmpty || labeller.count > 64 || labeller.contains(where: \.isNewline) {
            throw ValidationError("--labeller must be 1 to 64 characters on one line")
        }
    }

    func run() throws {
        let labels = HumanLabels(store: try Store.openDefault())
        let id: Int64
        do { id = try labels.experimentID(run: target) } catch let e as LabelError { throw ValidationError(e.description) }
        if list { return try printList(labels, experimentID: id) }
        let who = labeller ?? StoreSampleLabelling().labeller
        let chosen = category == "none" ? nil : SelfReportCategory(rawValue: category!)
        do {
            try labels.set(experimentID: id, sampleID: sample!, category: chosen, labeller: who)
        } catch let e as LabelError {
            throw ValidationError(e.description)
        }
        say(chosen.map { "sample \(sample!): \($0.rawValue) (by \(who))" } ?? "sample \(sample!): label cleared")
        say("`hellotune report \(target)` rewrites the report with the labels.")
    }

    func printList(_ labels: HumanLabels, experimentID: Int64) throws {
        let entries = try labels.entries(experimentID: experimentID)
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            FileHandle.standardOutput.write(Data((terminalSafeJSON(String(decoding: try e.encode(entries), as: UTF8.self)) + "\n").utf8))
            return
        }
        if entries.isEmpty { return say("experiment \(experimentID) has no self-reports yet") }
        say("sample  run  model  condition  prompt#  coder -> label  reply")
        for x in entries {
            let reply = x.reply.split(whereSeparator: \.isNewline).joined(separator: " ⏎ ")
            say("\(x.sampleID)  \(x.run)  \(x.model)  \(x.condition)  \(x.promptID)#\(x.index)  \(x.automatic.rawValue) -> "
                + (x.human.map { "\($0.rawValue) (\(x.labeller ?? "?"))" } ?? "—") + "  " + String(reply.prefix(80)))
        }
        let labelled = entries.filter { $0.human != nil }.count
        say("\(entries.count) self-reports, \(labelled) labelled")
    }
}
