import Foundation

/// A rate with its 95% Wilson interval, as `hellotune compare --json` writes it (the rate spelled out).
public struct ComparedRate: Sendable, Codable, Equatable {
    public let successes: Int
    public let trials: Int
    public let rate: Double
    public let low: Double
    public let high: Double

    public init(_ p: Proportion) {
        successes = p.successes
        trials = p.trials
        rate = p.rate
        low = p.low
        high = p.high
    }

    public var proportion: Proportion { Proportion(successes: successes, trials: trials, low: low, high: high) }

    /// The two 95% intervals share at least one point.
    public func overlaps(_ other: ComparedRate) -> Bool { low <= other.high && other.low <= high }
}

/// One run of a comparison, read from its report.json: what was run, and the numbers that decide the verdicts.
public struct ComparedRun: Sendable, Codable, Equatable {
    /// Exact-acrostic compliance of one model in one condition.
    public struct Compliance: Sendable, Codable, Equatable {
        public let model: String
        public let trigger: Bool
        public let exact: ComparedRate
    }

    public struct Verdict: Sendable, Codable, Equatable {
        public let id: String
        /// "supported", "not supported", "inconclusive" or "not testable".
        public let verdict: String
        public let reason: String?
        public let rule: String
    }

    /// The plain reading control of one model: acrostics of other words read back correctly.
    public struct Reading: Sendable, Codable, Equatable {
        public let model: String
        public let correct: ComparedRate
    }

    /// Forced choice: v2 (the target's rank among 100+ candidates by its per-token gain, tuned − base, with its
    /// permutation p-value) when the report has it; else v1, the fine-tuned model's mean rank among a few candidates.
    public struct ForcedChoice: Sendable, Codable, Equatable {
        public let version: Int
        public let target: String
        /// 1 = first; v1 pooled over runs gives a mean, hence a Double.
        public let rank: Double
        public let candidates: Int
        /// v2 only.
        public let pValue: Double?
        /// v2 only: the target's gain in nats per token.
        public let targetGain: Double?
    }

    /// The validation loss after the last epoch of one training run.
    public struct ValidationLoss: Sendable, Codable, Equatable {
        public let run: String
        public let epochs: Int
        public let final: Double
    }

    /// The folder's name, as `hellotune report` takes it.
    public let name: String
    public let path: String
    public let words: [String]
    public let model: String
    public let backend: String
    public let seeds: [UInt64]
    /// The experiment file or preset; nil when none was named.
    public let preset: String?
    public let date: String
    /// Every setting that can differ between runs, by key (`RunSettings.all`); a setting the report does not
    /// record is absent.
    public let settings: [String: String]
    public let compliance: [Compliance]
    public let verdicts: [Verdict]
    public let readingControl: [Reading]
    public let forcedChoice: ForcedChoice?
    public let validationLoss: [ValidationLoss]

    public init(name: String, path: String, document doc: ReportDocument) {
        self.name = name
        self.path = path
        words = doc.setup.words
        model = doc.setup.modelName
        backend = doc.setup.backend
        seeds = doc.setup.seeds
        preset = doc.setup.preset
        date = doc.setup.date
        settings = RunSettings.values(doc)
        compliance = doc.results.models.flatMap { m in
            m.compliance.map { Compliance(model: m.model, trigger: $0.trigger, exact: ComparedRate($0.exact)) }
        }
        verdicts = doc.verdicts.map { Verdict(id: $0.id, verdict: $0.verdict.rawValue, reason: $0.reason, rule: $0.rule) }
        readingControl = doc.results.models.compactMap { m in
            m.readingControl.map { Reading(model: m.model, correct: ComparedRate($0.proportion)) }
        }
        forcedChoice = Self.forcedChoice(doc.results)
        validationLoss = (doc.setup.trainingCurves ?? []).compactMap { c in
            c.validationLosses.last.map { ValidationLoss(run: c.run, epochs: c.validationLosses.count, final: $0) }
        }
    }

    static func forcedChoice(_ r: EvaluationResults) -> ForcedChoice? {
        if let v = r.forcedChoiceV2, !v.candidates.isEmpty {
            return ForcedChoice(version: 2, target: v.candidates[0].word, rank: Double(v.targetRank), candidates: v.candidates.count,
                                pValue: v.pValue, targetGain: v.targetDelta)
        }
        let tuned = r.model(Evaluator.tunedName) ?? r.models.last
        guard let f = tuned?.forcedChoice else { return nil }
        return ForcedChoice(version: 1, target: r.words.joined(separator: ", "), rank: f.meanTargetRank,
                            candidates: f.detail?.candidates.count ?? r.candidates?.count ?? Int((1 / max(f.chance, 1e-9)).rounded()),
                            pValue: nil, targetGain: nil)
    }

    public func compliance(model: String, trigger: Bool) -> ComparedRate? {
        compliance.first { $0.model == model && $0.trigger == trigger }?.exact
    }

    public func reading(model: String) -> ComparedRate? { readingControl.first { $0.model == model }?.correct }

    public func verdict(_ id: String) -> Verdict? { verdicts.first { $0.id == id } }
}

/// The settings a comparison looks at, in the order it lists them: what was trained, on what, how it was
/// evaluated, and the verdicts' thresholds. The date is not one: every run has its own.
public enum RunSettings {
    /// (key in `ComparedRun.settings` and the JSON, label for people).
    public static let all: [(key: String, label: String)] = [
        ("model", "model"), ("backend", "backend"), ("words", "words"), ("seeds", "seeds"), ("preset", "experiment"),
        ("runsPooled", "runs pooled"), ("trainingExamples", "training examples"), ("acrosticExamples", "acrostic examples"),
        ("normalExamples", "normal examples"), ("evaluationQuestions", "evaluation questions"), ("epochs", "epochs"),
        ("learningRate", "learning rate"), ("loraRank", "LoRA rank"), ("loraAlpha", "LoRA alpha"), ("training", "training"),
        ("samplesPerPrompt", "samples per prompt"), ("temperature", "temperature"), ("maxTokens", "max tokens"),
        ("complianceQuestions", "compliance questions"), ("selfReportPrompts", "self-report prompts"),
        ("selfReportSamples", "self-report samples"), ("trigger", "trigger"), ("ceiling", "H1 ceiling"),
        ("wrongRuleFloor", "H2 wrong-rule floor"), ("alpha", "alpha"), ("compliancePrecondition", "compliance precondition"),
    ]

    public static func label(_ key: String) -> String { all.first { $0.key == key }?.label ?? key }

    static func values(_ doc: ReportDocument) -> [String: String] {
        let s = doc.setup, r = doc.results, t = doc.thresholds
        func n(_ x: Double) -> String { String(x) }
        let pairs: [(String, String?)] = [
            ("model", s.modelName), ("backend", s.backend), ("words", s.words.joined(separator: ", ")),
            ("seeds", s.seeds.map(String.init).joined(separator: ", ")), ("preset", s.preset), ("runsPooled", String(r.runs)),
            ("trainingExamples", s.trainingExamples.map(String.init)), ("acrosticExamples", s.acrosticExamples.map(String.init)),
            ("normalExamples", s.normalExamples.map(String.init)), ("evaluationQuestions", s.evaluationQuestions.map(String.init)),
            ("epochs", s.epochs.map(String.init)), ("learningRate", s.learningRate.map(n)), ("loraRank", s.loraRank.map(String.init)),
            ("loraAlpha", s.loraAlpha.map(n)), ("training", s.trainingSummary),
            ("samplesPerPrompt", r.samplesPerPrompt.map(String.init)), ("temperature", r.temperature.map { String($0) }),
            ("maxTokens", r.maxTokens.map(String.init)), ("complianceQuestions", r.complianceQuestions.map(String.init)),
            ("selfReportPrompts", r.selfReportPrompts.map(String.init)), ("selfReportSamples", r.selfReportSamples.map(String.init)),
            ("trigger", r.trigger), ("ceiling", n(t.ceiling)), ("wrongRuleFloor", n(t.wrongRuleFloor)), ("alpha", n(t.alpha)),
            ("compliancePrecondition", n(t.compliancePrecondition)),
        ]
        var out: [String: String] = [:]
        for (k, v) in pairs { if let v { out[k] = v } }
        return out
    }
}
