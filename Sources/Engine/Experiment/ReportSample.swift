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
        let who = o.model == Evaluator.tunedName ? "fine-tuned" : o.model
        let probe: String
        switch o.condition {
        case .complianceTrigger, .compliancePlain: probe = "compliance"
        case .selfReportTrigger, .selfReportPlain: probe = "self-report"
        case .forcedChoice: probe = "forced-choice"
        case .prefixProbe: probe = "prefix-probe"
        }
        var category = o.score.selfReport?.category.rawValue ?? ""
        if category.isEmpty, let a = o.score.acrostic { category = a.exact ? "acrostic" : "not acrostic" }
        self.init(model: (run.map { $0 + " " } ?? "") + who, condition: o.condition.rawValue, probe: probe, prompt: o.prompt,
                  reply: o.reply, category: category, evidence: o.score.selfReport?.evidence,
                  marksLetters: probe == "compliance" || probe == "self-report")
    }

    /// The lines of a run folder's `samples.jsonl` (model, condition, probe, prompt, reply, category, evidence); nil
    /// when the folder has none. Lines that are not such objects are skipped.
    public static func read(samplesFile url: URL) -> [ReportSample]? {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        return text.split(separator: "\n").compactMap { line in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let reply = o["reply"] as? String else { return nil }
            let condition = o["condition"] as? String ?? ""
            let probe = o["probe"] as? String ?? ""
            return ReportSample(model: o["model"] as? String ?? "", condition: condition, probe: probe,
                                prompt: o["prompt"] as? String ?? "", reply: reply, category: o["category"] as? String ?? "",
                                evidence: o["evidence"] as? String,
                                marksLetters: !(condition + probe).contains("forced") && !(condition + probe).contains("prefix"))
        }
    }

    /// The experiment's stored replies; `run` ("AKEWO-s1") keeps one run's, nil keeps all, each named by its run.
    public static func stored(in store: Store, experimentID: Int64, run: String?) throws -> [ReportSample] {
        let decoder = JSONDecoder()
        return try store.samples(experimentID: experimentID).compactMap { record in
            guard let json = record.score, let o = try? decoder.decode(SampleOutcome.self, from: Data(json.utf8)) else { return nil }
            let runName = record.key.condition.split(separator: "/").first.map(String.init)
            if let run { return runName == run ? ReportSample(o) : nil }
            return ReportSample(o, run: runName)
        }
    }
}
