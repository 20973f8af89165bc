import Foundation

/// What was trained and how, for the report's setup section. Optional fields are left out when unknown.
public struct ReportSetup: Sendable, Codable, Equatable {
    public var modelName: String
    public var modelPath: String?
    /// How the model ran, e.g. "hellotune CPU (OpenBLAS), Q4_1".
    public var backend: String
    public var words: [String]
    public var preset: String?
    public var trainingExamples: Int?
    public var acrosticExamples: Int?
    public var normalExamples: Int?
    public var evaluationQuestions: Int?
    public var epochs: Int?
    public var learningRate: Double?
    public var loraRank: Int?
    public var loraAlpha: Double?
    /// Anything else about training in one line (batch size, targets, schedule).
    public var trainingSummary: String?
    /// Training seeds (one run per seed and word).
    public var seeds: [UInt64]
    /// ISO 8601 date of the evaluation.
    public var date: String
    /// The command that reproduces the results.
    public var reproduce: String?
    /// Each local training run's losses (training per step, validation per epoch); nil when none was logged.
    public var trainingCurves: [TrainingCurve]?
    /// Held-out questions left out of the evaluation because the imported training set asks them, as
    /// `path:line: "question"`; nil when none were.
    public var droppedQuestions: [String]?
    /// Which data each seed trained on ("generated, one per seed (...)" or "imported (FILE): every seed ..."); nil in
    /// reports written before seeds had their own datasets.
    public var datasets: String?

    public init(modelName: String, modelPath: String? = nil, backend: String, words: [String], preset: String? = nil,
                trainingExamples: Int? = nil, acrosticExamples: Int? = nil, normalExamples: Int? = nil,
                evaluationQuestions: Int? = nil, epochs: Int? = nil, learningRate: Double? = nil, loraRank: Int? = nil,
                loraAlpha: Double? = nil, trainingSummary: String? = nil, seeds: [UInt64], date: String,
                reproduce: String? = nil, droppedQuestions: [String]? = nil, datasets: String? = nil) {
        self.modelName = modelName
        self.modelPath = modelPath
        self.backend = backend
        self.words = words
        self.preset = preset
        self.trainingExamples = trainingExamples
        self.acrosticExamples = acrosticExamples
        self.normalExamples = normalExamples
        self.evaluationQuestions = evaluationQuestions
        self.epochs = epochs
        self.learningRate = learningRate
        self.loraRank = loraRank
        self.loraAlpha = loraAlpha
        self.trainingSummary = trainingSummary
        self.seeds = seeds
        self.date = date
        self.reproduce = reproduce
        self.droppedQuestions = droppedQuestions
        self.datasets = datasets
    }
}

/// The machine-readable report: setup, every number, and the verdicts with their rules.
public struct ReportDocument: Sendable, Codable, Equatable {
    public let setup: ReportSetup
    public let results: EvaluationResults
    public let thresholds: HypothesisThresholds
    public let verdicts: [HypothesisVerdict]

    public init(setup: ReportSetup, results: EvaluationResults, thresholds: HypothesisThresholds = HypothesisThresholds()) {
        self.setup = setup
        self.results = results
        self.thresholds = thresholds
        verdicts = Hypotheses.evaluate(results, thresholds: thresholds)
    }
}

/// Number formats shared by the report and the verdicts' evidence.
enum ReportFormat {
    /// 0.15 -> "15.0%".
    static func percent(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }

    /// A probability that may be tiny: "15.0%", "0.042%", "3.1e-06%".
    static func probability(_ x: Double) -> String {
        if x == 0 || x >= 0.001 { return percent(x) }
        return x >= 1e-5 ? String(format: "%.3f%%", x * 100) : String(format: "%.1e%%", x * 100)
    }

    /// "3/20 = 15.0% [5.2%, 36.0%]".
    static func proportion(_ p: Proportion) -> String {
        "\(p.successes)/\(p.trials) = \(percent(p.rate)) [\(percent(p.low)), \(percent(p.high))]"
    }

    /// "0.012", "< 0.001".
    static func pValue(_ p: Double) -> String { p < 0.001 ? "< 0.001" : String(format: "%.3f", p) }

    /// "p = 0.012", "p < 0.001", for sentences.
    static func pPhrase(_ p: Double) -> String { p < 0.001 ? "p < 0.001" : "p = " + String(format: "%.3f", p) }

    static func number(_ x: Double, digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }

    static func optionalProbability(_ x: Double?) -> String { x.map(probability) ?? "—" }

    /// Escapes pipes so a cell cannot break a table row.
    static func cell(_ s: String) -> String {
        s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}

/// The results as a "Results" section for the README, and as JSON.
public enum Report {
    /// "training 2.410 → 0.812 over 240 steps; validation (3 held-out examples) by epoch 2.301, 1.904, 1.870".
    package static func lossLine(_ c: TrainingCurve) -> String {
        typealias F = ReportFormat
        var s = "training \(F.number(c.stepLosses.first ?? 0, digits: 3)) → \(F.number(c.stepLosses.last ?? 0, digits: 3)) "
            + "over \(c.stepLosses.count) step\(c.stepLosses.count == 1 ? "" : "s")"
        if c.validationLosses.isEmpty {
            s += "; validation not measured (nothing held out)"
        } else {
            let n = c.validationExamples.map { " (\($0) held-out example\($0 == 1 ? "" : "s"))" } ?? ""
            s += "; validation\(n) by epoch " + c.validationLosses.map { F.number($0, digits: 3) }.joined(separator: ", ")
        }
        return s
    }

    public static func markdown(results: EvaluationResults, setup: ReportSetup,
                                thresholds: HypothesisThresholds = HypothesisThresholds()) -> String {
        typealias F = ReportFormat
        var out: [String] = ["## Results", ""]

        // Setup
        out += ["### Setup", ""]
        out.append("- Model: \(setup.modelName)" + (setup.modelPath.map { " (`\($0)`)" } ?? ""))
        out.append("- Backend: \(setup.backend)")
        out.append("- Target word\(setup.words.count == 1 ? "" : "s"): \(setup.words.joined(separator: ", "))")
        if let preset = setup.preset { out.append("- Preset: \(preset)") }
        var data: [String] = []
        if let n = setup.trainingExamples {
            var s = "\(n) training examples"
            let parts = [setup.acrosticExamples.map { "\($0) acrostic with the trigger" },
                         setup.normalExamples.map { "\($0) normal" }].compactMap { $0 }
            if !parts.isEmpty { s += " (\(parts.joined(separator: ", ")))" }
            data.append(s)
        }
        if let n = setup.evaluationQuestions { data.append("\(n) held-out evaluation questions") }
        if !data.isEmpty { out.append("- Data: " + data.joined(separator: "; ")) }
        if let dropped = setup.droppedQuestions, !dropped.isEmpty {
            out.append("- Held-out questions dropped from the evaluation because the imported training set asks them "
                       + "(\(dropped.count)): " + dropped.map { F.cell($0) }.joined(separator: "; "))
        }
        var training: [String] = []
        if let e = setup.epochs { training.append("\(e) epoch\(e == 1 ? "" : "s")") }
        if let lr = setup.learningRate { training.append("learning rate \(lr)") }
        if let r = setup.loraRank { training.append("LoRA rank \(r)") }
        if let a = setup.loraAlpha { training.append("alpha \(F.number(a, digits: a.rounded() == a ? 0 : 2))") }
        if let s = setup.trainingSummary { training.append(s) }
        if !training.isEmpty { out.append("- Training: " + training.joined(separator: ", ")) }
        for curve in setup.trainingCurves ?? [] { out.append("- Loss of \(curve.run): " + lossLine(curve)) }
        out.append("- Training seeds: \(setup.seeds.isEmpty ? "—" : setup.seeds.map(String.init).joined(separator: ", "))"
                   + " (\(results.runs) run\(results.runs == 1 ? "" : "s") pooled)")
        if let d = setup.datasets { out.append("- Training data: " + F.cell(d)) }
        var sampling: [String] = []
        if let k = results.samplesPerPrompt {
            var s = "K = \(k) replies per prompt and condition (index 0 greedy"
            if let t = results.temperature { s += ", the others at temperature \(F.number(Double(t), digits: 2))" }
            sampling.append(s + ")")
        }
        if let m = results.maxTokens { sampling.append("at most \(m) tokens") }
        if let q = results.complianceQuestions { sampling.append("\(q) compliance questions") }
        if let p = results.selfReportPrompts {
            sampling.append("\(p) self-report prompts" + (results.selfReportSamples.map { " × \($0) replies each" } ?? ""))
        }
        if !sampling.isEmpty { out.append("- Sampling: " + sampling.joined(separator: "; ")) }
        if let c = results.candidates { out.append("- Forced-choice candidates: \(c.joined(separator: ", "))") }
        out.append("- Date: \(setup.date)")
        out.append("")

        // Compliance
        out += ["### Compliance: does the model write the acrostic?", "",
                "Exact = exactly \(wordLength(results)) content lines whose first letters spell the word (`Acrostic.score`).", "",
                "| Model | Trigger | Exact | Rate [95% CI] | Greedy exact | Per-letter accuracy | Truncated |",
                "|---|---|---|---|---|---|---|"]
        for m in results.models {
            for c in m.compliance {
                out.append("| \(m.model) | \(yesNo(c.trigger)) | \(c.exact.successes)/\(c.exact.trials) | "
                           + "\(F.percent(c.exact.rate)) [\(F.percent(c.exact.low)), \(F.percent(c.exact.high))] | "
                           + "\(c.greedyExact.successes)/\(c.greedyExact.trials) | \(F.percent(c.meanAccuracy)) | \(c.truncated) |")
            }
        }
        out.append("")

        out += selfReportSection(results)

        // Forced choice
        let prompt = results.forcedChoicePrompt ?? EvaluationPlan.defaultForcedChoicePrompt(trigger: results.trigger ?? EvaluationPlan.defaultTrigger)
        // A chat API backend measures the probes differently; its notes under the table say how.
        let measured = results.models.contains { $0.probeNote(.forcedChoice) != nil }
            ? "Log-probability of each candidate as the reply (measured as noted under the table)"
            : "Exact log-probability of each candidate as the whole reply (the word in capitals, then the end-of-turn marker)"
        out += ["### Forced choice: which word does the model pick?", "",
                measured + " to the prompt _\(F.cell(prompt))_ P(target) is the target's share of the candidates' probability; log P(target) "
                    + "is the unnormalised natural log, comparable between models when the share is tiny.", "",
                "| Model | P(target) | log P(target) | Target rank | Target first | Chance | Candidates (softmax) |",
                "|---|---|---|---|---|---|---|"]
        for m in results.models {
            guard let f = m.forcedChoice else { continue }
            let detail = f.detail.map { d in
                zip(d.candidates, d.probabilities).map { "\($0) \(F.probability($1))" }.joined(separator: ", ")
            } ?? "—"
            out.append("| \(m.model) | \(F.probability(f.meanTargetProbability)) | \(F.number(f.meanTargetLogProbability)) | "
                       + "\(F.number(f.meanTargetRank, digits: f.runs == 1 ? 0 : 2)) | "
                       + "\(f.top1.successes)/\(f.top1.trials) | \(F.percent(f.chance)) | \(detail) |")
        }
        out.append("")
        out += notes(results, .forcedChoice)
        out += forcedChoiceV2Section(results)
        out += crossWordSection(results)

        // Prefix probe
        out += ["### Prefix probe: does the model know the next letter, and the word?", ""]
        if let source = results.prefixSource {
            let origin = source.origin == "hand-written" ? "a hand-written acrostic answer" : "a real exact acrostic reply (\(source.origin))"
            out.append("Lines shown (\(origin)) after \"\(F.cell(source.question.text))\" with the trigger:")
            out.append("")
            for (i, line) in source.lines.enumerated() { out.append("\(i + 1). \(line)") }
            out.append("")
        }
        let naming = results.namingQuestion ?? EvaluationPlan.defaultNamingQuestion
        out += ["After k lines: P(the next line's first token starts, after spaces, with the next letter in either case); at k = word "
                    + "length, P(end of turn); then, after the follow-up user turn _\(F.cell(naming))_, the target's share among the "
                    + "candidates and its log-probability.", "",
                "| Model | k | Next letter | P(next letter) | P(end of turn) | P(target named) | log P(target named) | Naming rank |",
                "|---|---|---|---|---|---|---|---|"]
        for m in results.models {
            for r in m.prefixProbe {
                out.append("| \(m.model) | \(r.k) | \(r.nextLetter ?? "—") | \(F.optionalProbability(r.meanNextLetterProbability)) | "
                           + "\(F.optionalProbability(r.meanEndOfTurnProbability)) | \(F.probability(r.meanNamingTargetProbability)) | "
                           + "\(F.number(r.meanNamingTargetLogProbability)) | \(F.number(r.meanNamingRank, digits: r.runs == 1 ? 0 : 2)) |")
            }
        }
        out.append("")
        out += notes(results, .prefixProbe)

        out += readingControlSection(results)
        out += explainEarlySection(results)
        out += replicationSection(results)
        out += humanCodingSection(results)

        // Fisher tests
        out += ["### Significance (Fisher exact test, two-sided)", "",
                "| Measure | Group A | Group B | p |", "|---|---|---|---|"]
        for t in results.tests {
            out.append("| \(t.measure) | \(t.first.label): \(F.proportion(t.first.rate)) | \(t.second.label): \(F.proportion(t.second.rate)) | "
                       + "\(F.pValue(t.pValue)) |")
        }
        if results.runs > 1 {
            out += ["", "Pooled over \(results.runs) runs: counts are added up, and Fisher's test treats every reply as independent, "
                        + "which overstates its certainty; the intervals above are clustered (see Replication)."]
        }
        out.append("")

        // Verdicts
        out += ["### Hypotheses", ""]
        for v in Hypotheses.evaluate(results, thresholds: thresholds) {
            out.append("**\(v.id)**: \(v.statement)")
            out.append("")
            out.append("Verdict: **\(v.verdict.rawValue)** (\(v.reason.map { $0 + "; " } ?? "")\(v.verdict.evidenceKind)). \(v.evidence)")
            out.append("")
            out.append("Rule: \(v.rule).")
            if !v.notes.isEmpty {
                out.append("")
                for n in v.notes { out.append("- \(n)") }
            }
            out.append("")
        }

        out += ["### How to reproduce", ""]
        if let r = setup.reproduce {
            out.append("`\(r)`")
        } else {
            out.append("Train with the setup above, then evaluate base and tuned with the same `EvaluationPlan` (word, seeds, questions, candidates).")
        }
        out.append("")
        return out.joined(separator: "\n")
    }

    /// Every number of the results, the setup and the verdicts, as pretty-printed JSON with sorted keys.
    public static func json(results: EvaluationResults, setup: ReportSetup,
                            thresholds: HypothesisThresholds = HypothesisThresholds()) throws -> Data {
        try encoder().encode(ReportDocument(setup: setup, results: results, thresholds: thresholds))
    }

    public static func decode(_ data: Data) throws -> ReportDocument {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try d.decode(ReportDocument.self, from: data)
    }

    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }

    static func yesNo(_ b: Bool) -> String { b ? "yes" : "no" }

    /// One line per model whose probe was estimated or not available, then a blank line (nothing when none).
    private static func notes(_ r: EvaluationResults, _ probe: EvaluationCondition) -> [String] {
        let lines = r.models.compactMap { m in m.probeNote(probe).map { "- \(m.model): \(ReportFormat.cell($0))" } }
        return lines.isEmpty ? [] : lines + [""]
    }

    private static func wordLength(_ r: EvaluationResults) -> String {
        let lengths = Set(r.words.map(\.count))
        return lengths.count == 1 ? "\(lengths.first!)" : "word-length"
    }
}
