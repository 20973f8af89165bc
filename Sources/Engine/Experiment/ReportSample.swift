import Foundation
import Store

/// One reply as the HTML report's sample browser lists it: who answered, under which condition, to which probe,
/// and how it was coded.
public struct ReportSample: Sendable, Equatable {
    /// One reply per line, in the run folder.
    public static let fileName = "samples.jsonl"
    public var model: String
    /// e.g. "compliance-trigger", "self-report-plain" (the evaluation condition).
    public var condition: String
    /// e.g. "compliance", "self-report", "forced-choice", or the prompt's id.
    public var probe: String
    public var prompt: String
    public var reply: String
    /// The self-report category, or "acrostic" / "not acrostic" for a compliance reply; "" when not coded.
    public var category: String
    /// The sentence that decided a self-report's category.
    public var evidence: String?
    /// Whether the condition asks for the acrostic, so that its first letters are marked.
    public var marksLetters: Bool

    public init(model: String, condition: String, probe: String, prompt: String, reply: String, category: String,
                evidence: String? = nil, marksLetters: Bool) {
        self.model = model
        self.condition = condition
        self.probe = probe
        self.prompt = prompt
        self.reply = reply
        self.category = category
        self.evidence = evidence
        self.marksLetters = marksLetters
    }

    /// From a scored outcome, as the evaluation stores it.
    public init(_ o: SampleOutcome, run: String? = nil) {
        self.init(model: o.model, condition: o.condition, prompt: o.prompt, reply: o.reply, score: o.score,
                  evidence: o.score.selfReport?.evidence, run: run)
    }

    /// From one line of `samples.jsonl` (SampleLog), which holds the same fields as the stored outcome.
    init(_ line: SampleLog.Line) {
        self.init(model: line.model, condition: line.condition, prompt: line.prompt, reply: line.reply, score: line.scores,
                  evidence: line.evidence, run: nil)
    }

    private init(model: String, condition: EvaluationCondition, prompt: String, reply: String, score: SampleScore,
                 evidence: String?, run: String?) {
        let who = model == Evaluator.tunedName ? "fine-tuned" : model
        let probe = condition.probe
        var category = score.selfReport?.category.rawValue ?? ""
        if category.isEmpty, let a = score.acrostic { category = a.exact ? "acrostic" : "not acrostic" }
        self.init(model: (run.map { $0 + " " } ?? "") + who, condition: condition.rawValue, probe: probe, prompt: prompt,
                  reply: reply, category: category, evidence: evidence,
                  marksLetters: probe == "compliance" || probe == "self-report")
    }

    /// The replies a report of `experimentID` (`run`: one run's, nil: all) lists: those of `samplesFile`, unless a
    /// researcher labelled any of the experiment's self-reports or there is no such file; then the store's, labelled.
    /// samples.jsonl holds the coder's categories only.
    public static func forReport(samplesFile url: URL, store: Store, experimentID: Int64, run: String?) throws -> [ReportSample] {
        if try store.labels(experimentID: experimentID).isEmpty, let logged = read(samplesFile: url) { return logged }
        return try stored(in: store, experimentID: experimentID, run: run)
    }

    /// The lines of a run folder's `samples.jsonl`; nil when the folder has none or a line is not a sample (the
    /// store then gives the replies).
    public static func read(samplesFile url: URL) -> [ReportSample]? {
        guard FileManager.default.fileExists(atPath: url.path), let lines = try? SampleLog.read(url) else { return nil }
        return lines.map(ReportSample.init)
    }

    /// The experiment's stored replies; `run` ("AKEWO-s1") keeps one run's, nil keeps all, each named by its run. A
    /// self-report a researcher labelled shows the label, as the report's counts have it.
    public static func stored(in store: Store, experimentID: Int64, run: String?) throws -> [ReportSample] {
        let decoder = JSONDecoder()
        let labels = try HumanLabels(store: store).labelsByID(experimentID: experimentID)
        return try store.samples(experimentID: experimentID).compactMap { record in
            guard let json = record.score, var o = try? decoder.decode(SampleOutcome.self, from: Data(json.utf8)) else { return nil }
            if let id = record.id, let label = labels[id] { o = o.relabelled(label.category, by: label.labeller) }
            let runName = record.key.condition.split(separator: "/").first.map(String.init)
            if let run { return runName == run ? ReportSample(o) : nil }
            return ReportSample(o, run: runName)
        }
    }
}
