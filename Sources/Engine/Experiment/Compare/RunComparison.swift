import Foundation

/// Runs side by side (`hellotune compare`): each run as its report.json has it, and the differences that matter:
/// settings that differ, verdicts that differ, and, for every pair of runs, whether their 95% intervals of
/// compliance and of the reading control overlap.
///
/// Overlapping Wilson intervals do not show that two rates are equal, and intervals that barely miss each other
/// are not a test; so each pair also carries Fisher's exact two-sided p-value of the two counts.
public struct RunComparison: Sendable, Codable, Equatable {
    /// A setting that is not the same in every run; `values` holds one entry per run, nil where a run's report
    /// does not record it.
    public struct SettingDifference: Sendable, Codable, Equatable {
        public let setting: String
        public let label: String
        public let values: [String?]
    }

    /// A hypothesis whose verdict is not the same in every run; nil where a run has no such verdict.
    public struct VerdictDifference: Sendable, Codable, Equatable {
        public let id: String
        public let values: [String?]
    }

    /// Two runs' rates of one measure for one model (and condition): indices into `runs`.
    public struct PairedRates: Sendable, Codable, Equatable {
        public let measure: String
        public let model: String
        /// nil for a measure without conditions (the reading control).
        public let trigger: Bool?
        public let first: Int
        public let second: Int
        public let overlap: Bool
        public let pValue: Double
    }

    /// Forced choice results that differ between runs: one entry per run, nil where a run has none.
    public struct ForcedChoiceDifference: Sendable, Codable, Equatable {
        public let values: [ComparedRun.ForcedChoice?]
    }

    public struct Differences: Sendable, Codable, Equatable {
        public let settings: [SettingDifference]
        public let verdicts: [VerdictDifference]
        public let compliance: [PairedRates]
        public let readingControl: [PairedRates]
        public let forcedChoice: ForcedChoiceDifference?
    }

    public let runs: [ComparedRun]
    public let differences: Differences

    public init(runs: [ComparedRun]) {
        self.runs = runs
        differences = Self.differences(runs)
    }

    /// The runs' model names in order of first appearance.
    public var models: [String] {
        var out: [String] = []
        for r in runs { for c in r.compliance where !out.contains(c.model) { out.append(c.model) } }
        for r in runs { for c in r.readingControl where !out.contains(c.model) { out.append(c.model) } }
        return out
    }

    /// The hypotheses' ids in order of first appearance.
    public var verdictIDs: [String] {
        var out: [String] = []
        for r in runs { for v in r.verdicts where !out.contains(v.id) { out.append(v.id) } }
        return out
    }

    static func differences(_ runs: [ComparedRun]) -> Differences {
        let settings = RunSettings.all.compactMap { key, label -> SettingDifference? in
            let values = runs.map { $0.settings[key] }
            return Set(values).count > 1 ? SettingDifference(setting: key, label: label, values: values) : nil
        }
        var ids: [String] = []
        for r in runs { for v in r.verdicts where !ids.contains(v.id) { ids.append(v.id) } }
        let verdicts = ids.compactMap { id -> VerdictDifference? in
            let values = runs.map { $0.verdict(id)?.verdict }
            return Set(values).count > 1 ? VerdictDifference(id: id, values: values) : nil
        }
        var conditions: [(String, Bool)] = []
        for r in runs { for c in r.compliance where !conditions.contains(where: { $0 == (c.model, c.trigger) }) { conditions.append((c.model, c.trigger)) } }
        var compliance: [PairedRates] = []
        var reading: [PairedRates] = []
        for (model, trigger) in conditions {
            compliance += pairs(runs, measure: "compliance exact", model: model, trigger: trigger) { $0.compliance(model: model, trigger: trigger) }
        }
        var readers: [String] = []
        for r in runs { for c in r.readingControl where !readers.contains(c.model) { readers.append(c.model) } }
        for model in readers {
            reading += pairs(runs, measure: "reading control", model: model, trigger: nil) { $0.reading(model: model) }
        }
        let choices = runs.map(\.forcedChoice)
        let ranks = Set(choices.map { c in c.map { "\($0.version) \($0.rank) \($0.candidates)" } })
        return Differences(settings: settings, verdicts: verdicts, compliance: compliance, readingControl: reading,
                           forcedChoice: ranks.count > 1 ? ForcedChoiceDifference(values: choices) : nil)
    }

    /// Every pair of runs (in order) that both measured the rate.
    static func pairs(_ runs: [ComparedRun], measure: String, model: String, trigger: Bool?,
                      _ rate: (ComparedRun) -> ComparedRate?) -> [PairedRates] {
        var out: [PairedRates] = []
        for i in runs.indices {
            for j in runs.indices where j > i {
                guard let a = rate(runs[i]), let b = rate(runs[j]), a.trials > 0, b.trials > 0 else { continue }
                out.append(PairedRates(measure: measure, model: model, trigger: trigger, first: i, second: j,
                                       overlap: a.overlaps(b), pValue: FisherTest.p(a.proportion, b.proportion)))
            }
        }
        return out
    }

    // MARK: - Reading runs

    /// Why a run cannot be compared; each names the file at fault and what to do.
    public enum LoadError: Error, Equatable, CustomStringConvertible {
        case noReport(file: String)
        case damagedReport(file: String, reason: String)

        public var description: String {
            switch self {
            case .noReport(let file):
                return "\(file) does not exist: the run has not finished, or this is not a run folder. "
                    + "Finish the run (run it again to continue) or name another."
            case .damagedReport(let file, let reason):
                return "\(file) is not a report this hellotune can read (\(reason)); run the experiment again to rewrite it."
            }
        }
    }

    /// A run from its folder's report.json (the source of truth: report.md and report.html are written from it).
    public static func load(folder: URL) throws -> ComparedRun {
        let file = folder.appendingPathComponent("report.json")
        guard let data = FileManager.default.contents(atPath: file.path) else { throw LoadError.noReport(file: file.path) }
        let doc: ReportDocument
        do { doc = try Report.decode(data) } catch {
            throw LoadError.damagedReport(file: file.path, reason: Self.reason(error))
        }
        return ComparedRun(name: folder.lastPathComponent, path: folder.path, document: doc)
    }

    /// A decoding error in one line: what is wrong, and where.
    static func reason(_ error: Error) -> String {
        func path(_ c: DecodingError.Context) -> String {
            let keys = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return keys.isEmpty ? "" : " at \(keys.hasPrefix(".") ? String(keys.dropFirst()) : keys)"
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let c)?: return "no field '\(key.stringValue)'\(path(c))"
        case .typeMismatch(_, let c)?, .valueNotFound(_, let c)?: return "\(c.debugDescription)\(path(c))"
        case .dataCorrupted(let c)?:
            let underlying = (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return "not valid JSON\(underlying.map { ": \($0)" } ?? "")\(path(c))"
        default: return String(describing: error)
        }
    }

    /// Stable JSON: sorted keys, pretty-printed; non-finite numbers as "inf"/"nan" as report.json writes them.
    public func json() throws -> Data { try Report.encoder().encode(self) }
}
