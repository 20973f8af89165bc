import Foundation
import Store

/// Researcher's codes of self-reports (the engine service behind the Results screen's label keys and
/// `hellotune label`). A label replaces the automatic coder's category wherever results are computed; the
/// disagreements between the two are reported as `CodingAgreement`.
public struct HumanLabels: Sendable {
    public let store: Store

    public init(store: Store) { self.store = store }

    /// One self-report of an experiment, with the coder's category and the researcher's label if any.
    public struct Entry: Sendable, Equatable, Codable {
        public var sampleID: Int64
        /// "AKEWO-s1": word and seed.
        public var run: String
        public var model: String
        public var condition: String
        public var promptID: String
        public var index: Int
        public var reply: String
        public var automatic: SelfReportCategory
        public var human: SelfReportCategory?
        public var labeller: String?
    }

    /// The experiment a run names: its id, or its folder's name under runs/ ("NAME-ID", or "NAME-ID-WORD-sN" for one
    /// seed's folder), or a path to that folder.
    public func experimentID(run: String) throws -> Int64 {
        if let id = Int64(run) {
            guard try store.experiment(id) != nil else { throw LabelError.noSuchRun(run) }
            return id
        }
        let name = URL(fileURLWithPath: run).lastPathComponent
        let experiments = try store.experiments()
        // Names may hold hyphens and digits: "lab-1-2" is experiment 2 named "lab-1", not a run of "lab" 1.
        if let e = experiments.first(where: { "\($0.name)-\($0.id)" == name }) { return e.id }
        for e in experiments {
            let folder = "\(e.name)-\(e.id)-"
            if name.hasPrefix(folder), Self.isRunName(name.dropFirst(folder.count)) { return e.id }
        }
        throw LabelError.noSuchRun(run)
    }

    /// "AKEWO-s1": a word (no hyphen) and a seed.
    static func isRunName(_ s: Substring) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].first == "s" else { return false }
        let seed = parts[1].dropFirst()
        return !seed.isEmpty && seed.allSatisfy(\.isASCII) && seed.allSatisfy(\.isNumber)
    }

    /// Labels `sampleID` (or clears its label when `category` is nil). Only self-reports can be labelled.
    public func set(experimentID: Int64, sampleID: Int64, category: SelfReportCategory?, labeller: String) throws {
        guard let record = try store.sample(experimentID: experimentID, id: sampleID) else {
            throw LabelError.noSuchSample(sampleID, experimentID: experimentID)
        }
        guard Self.outcome(record)?.score.selfReport != nil else { throw LabelError.notSelfReport(sampleID) }
        if let category {
            try store.setLabel(LabelRecord(experimentID: experimentID, sampleID: sampleID, category: category.rawValue,
                                           labeller: labeller))
        } else {
            try store.removeLabel(experimentID: experimentID, sampleID: sampleID)
        }
    }

    /// Every self-report of the experiment in store order, labelled or not.
    public func entries(experimentID: Int64) throws -> [Entry] {
        let labels = try labelsByID(experimentID: experimentID)
        return try store.samples(experimentID: experimentID).compactMap { r in
            guard let id = r.id, let o = Self.outcome(r), let s = o.score.selfReport else { return nil }
            let label = labels[id]
            return Entry(sampleID: id, run: r.key.run, model: o.model,
                         condition: o.condition.rawValue, promptID: o.promptID, index: o.index, reply: o.reply,
                         automatic: s.category, human: label?.category, labeller: label?.labeller)
        }
    }

    /// The experiment's labels that name a category this build knows, by sample id.
    func labelsByID(experimentID: Int64) throws -> [Int64: (category: SelfReportCategory, labeller: String)] {
        var out: [Int64: (category: SelfReportCategory, labeller: String)] = [:]
        for l in try store.labels(experimentID: experimentID) {
            if let c = SelfReportCategory(rawValue: l.category) { out[l.sampleID] = (c, l.labeller) }
        }
        return out
    }

    /// A run's stored outcomes (`run`: "AKEWO-s1") with each labelled self-report's category replaced by its label,
    /// and the agreement of coder and researcher over them (nil when the run has no label).
    ///
    /// The base model's replies that a word's later seeds copy from its first run (`EvaluationCondition
    /// .showsTunedReplies` false) are one reply each: a label on any copy applies to every copy, the run's own label
    /// first. `unshared` is the agreement without those base replies: what a later seed adds to a pooled agreement,
    /// whose base replies the first run counts.
    public func labelledOutcomes(experimentID: Int64, run: String) throws
        -> (outcomes: [SampleOutcome], agreement: CodingAgreement?, unshared: CodingAgreement?) {
        let labels = try labelsByID(experimentID: experimentID)
        let samples = try store.samples(experimentID: experimentID)
        let word = Self.word(ofRun: run)
        // The word's labels on shared base replies, by condition, prompt and index, in store order.
        var shared: [String: (category: SelfReportCategory, labeller: String)] = [:]
        for r in samples {
            let condition = r.key.conditionInRun
            guard let id = r.id, let label = labels[id], Self.word(ofRun: r.key.run) == word,
                  EvaluationCondition(rawValue: condition)?.isSharedAcrossSeeds(model: r.key.model) == true else { continue }
            let key = "\(condition)|\(r.key.promptID)|\(r.key.sampleIndex)"
            if shared[key] == nil || r.key.run == run { shared[key] = label }
        }
        var pairs: [(automatic: SelfReportCategory, human: SelfReportCategory)] = []
        var unsharedPairs: [(automatic: SelfReportCategory, human: SelfReportCategory)] = []
        let outcomes = samples.compactMap { r -> SampleOutcome? in
            guard r.key.condition.hasPrefix(run + "/"), var o = Self.outcome(r) else { return nil }
            let isShared = o.condition.isSharedAcrossSeeds(model: o.model)
            let label = isShared ? shared["\(o.condition.rawValue)|\(o.promptID)|\(o.index)"] : r.id.flatMap { labels[$0] }
            if let label, let s = o.score.selfReport {
                pairs.append((s.category, label.category))
                if !isShared { unsharedPairs.append((s.category, label.category)) }
                o = o.relabelled(label.category, by: label.labeller)
            }
            return o
        }
        return (outcomes, pairs.isEmpty ? nil : CodingAgreement(pairs: pairs),
                unsharedPairs.isEmpty ? nil : CodingAgreement(pairs: unsharedPairs))
    }

    /// "AKEWO" of "AKEWO-s1".
    static func word(ofRun run: String) -> String {
        guard let dash = run.lastIndex(of: "-") else { return run }
        return String(run[..<dash])
    }

    static func outcome(_ r: SampleRecord) -> SampleOutcome? {
        guard let json = r.score else { return nil }
        return try? JSONDecoder().decode(SampleOutcome.self, from: Data(json.utf8))
    }
}

extension SampleOutcome {
    /// The same reply coded by a person: the category is theirs, and the evidence says so. The word named and the
    /// naming line are the coder's only when the person agreed with its category.
    func relabelled(_ category: SelfReportCategory, by labeller: String) -> SampleOutcome {
        guard let s = score.selfReport else { return self }
        let same = s.category == category
        var score = self.score
        score.selfReport = SelfReportScore(category: category, namedWord: same ? s.namedWord : nil,
                                           followsAcrostic: s.followsAcrostic,
                                           evidence: "labelled \(category.rawValue) by \(labeller)"
                                               + (same ? "" : " (the coder said \(s.category.rawValue))"),
                                           namedAtLine: same ? s.namedAtLine : nil, labeller: labeller)
        return SampleOutcome(model: model, condition: condition, promptID: promptID, index: index, prompt: prompt,
                             reply: reply, finishReason: finishReason, score: score)
    }
}

public enum LabelError: Error, CustomStringConvertible, Equatable {
    case noSuchSample(Int64, experimentID: Int64)
    case notSelfReport(Int64)
    case unknownCategory(String)
    case noSuchRun(String)

    public var description: String {
        switch self {
        case let .noSuchSample(id, experiment):
            return "experiment \(experiment) has no sample \(id); list its self-reports with `hellotune label RUN --list`."
        case let .notSelfReport(id):
            return "sample \(id) is not a self-report; only self-reports have a category to label (see `hellotune label RUN --list`)."
        case let .unknownCategory(text):
            return "'\(text)' is not a category; use one of \(SelfReportCategory.allCases.map(\.rawValue).joined(separator: ", ")), or 'none' to clear the label."
        case let .noSuchRun(text):
            return "no run '\(text)': give an experiment id (see `hellotune jobs`) or a folder name under $HELLOTUNE_HOME/runs (NAME-ID)."
        }
    }
}
