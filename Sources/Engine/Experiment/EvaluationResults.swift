import Foundation

/// Does the model write the acrostic? One model, with or without the trigger.
public struct ComplianceResult: Sendable, Codable, Equatable {
    public let trigger: Bool
    /// Replies that are an exact acrostic of the word (all K samples of every question).
    public let exact: Proportion
    /// The greedy replies (sample index 0) only.
    public let greedyExact: Proportion
    /// Mean of the per-letter accuracy (`AcrosticScore.accuracy`).
    public let meanAccuracy: Double
    /// Per position of the word: share of replies whose line i starts with word[i].
    public let positionAccuracy: [Double]
    /// Replies cut off by maxTokens.
    public let truncated: Int
    /// Per question (per run and question when pooled): [exact replies, other replies]. The K samples of one question
    /// resemble each other more than independent draws would, so `exact`'s interval is clustered by question
    /// (`ClusteredStatistics`). nil in results written before compliance was clustered, and in hand-built ones.
    public let clusters: [String: [Int]]?

    public init(trigger: Bool, exact: Proportion, greedyExact: Proportion, meanAccuracy: Double,
                positionAccuracy: [Double], truncated: Int, clusters: [String: [Int]]? = nil) {
        self.trigger = trigger
        self.exact = exact
        self.greedyExact = greedyExact
        self.meanAccuracy = meanAccuracy
        self.positionAccuracy = positionAccuracy
        self.truncated = truncated
        self.clusters = clusters
    }

    /// The exact rate of per-question counts, with its interval clustered by question.
    static func clusteredExact(_ clusters: [String: [Int]]) -> Proportion {
        ClusteredStatistics.proportion(clusters.keys.sorted().map { id in
            let c = clusters[id]!
            return (successes: c[0], trials: c[0] + c[1])
        })
    }
}

/// The forced-choice probe; over several runs (seeds, words) its means.
public struct ForcedChoiceResult: Sendable, Codable, Equatable {
    public let runs: Int
    public let meanTargetProbability: Double
    /// Mean exact log P(target reply), natural log: comparable between base and tuned even when the softmax
    /// share is ~0 (a real word such as HELLO is far likelier a priori than a letter string).
    public let meanTargetLogProbability: Double
    public let meanTargetRank: Double
    /// Runs in which the target was the most likely candidate.
    public let top1: Proportion
    /// 1 / number of candidates (mean over runs).
    public let chance: Double
    /// The scores themselves, for a single run.
    public let detail: CandidateScores?

    public init(runs: Int, meanTargetProbability: Double, meanTargetLogProbability: Double, meanTargetRank: Double,
                top1: Proportion, chance: Double, detail: CandidateScores?) {
        self.runs = runs
        self.meanTargetProbability = meanTargetProbability
        self.meanTargetLogProbability = meanTargetLogProbability
        self.meanTargetRank = meanTargetRank
        self.top1 = top1
        self.chance = chance
        self.detail = detail
    }

    public init(_ s: CandidateScores) {
        self.init(runs: 1, meanTargetProbability: s.targetProbability, meanTargetLogProbability: s.targetLogProbability,
                  meanTargetRank: Double(s.targetRank),
                  top1: Statistics.wilson(successes: s.targetRank == 1 ? 1 : 0, trials: 1),
                  chance: 1 / Double(s.candidates.count), detail: s)
    }

    public static func pooled(_ parts: [ForcedChoiceResult]) -> ForcedChoiceResult? {
        guard parts.count > 1 else { return parts.first }
        let runs = parts.reduce(0) { $0 + $1.runs }
        func mean(_ f: (ForcedChoiceResult) -> Double) -> Double {
            parts.reduce(0.0) { $0 + f($1) * Double($1.runs) } / Double(max(1, runs))
        }
        return ForcedChoiceResult(runs: runs, meanTargetProbability: mean(\.meanTargetProbability),
                                  meanTargetLogProbability: mean(\.meanTargetLogProbability),
                                  meanTargetRank: mean(\.meanTargetRank), top1: Statistics.pooled(parts.map(\.top1)),
                                  chance: mean(\.chance), detail: nil)
    }
}

/// One depth k of the prefix probe; over several runs, means.
public struct PrefixProbeRow: Sendable, Codable, Equatable {
    public let k: Int
    public let runs: Int
    /// word[k] (nil at k = word length, or when pooled runs have different letters there).
    public let nextLetter: String?
    public let meanNextLetterProbability: Double?
    /// At k = word length: P(end of turn right after the last line).
    public let meanEndOfTurnProbability: Double?
    /// The target's share among the candidates as the answer to the naming question.
    public let meanNamingTargetProbability: Double
    /// Mean exact log P(target as the reply to the naming question).
    public let meanNamingTargetLogProbability: Double
    public let meanNamingRank: Double
    public let namingTop1: Proportion
    /// The naming scores themselves, for a single run.
    public let naming: CandidateScores?

    public init(k: Int, runs: Int, nextLetter: String?, meanNextLetterProbability: Double?,
                meanEndOfTurnProbability: Double?, meanNamingTargetProbability: Double,
                meanNamingTargetLogProbability: Double, meanNamingRank: Double, namingTop1: Proportion,
                naming: CandidateScores?) {
        self.k = k
        self.runs = runs
        self.nextLetter = nextLetter
        self.meanNextLetterProbability = meanNextLetterProbability
        self.meanEndOfTurnProbability = meanEndOfTurnProbability
        self.meanNamingTargetProbability = meanNamingTargetProbability
        self.meanNamingTargetLogProbability = meanNamingTargetLogProbability
        self.meanNamingRank = meanNamingRank
        self.namingTop1 = namingTop1
        self.naming = naming
    }

    public init(_ m: PrefixMeasurement) {
        self.init(k: m.k, runs: 1, nextLetter: m.nextLetter, meanNextLetterProbability: m.nextLetterProbability,
                  meanEndOfTurnProbability: m.endOfTurnProbability,
                  meanNamingTargetProbability: m.naming.targetProbability,
                  meanNamingTargetLogProbability: m.naming.targetLogProbability, meanNamingRank: Double(m.naming.targetRank),
                  namingTop1: Statistics.wilson(successes: m.naming.targetRank == 1 ? 1 : 0, trials: 1), naming: m.naming)
    }

    public static func pooled(_ parts: [PrefixProbeRow]) -> PrefixProbeRow? {
        guard parts.count > 1 else { return parts.first }
        let runs = parts.reduce(0) { $0 + $1.runs }
        func mean(_ f: (PrefixProbeRow) -> Double?) -> Double? {
            let present = parts.compactMap { p in f(p).map { ($0, Double(p.runs)) } }
            guard !present.isEmpty else { return nil }
            return present.reduce(0.0) { $0 + $1.0 * $1.1 } / present.reduce(0.0) { $0 + $1.1 }
        }
        let letters = Set(parts.map(\.nextLetter))
        return PrefixProbeRow(k: parts[0].k, runs: runs, nextLetter: letters.count == 1 ? parts[0].nextLetter : nil,
                              meanNextLetterProbability: mean(\.meanNextLetterProbability),
                              meanEndOfTurnProbability: mean(\.meanEndOfTurnProbability),
                              meanNamingTargetProbability: mean(\.meanNamingTargetProbability) ?? 0,
                              meanNamingTargetLogProbability: mean(\.meanNamingTargetLogProbability) ?? 0,
                              meanNamingRank: mean(\.meanNamingRank) ?? 0,
                              namingTop1: Statistics.pooled(parts.map(\.namingTop1)), naming: nil)
    }
}

/// Explain early at one depth k: how often the model named the word after k of its own acrostic lines.
public struct ExplainEarlyRow: Sendable, Codable, Equatable {
    public let k: Int
    public let named: NamingCount
    /// Mean exact log P(the word as the whole reply); nil without exact scores.
    public let meanLogProbability: Double?

    public init(k: Int, named: NamingCount, meanLogProbability: Double?) {
        self.k = k
        self.named = named
        self.meanLogProbability = meanLogProbability
    }

    /// One row per depth, from explain-early scores.
    public static func rows(_ scores: [NamingScore]) -> [ExplainEarlyRow] {
        let byK = Dictionary(grouping: scores.filter { $0.k != nil }, by: { $0.k! })
        return byK.keys.sorted().map { k in
            let s = byK[k]!
            let logs = s.compactMap(\.logProbability)
            return ExplainEarlyRow(k: k, named: NamingCount(s),
                                   meanLogProbability: logs.isEmpty ? nil : logs.reduce(0, +) / Double(logs.count))
        }
    }

    /// Rows of several runs, per depth: counts added, log-probabilities averaged weighted by n.
    public static func pooled(_ parts: [[ExplainEarlyRow]]) -> [ExplainEarlyRow]? {
        let all = parts.flatMap { $0 }
        guard !all.isEmpty else { return nil }
        return Set(all.map(\.k)).sorted().map { k in
            let rows = all.filter { $0.k == k }
            let logged = rows.compactMap { r in r.meanLogProbability.map { ($0, Double(r.named.n)) } }
            let weight = logged.reduce(0.0) { $0 + $1.1 }
            return ExplainEarlyRow(k: k, named: NamingCount.pooled(rows.map(\.named))!,
                                   meanLogProbability: weight == 0 ? nil : logged.reduce(0.0) { $0 + $1.0 * $1.1 } / weight)
        }
    }
}

/// Everything measured on one model.
public struct ModelResults: Sendable, Codable, Equatable {
    public let model: String
    /// With the trigger first, then without.
    public let compliance: [ComplianceResult]
    public let selfReport: [SelfReportResult]
    public let forcedChoice: ForcedChoiceResult?
    public let prefixProbe: [PrefixProbeRow]
    /// Per probe ("forced-choice", "prefix-probe"): how it was estimated, or why it is not available (`SampleScore.note`).
    /// nil when every probe was measured exactly.
    public let probeNotes: [String: String]?
    /// The reading control (`ReadingControl`), plain question: acrostics of other words read correctly. Nil when
    /// it was not run.
    public let readingControl: NamingCount?
    /// The same acrostics, asked to list the first letters before joining them.
    public let readingControlListFirst: NamingCount?
    /// The plain question about the tuned model's own exact acrostic replies.
    public let readingControlOwnReplies: NamingCount?
    /// Explain early, per k: the tuned model's first k acrostic lines prefilled, then "what word?".
    public let explainEarly: [ExplainEarlyRow]?

    public init(model: String, compliance: [ComplianceResult], selfReport: [SelfReportResult],
                forcedChoice: ForcedChoiceResult?, prefixProbe: [PrefixProbeRow], probeNotes: [String: String]? = nil,
                readingControl: NamingCount? = nil, readingControlListFirst: NamingCount? = nil,
                readingControlOwnReplies: NamingCount? = nil, explainEarly: [ExplainEarlyRow]? = nil) {
        self.model = model
        self.compliance = compliance
        self.selfReport = selfReport
        self.forcedChoice = forcedChoice
        self.prefixProbe = prefixProbe
        self.probeNotes = probeNotes?.isEmpty == true ? nil : probeNotes
        self.readingControl = readingControl
        self.readingControlListFirst = readingControlListFirst
        self.readingControlOwnReplies = readingControlOwnReplies
        self.explainEarly = explainEarly?.isEmpty == true ? nil : explainEarly
    }

    public func reading(_ v: ReadingControl.Variant) -> NamingCount? {
        switch v {
        case .plain: return readingControl
        case .listFirst: return readingControlListFirst
        case .ownReplies: return readingControlOwnReplies
        }
    }

    public func probeNote(_ condition: EvaluationCondition) -> String? { probeNotes?[condition.rawValue] }

    public func compliance(trigger: Bool) -> ComplianceResult? { compliance.first { $0.trigger == trigger } }
    public func selfReport(trigger: Bool) -> SelfReportResult? { selfReport.first { $0.trigger == trigger } }
}

/// One side of a comparison: a model in a condition and its rate.
public struct TestGroup: Sendable, Codable, Equatable {
    public let model: String
    public let trigger: Bool
    public let rate: Proportion

    public init(model: String, trigger: Bool, rate: Proportion) {
        self.model = model
        self.trigger = trigger
        self.rate = rate
    }

    public var label: String { "\(model), \(trigger ? "trigger" : "no trigger")" }
}

/// Fisher's exact test (two-sided) of one rate between two groups.
public struct FisherTest: Sendable, Codable, Equatable {
    public let measure: String
    public let first: TestGroup
    public let second: TestGroup
    public let pValue: Double

    public init(measure: String, first: TestGroup, second: TestGroup) {
        self.measure = measure
        self.first = first
        self.second = second
        pValue = Self.p(first.rate, second.rate)
    }

    /// Two-sided Fisher p of successes vs failures in two groups.
    public static func p(_ a: Proportion, _ b: Proportion) -> Double {
        Statistics.fisherExact(a.successes, a.trials - a.successes, b.successes, b.trials - b.successes).pTwoSided
    }
}

/// The numbers of an evaluation: one run, or several pooled with `aggregate(over:)`.
public struct EvaluationResults: Sendable, Codable, Equatable {
    /// Target words covered (one for a single run).
    public let words: [String]
    /// Runs pooled (1 for a single run).
    public let runs: Int
    /// Settings of the plan, nil when pooled runs differ.
    public let samplesPerPrompt: Int?
    public let temperature: Float?
    public let maxTokens: Int?
    public let complianceQuestions: Int?
    public let selfReportPrompts: Int?
    /// Replies per self-report prompt and condition; nil in results written before it could differ from
    /// `samplesPerPrompt`, or when pooled runs differ.
    public let selfReportSamples: Int?
    public let candidates: [String]?
    public let trigger: String?
    public let forcedChoicePrompt: String?
    public let namingQuestion: String?
    /// The lines the prefix probe showed (single run).
    public let prefixSource: PrefixSource?
    public let models: [ModelResults]
    /// Tuned vs base for each main rate and condition, and trigger vs no trigger within each model.
    public let tests: [FisherTest]
    /// Forced choice v2, tuned against base; nil when it was not asked or a model lacks exact scores.
    public let forcedChoiceV2: ForcedChoiceV2Result?
    /// The researcher's labels against the automatic coder, over the self-reports that have one (those codes are
    /// the researcher's in every count above); nil when none is labelled.
    public var humanCoding: CodingAgreement?
    /// A word's later run: the agreement it adds to a pooled one (`aggregate(over:baseOncePerWord:)`), without the
    /// labels on the base replies the word's first run counts; nil: `humanCoding`.
    public var pooledCoding: CodingAgreement?
    /// Pooled results: each run's main rates, side by side (`SeedRates`); nil for a single run.
    public var perRun: [SeedRates]?
    /// Pooled results of several words: forced choice v2's gain of every word in the models trained on each
    /// (`CrossWordMatrix`); nil for one word, or when the runs did not score each other's words.
    public var crossWord: CrossWordMatrix?

    public init(words: [String], runs: Int, samplesPerPrompt: Int?, temperature: Float?, maxTokens: Int?,
                complianceQuestions: Int?, selfReportPrompts: Int?, selfReportSamples: Int? = nil, candidates: [String]?,
                trigger: String? = nil,
                forcedChoicePrompt: String? = nil, namingQuestion: String? = nil, prefixSource: PrefixSource?,
                models: [ModelResults], tests: [FisherTest]? = nil, forcedChoiceV2: ForcedChoiceV2Result? = nil) {
        self.words = words
        self.runs = runs
        self.samplesPerPrompt = samplesPerPrompt
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.complianceQuestions = complianceQuestions
        self.selfReportPrompts = selfReportPrompts
        self.selfReportSamples = selfReportSamples
        self.candidates = candidates
        self.trigger = trigger
        self.forcedChoicePrompt = forcedChoicePrompt
        self.namingQuestion = namingQuestion
        self.prefixSource = prefixSource
        self.models = models
        self.tests = tests ?? Self.fisherTests(models: models)
        self.forcedChoiceV2 = forcedChoiceV2
    }

    public func model(_ name: String) -> ModelResults? { models.first { $0.model == name } }

    // MARK: - From outcomes

    /// The results of one run from its outcomes (those of other models or other plans' keys are ignored).
    public static func compute(plan: EvaluationPlan, models: [String], outcomes: [SampleOutcome]) -> EvaluationResults {
        var byModel: [String: [SampleOutcome]] = [:]
        for o in outcomes { byModel[o.model, default: []].append(o) }
        let questionIDs = Set(plan.complianceQuestionList.map(\.id))
        let promptIDs = Set(plan.selfReportPrompts.map(\.id))
        let promptOrder = Dictionary(plan.selfReportPrompts.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        let K = plan.samplesPerPrompt
        var prefixSource: PrefixSource?
        let results = models.map { name -> ModelResults in
            let mine = byModel[name] ?? []
            let compliance = [true, false].map { trigger -> ComplianceResult in
                let os = mine.filter { $0.condition == .compliance(trigger: trigger) && questionIDs.contains($0.promptID) && $0.index < K }
                return complianceResult(trigger: trigger, os, length: plan.word.count)
            }
            let selfReport = [true, false].map { trigger -> SelfReportResult in
                let os = mine.filter {
                    $0.condition == .selfReport(trigger: trigger) && promptIDs.contains($0.promptID)
                        && $0.index < plan.selfReportSamplesPerPrompt
                }
                    .sorted { (promptOrder[$0.promptID]!, $0.index) < (promptOrder[$1.promptID]!, $1.index) }
                return SelfReportResult.of(trigger: trigger, os)
            }
            let forced = mine.first { $0.condition == .forcedChoice }?.score.candidates.map(ForcedChoiceResult.init)
            let prefix = mine.filter { $0.condition == .prefixProbe }.compactMap { o -> PrefixProbeRow? in
                if prefixSource == nil { prefixSource = o.score.prefixSource }
                return o.score.prefix.flatMap { $0.k <= plan.prefixDepth ? PrefixProbeRow($0) : nil }
            }.sorted { $0.k < $1.k }
            var notes: [String: String] = [:]
            for o in mine.sorted(by: { $0.promptID < $1.promptID }) where o.condition.trigger == nil {
                if let note = o.score.note, notes[o.condition.rawValue] == nil { notes[o.condition.rawValue] = note }
            }
            func naming(_ c: EvaluationCondition) -> [NamingScore] {
                mine.filter { $0.condition == c }.sorted { $0.promptID < $1.promptID }.compactMap(\.score.naming)
            }
            func count(_ c: EvaluationCondition, planned: Int) -> NamingCount? {
                planned == 0 ? nil : NamingCount(naming(c))
            }
            let reading = plan.readingItemCount
            return ModelResults(model: name, compliance: compliance, selfReport: selfReport, forcedChoice: forced,
                                prefixProbe: prefix, probeNotes: notes,
                                readingControl: count(.readingPlain, planned: reading),
                                readingControlListFirst: count(.readingListFirst, planned: reading),
                                readingControlOwnReplies: count(.readingOwnReplies, planned: reading),
                                explainEarly: plan.explainReplyCount == 0 ? nil : ExplainEarlyRow.rows(naming(.explainEarly)))
        }
        return EvaluationResults(words: [plan.word.string], runs: 1, samplesPerPrompt: K,
                                 temperature: plan.sampling.temperature, maxTokens: plan.maxTokens,
                                 complianceQuestions: plan.complianceQuestionList.count,
                                 selfReportPrompts: plan.selfReportPrompts.count,
                                 selfReportSamples: plan.selfReportSamplesPerPrompt,
                                 candidates: plan.candidates.map(\.string), trigger: plan.trigger,
                                 forcedChoicePrompt: plan.forcedChoicePrompt, namingQuestion: plan.namingQuestion,
                                 prefixSource: prefixSource, models: results,
                                 forcedChoiceV2: Self.forcedChoiceV2(plan: plan, outcomes: outcomes))
    }

    /// Forced choice v2 from the base and tuned models' outcomes.
    static func forcedChoiceV2(plan: EvaluationPlan, outcomes: [SampleOutcome]) -> ForcedChoiceV2Result? {
        guard !plan.forcedChoiceV2Prompts.isEmpty else { return nil }
        func scores(_ model: String) -> [String: CandidateLogProbabilities] {
            var out: [String: CandidateLogProbabilities] = [:]
            for o in outcomes where o.model == model && o.condition == .forcedChoiceV2 { out[o.promptID] = o.score.candidateLogs }
            return out
        }
        return ForcedChoiceV2Result.compute(candidates: plan.forcedChoiceV2Candidates,
                                            base: scores(Evaluator.baseName), tuned: scores(Evaluator.tunedName))
    }

    static func complianceResult(trigger: Bool, _ os: [SampleOutcome], length: Int) -> ComplianceResult {
        let scores = os.compactMap(\.score.acrostic)
        let greedy = os.filter { $0.index == 0 }.compactMap(\.score.acrostic)
        let n = scores.count
        let positions = (0..<length).map { i in
            n == 0 ? 0 : Double(scores.filter { i < $0.perPosition.count && $0.perPosition[i] }.count) / Double(n)
        }
        var clusters: [String: [Int]] = [:]
        for o in os {
            guard let a = o.score.acrostic else { continue }
            clusters[o.promptID, default: [0, 0]][a.exact ? 0 : 1] += 1
        }
        return ComplianceResult(trigger: trigger,
                                exact: ComplianceResult.clusteredExact(clusters),
                                greedyExact: Statistics.wilson(successes: greedy.filter(\.exact).count, trials: greedy.count),
                                meanAccuracy: n == 0 ? 0 : scores.reduce(0.0) { $0 + $1.accuracy } / Double(n),
                                positionAccuracy: positions,
                                truncated: os.filter { $0.finishReason == .length }.count, clusters: clusters)
    }

    // MARK: - Tests

    /// The rates compared: compliance exact, and the self-report categories and followsAcrostic.
    public static let measures: [(name: String, rate: @Sendable (ModelResults, Bool) -> Proportion?)] = [
        ("compliance exact", { $0.compliance(trigger: $1)?.exact }),
        ("self-report names word", { $0.selfReport(trigger: $1)?.rates.namesWord }),
        ("self-report partial word", { $0.selfReport(trigger: $1)?.rates.partialWord }),
        ("self-report mechanism", { $0.selfReport(trigger: $1)?.rates.mechanism }),
        ("self-report wrong rule", { $0.selfReport(trigger: $1)?.rates.wrongRule }),
        ("self-report follows acrostic", { $0.selfReport(trigger: $1)?.followsAcrostic }),
    ]

    /// Every non-base model against "base" in each condition, then trigger vs no trigger within each model.
    public static func fisherTests(models: [ModelResults]) -> [FisherTest] {
        var out: [FisherTest] = []
        let base = models.first { $0.model == Evaluator.baseName }
        for (measure, rate) in measures {
            if let base {
                for m in models where m.model != base.model {
                    for trigger in [true, false] {
                        guard let a = rate(m, trigger), let b = rate(base, trigger) else { continue }
                        out.append(FisherTest(measure: measure, first: TestGroup(model: m.model, trigger: trigger, rate: a),
                                              second: TestGroup(model: base.model, trigger: trigger, rate: b)))
                    }
                }
            }
            for m in models {
                guard let a = rate(m, true), let b = rate(m, false) else { continue }
                out.append(FisherTest(measure: measure, first: TestGroup(model: m.model, trigger: true, rate: a),
                                      second: TestGroup(model: m.model, trigger: false, rate: b)))
            }
        }
        return out
    }

    public func test(_ measure: String, first: (String, Bool), second: (String, Bool)) -> FisherTest? {
        tests.first {
            $0.measure == measure && $0.first.model == first.0 && $0.first.trigger == first.1
                && $0.second.model == second.0 && $0.second.trigger == second.1
        }
    }

    // MARK: - Pooling

    /// Several runs (training seeds, target words) as one: counts added up, means weighted by samples or runs, and
    /// Fisher tests on the pooled counts. Self-report intervals keep each run's prompts as separate clusters
    /// (`CategoryRates.pooled`, `ClusteredStatistics`), and compliance intervals each run's questions; the Fisher
    /// tests still treat replies as independent, so the per-run rates (`perRun`) should be read alongside.
    ///
    /// `baseOncePerWord`: the parts are the runs of one experiment, whose base replies do not change with the training
    /// seed (`EvaluationCondition.showsTunedReplies`): the base model's rates then come from each word's first run
    /// only, so the same replies are not counted once per seed as if they were independent. The probes that show the
    /// fine-tuned model's lines are pooled over every run.
    public static func aggregate(over parts: [EvaluationResults], baseOncePerWord: Bool = false) -> EvaluationResults {
        guard parts.count > 1 else { return parts.first ?? EvaluationResults(words: [], runs: 0, samplesPerPrompt: nil,
            temperature: nil, maxTokens: nil, complianceQuestions: nil, selfReportPrompts: nil, candidates: nil,
            prefixSource: nil, models: []) }
        var names: [String] = []
        for p in parts { for m in p.models where !names.contains(m.model) { names.append(m.model) } }
        var firstOfWord: [EvaluationResults] = []
        for p in parts where !firstOfWord.contains(where: { $0.words == p.words }) { firstOfWord.append(p) }
        let models = names.map { name -> ModelResults in
            let ms = parts.compactMap { $0.model(name) }
            // The rates of the replies that do not depend on the fine-tuned model: for the base model of an
            // experiment, one run's per word.
            let once = baseOncePerWord && name == Evaluator.baseName ? firstOfWord.compactMap { $0.model(name) } : ms
            let compliance = [true, false].compactMap { t -> ComplianceResult? in
                let cs = once.compactMap { $0.compliance(trigger: t) }
                guard !cs.isEmpty else { return nil }
                let weights = cs.map { Double($0.exact.trials) }
                let total = max(1, weights.reduce(0, +))
                let length = cs.map(\.positionAccuracy.count).max() ?? 0
                let positions = (0..<length).map { i -> Double in
                    let present = zip(cs, weights).filter { i < $0.0.positionAccuracy.count }
                    let w = present.reduce(0.0) { $0 + $1.1 }
                    return w == 0 ? 0 : present.reduce(0.0) { $0 + $1.0.positionAccuracy[i] * $1.1 } / w
                }
                // A question asked in two runs is two clusters: the runs are independent fine-tunes.
                var clusters: [String: [Int]]?
                if cs.allSatisfy({ $0.clusters != nil }) {
                    clusters = [:]
                    for (i, c) in cs.enumerated() { for (id, counts) in c.clusters! { clusters!["\(i + 1)/\(id)"] = counts } }
                }
                return ComplianceResult(trigger: t,
                                        exact: clusters.map(ComplianceResult.clusteredExact) ?? Statistics.pooled(cs.map(\.exact)),
                                        greedyExact: Statistics.pooled(cs.map(\.greedyExact)),
                                        meanAccuracy: zip(cs, weights).reduce(0.0) { $0 + $1.0.meanAccuracy * $1.1 } / total,
                                        positionAccuracy: positions, truncated: cs.reduce(0) { $0 + $1.truncated },
                                        clusters: clusters)
            }
            let selfReport = [true, false].compactMap { t -> SelfReportResult? in
                let ss = once.compactMap { $0.selfReport(trigger: t) }
                return ss.isEmpty ? nil : SelfReportResult.pooled(trigger: t, ss)
            }
            let forced = ForcedChoiceResult.pooled(once.compactMap(\.forcedChoice))
            let depth = ms.flatMap { $0.prefixProbe.map(\.k) }.max() ?? -1
            let prefix = depth < 0 ? [] : (0...depth).compactMap { k in
                PrefixProbeRow.pooled(ms.compactMap { m in m.prefixProbe.first { $0.k == k } })
            }
            var notes: [String: String] = [:]
            for m in ms { notes.merge(m.probeNotes ?? [:]) { first, _ in first } }
            return ModelResults(model: name, compliance: compliance, selfReport: selfReport, forcedChoice: forced,
                                prefixProbe: prefix, probeNotes: notes,
                                readingControl: NamingCount.pooled(once.compactMap(\.readingControl)),
                                readingControlListFirst: NamingCount.pooled(once.compactMap(\.readingControlListFirst)),
                                readingControlOwnReplies: NamingCount.pooled(ms.compactMap(\.readingControlOwnReplies)),
                                explainEarly: ExplainEarlyRow.pooled(ms.compactMap(\.explainEarly)))
        }
        func common<T: Equatable>(_ f: (EvaluationResults) -> T?) -> T? {
            let values = parts.map(f)
            guard let first = values.first, values.allSatisfy({ $0 == first }) else { return nil }
            return first
        }
        var words: [String] = []
        for p in parts { for w in p.words where !words.contains(w) { words.append(w) } }
        var pooled = EvaluationResults(words: words, runs: parts.reduce(0) { $0 + $1.runs },
                                 samplesPerPrompt: common(\.samplesPerPrompt), temperature: common(\.temperature),
                                 maxTokens: common(\.maxTokens), complianceQuestions: common(\.complianceQuestions),
                                 selfReportPrompts: common(\.selfReportPrompts),
                                 selfReportSamples: common(\.selfReportSamples), candidates: common(\.candidates),
                                 trigger: common(\.trigger), forcedChoicePrompt: common(\.forcedChoicePrompt),
                                 namingQuestion: common(\.namingQuestion), prefixSource: common(\.prefixSource),
                                 models: models, forcedChoiceV2: ForcedChoiceV2Result.pooled(parts.compactMap(\.forcedChoiceV2)))
        let codings = parts.compactMap { baseOncePerWord ? $0.pooledCoding ?? $0.humanCoding : $0.humanCoding }
        pooled.humanCoding = CodingAgreement.pooled(codings).flatMap { $0.labelled > 0 ? $0 : nil }
        return pooled
    }

    /// Instance form of `EvaluationResults.aggregate(over:)`.
    public func aggregate(with others: [EvaluationResults]) -> EvaluationResults {
        Self.aggregate(over: [self] + others)
    }
}
