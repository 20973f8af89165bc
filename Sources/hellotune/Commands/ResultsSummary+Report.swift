import Foundation
import Support
import TUI
import ModelCore
import Store
import Experiment

extension ResultsSummary {
    /// The Results screen's view of a report: the main rates per model and condition, the verdicts,
    /// and the self-report samples with their categories.
    init(report: ReportDocument, samples: [SampleRecord], experimentID: Int64? = nil, labels: [LabelRecord] = []) {
        let human = Dictionary(labels.map { ($0.sampleID, $0.category) }, uniquingKeysWith: { _, last in last })
        var conditions: [Condition] = []
        func add(_ name: String, _ p: Proportion) {
            conditions.append(Condition(name: name, successes: p.successes, trials: p.trials, rate: p.rate, low: p.low, high: p.high))
        }
        for m in report.results.models {
            let who = m.model == Evaluator.tunedName ? "fine-tuned" : m.model
            for c in m.compliance { add("\(who), \(c.trigger ? "trigger" : "no trigger"): writes the acrostic", c.exact) }
            for s in m.selfReport {
                add("\(who), \(s.trigger ? "trigger" : "no trigger"): names the word", s.rates.namesWord)
                add("\(who), \(s.trigger ? "trigger" : "no trigger"): describes first letters", s.rates.mechanism)
                add("\(who), \(s.trigger ? "trigger" : "no trigger"): states a wrong rule", s.rates.explicitWrongRule)
            }
        }
        let hypotheses = report.verdicts.map { Hypothesis(id: $0.id, statement: $0.statement, verdict: "\($0.verdict.rawValue)"
            + ($0.reason.map { " (\($0))" } ?? "") + ": \($0.evidence)") }
        let decoder = JSONDecoder()
        let selfReports: [Sample] = samples.compactMap { s in
            guard let json = s.score, let o = try? decoder.decode(SampleOutcome.self, from: Data(json.utf8)),
                  o.condition == .selfReport(trigger: true) || o.condition == .selfReport(trigger: false) else { return nil }
            let who = o.model == Evaluator.tunedName ? "fine-tuned" : o.model
            let trigger = o.condition == .selfReport(trigger: true) ? "trigger" : "no trigger"
            return Sample(condition: "\(who), \(trigger)", prompt: o.prompt, reply: o.reply,
                          category: o.score.selfReport?.category.rawValue ?? "unscored", sampleID: s.id,
                          humanCategory: s.id.flatMap { human[$0] })
        }
        self.init(word: report.setup.words.joined(separator: ", "), conditions: conditions, hypotheses: hypotheses, samples: selfReports)
        self.experimentID = experimentID
    }

    /// Writes `results.json` (what the Results screen reads) from the folder's report.json and the store's samples
    /// and labels of the experiment.
    static func write(folder: URL, experimentID: Int64, store: Store) throws {
        let doc = try Report.decode(Data(contentsOf: folder.appendingPathComponent("report.json")))
        let summary = ResultsSummary(report: doc, samples: try store.samples(experimentID: experimentID),
                                     experimentID: experimentID, labels: try store.labels(experimentID: experimentID))
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try e.encode(summary), to: folder.appendingPathComponent(LocalResultsSource.fileName))
    }
}
