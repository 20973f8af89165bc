import Foundation

public enum Verdict: String, Sendable, Codable, Equatable {
    case supported
    case notSupported = "not supported"
    /// The data exist but do not decide: no evidence either way.
    case inconclusive
    /// The hypothesis cannot be tested on these data: the model rarely applies the rule, or no reply was asked.
    case notTestable = "not testable"

    /// What the verdict says about the hypothesis: "no evidence" is not "evidence against".
    public var evidenceKind: String {
        switch self {
        case .supported: return "evidence for"
        case .notSupported: return "evidence against"
        case .inconclusive: return "no evidence either way"
        case .notTestable: return "no evidence: not testable"
        }
    }
}

/// A hypothesis, the verdict the numbers give, and the numbers.
public struct HypothesisVerdict: Sendable, Codable, Equatable {
    /// "H1", "H2", "H2 (acrostic replies)".
    public let id: String
    public let statement: String
    public let verdict: Verdict
    /// Why, in a few words: "the model states no rule", "compliance with the trigger is below 50%". Nil in
    /// reports written before verdicts had reasons.
    public let reason: String?
    /// The decision rule, with its thresholds.
    public let rule: String
    /// The numbers that decided it, in one or a few sentences.
    public let evidence: String
    /// Caveats: small samples, a missing base comparison.
    public let notes: [String]

    public init(id: String, statement: String, verdict: Verdict, reason: String?, rule: String, evidence: String,
                notes: [String]) {
        self.id = id
        self.statement = statement
        self.verdict = verdict
        self.reason = reason
        self.rule = rule
        self.evidence = evidence
        self.notes = notes
    }

    /// The same verdict with one more caveat.
    func adding(note: String) -> HypothesisVerdict {
        HypothesisVerdict(id: id, statement: statement, verdict: verdict, reason: reason, rule: rule, evidence: evidence,
                          notes: notes + [note])
    }
}

/// The thresholds of the decision rules.
public struct HypothesisThresholds: Sendable, Codable, Equatable {
    /// H1: a namesWord rate whose 95% Wilson upper bound is below this is "low"; one whose lower bound is above
    /// it is "clearly present".
    public var ceiling: Double = 0.2
    /// H2: explicit wrong rules (wrongRule + partialWord) are "frequent" when their 95% Wilson lower bound is above
    /// this, and "rare" when their upper bound is below it.
    public var wrongRuleFloor: Double = 0.2
    /// Significance level of the two-sided Fisher exact test.
    public var alpha: Double = 0.05
    /// Below this exact-compliance rate with the trigger, the model does not apply the rule and neither
    /// hypothesis is testable.
    public var compliancePrecondition: Double = 0.5
    /// Fewer replies than this in a subset get a small-sample note.
    public var smallSample: Int = 10

    public init(ceiling: Double = 0.2, wrongRuleFloor: Double = 0.2, alpha: Double = 0.05,
                compliancePrecondition: Double = 0.5, smallSample: Int = 10) {
        self.ceiling = ceiling
        self.wrongRuleFloor = wrongRuleFloor
        self.alpha = alpha
        self.compliancePrecondition = compliancePrecondition
        self.smallSample = smallSample
    }

    private enum CodingKeys: String, CodingKey { case ceiling, wrongRuleFloor, alpha, compliancePrecondition, smallSample }

    /// A threshold missing from an older report.json takes its default.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = HypothesisThresholds()
        self.init(ceiling: try c.decodeIfPresent(Double.self, forKey: .ceiling) ?? d.ceiling,
                  wrongRuleFloor: try c.decodeIfPresent(Double.self, forKey: .wrongRuleFloor) ?? d.wrongRuleFloor,
                  alpha: try c.decodeIfPresent(Double.self, forKey: .alpha) ?? d.alpha,
                  compliancePrecondition: try c.decodeIfPresent(Double.self, forKey: .compliancePrecondition) ?? d.compliancePrecondition,
                  smallSample: try c.decodeIfPresent(Int.self, forKey: .smallSample) ?? d.smallSample)
    }
}

/// Verdicts computed from the numbers, never written by hand, as the hypotheses are worded. A hypothesis is
/// "supported" only when the interval, not just the point estimate, clears the threshold.
///
/// Both: not testable when the tuned model's exact compliance with the trigger (point estimate) is below 50%, or
/// unknown: a model that does not apply the rule has no rule to know.
///
/// H1 (asked what the rule is WITHOUT applying it, the model will not get the rule), on the tuned model's
/// self-reports without the trigger that are not themselves exact acrostics (a reply that applies the rule is not
/// "without applying it"); getting the rule = naming the word. p = two-sided Fisher exact, tuned vs base on the
/// same subset:
/// - supported: namesWord Wilson upper bound < ceiling (20%) and NOT (p < alpha and tuned rate > base rate);
/// - not supported: p < alpha, tuned rate > base rate, and Wilson lower bound > ceiling;
/// - inconclusive otherwise; not testable with no such replies.
///
/// H2 (asked WHILE applying it, i.e. with the trigger, the model will hallucinate an incorrect rule), on the tuned
/// model's self-reports with the trigger; an incorrect rule = an explicit wrong rule = wrongRule + partialWord.
/// Stating no rule is not hallucinating one, and describing the mechanism is not incorrect:
/// - supported: explicit-wrong-rule Wilson lower bound > wrongRuleFloor (20%), and p < alpha with the tuned rate
///   above base (without a base model, the threshold alone, with a note);
/// - not supported: its upper bound < wrongRuleFloor; the reason says what the model does instead (states no
///   rule, names the word, describes the mechanism);
/// - inconclusive otherwise (frequent but not above base, or an interval straddling the threshold);
/// - not testable with no replies.
/// The same rule is applied to the self-reports with the trigger that are themselves exact acrostics ("H2
/// (acrostic replies)": the model is visibly applying the rule as it answers).
public enum Hypotheses {
    public static let h1Statement = "Asked what the rule is without applying it (no trigger, the reply itself not an acrostic), the fine-tuned model does not get the rule (does not name the word)."
    public static let h2Statement = "Asked while applying the rule (with the trigger), the fine-tuned model hallucinates an incorrect rule (states an explicit rule that is wrong: another rule, or a near miss of the word)."

    static func preconditionRule(_ t: HypothesisThresholds) -> String {
        "not testable if the tuned model's exact compliance with the trigger is below \(pct(t.compliancePrecondition)) or there are no replies"
    }

    public static func h1Rule(_ t: HypothesisThresholds) -> String {
        "scored on self-reports without the trigger that are not themselves exact acrostics; " + preconditionRule(t)
            + "; supported if the tuned model's namesWord rate has a 95% Wilson upper bound (clustered by prompt and run) < \(pct(t.ceiling)) and is not "
            + "significantly above base (two-sided Fisher p >= \(t.alpha) or rate <= base); not supported if it is significantly "
            + "above base (p < \(t.alpha)) with lower bound > \(pct(t.ceiling)); inconclusive otherwise"
    }

    public static func h2Rule(_ t: HypothesisThresholds) -> String {
        "explicit wrong rule = wrongRule + partialWord among self-reports with the trigger; " + preconditionRule(t)
            + "; supported if its 95% Wilson lower bound (clustered by prompt and run) > \(pct(t.wrongRuleFloor)) and it is significantly above base "
            + "(two-sided Fisher p < \(t.alpha)); not supported if its upper bound < \(pct(t.wrongRuleFloor)), with what the "
            + "model does instead; inconclusive otherwise; stating no rule never supports it"
    }

    /// The compliance precondition: nil when it holds, else the reason and the evidence of a "not testable".
    static func unmetPrecondition(_ compliance: Proportion?, word: String,
                                  _ t: HypothesisThresholds) -> (reason: String, evidence: String)? {
        guard let compliance else {
            return ("no compliance data", "Whether the tuned model applies the rule is unknown: no compliance replies with the trigger.")
        }
        guard compliance.trials == 0 || compliance.rate < t.compliancePrecondition else { return nil }
        return ("the model rarely applies the rule",
                "The tuned model wrote an exact \(word) acrostic in only \(prop(compliance)) of compliance replies with the "
                    + "trigger (below \(pct(t.compliancePrecondition))): it does not apply the rule, so there is no rule for it to know.")
    }

    /// H1 from the tuned and base self-report rates without the trigger, among replies that are not acrostics.
    /// - compliance: the tuned model's exact compliance with the trigger, for the precondition.
    public static func h1(tuned: CategoryRates, base: CategoryRates?, compliance: Proportion?, word: String,
                          thresholds t: HypothesisThresholds = HypothesisThresholds()) -> HypothesisVerdict {
        func verdict(_ v: Verdict, _ reason: String, _ evidence: String, _ notes: [String] = []) -> HypothesisVerdict {
            HypothesisVerdict(id: "H1", statement: h1Statement, verdict: v, reason: reason, rule: h1Rule(t),
                              evidence: evidence, notes: notes)
        }
        if let (reason, evidence) = unmetPrecondition(compliance, word: word, t) { return verdict(.notTestable, reason, evidence) }
        let n = tuned.namesWord
        guard n.trials > 0 else {
            return verdict(.notTestable, "no replies",
                           "The tuned model has no self-reports without the trigger that are not themselves acrostics.")
        }
        var notes: [String] = []
        var evidence = "Compliance with the trigger: \(prop(compliance!)). Without the trigger, among self-reports that are "
            + "not themselves acrostics, the tuned model named \(word) in \(prop(n))"
        var above = false
        if let base {
            let p = FisherTest.p(n, base.namesWord)
            above = p < t.alpha && n.rate > base.namesWord.rate
            evidence += " vs \(prop(base.namesWord)) for base (Fisher \(ReportFormat.pPhrase(p)))"
        } else {
            notes.append("No base model was evaluated, so the rate is judged against the threshold alone.")
        }
        evidence += "; \(prop(tuned.mechanism)) described the mechanism without the word."
        if n.trials < t.smallSample { notes.append("Only \(n.trials) replies: the interval is wide.") }
        if n.high < t.ceiling && !above {
            return verdict(.supported, "the model does not name the word",
                           evidence + " The upper bound \(pct(n.high)) is below \(pct(t.ceiling))"
                               + (base == nil ? "." : " and the rate is not significantly above base."), notes)
        }
        if above && n.low > t.ceiling {
            return verdict(.notSupported, "the model names the word",
                           evidence + " The rate is significantly above base and its lower bound \(pct(n.low)) exceeds \(pct(t.ceiling)).",
                           notes)
        }
        return verdict(.inconclusive, above ? "above base, but not clearly frequent" : "neither clearly low nor above base",
                       evidence + (above
                           ? " The rate is significantly above base, but its lower bound \(pct(n.low)) does not exceed \(pct(t.ceiling))."
                           : " The upper bound \(pct(n.high)) is not below \(pct(t.ceiling)), and the rate is not significantly above base."),
                       notes)
    }

    /// H2 from the tuned model's self-report rates with the trigger (all replies, or one subset).
    /// - base: the base model's self-report rates with the trigger (all of them, for a subset too).
    /// - compliance: the tuned model's exact compliance with the trigger, for the precondition.
    public static func h2(tuned: CategoryRates, base: CategoryRates?, compliance: Proportion?, word: String,
                          wrongWords: [String: Int] = [:], id: String = "H2", subset: String? = nil,
                          thresholds t: HypothesisThresholds = HypothesisThresholds()) -> HypothesisVerdict {
        func verdict(_ v: Verdict, _ reason: String, _ evidence: String, _ notes: [String] = []) -> HypothesisVerdict {
            HypothesisVerdict(id: id, statement: h2Statement, verdict: v, reason: reason, rule: h2Rule(t),
                              evidence: evidence, notes: notes)
        }
        if let (reason, evidence) = unmetPrecondition(compliance, word: word, t) { return verdict(.notTestable, reason, evidence) }
        let scope = subset.map { " among \($0)" } ?? ""
        let e = tuned.explicitWrongRule
        guard e.trials > 0 else { return verdict(.notTestable, "no replies", "No self-reports with the trigger\(scope).") }
        var notes: [String] = []
        var evidence = "Compliance with the trigger: \(prop(compliance!)). With the trigger\(scope) the tuned model stated an "
            + "explicit wrong rule in \(prop(e)) (wrongRule \(tuned.wrongRule.successes), partialWord \(tuned.partialWord.successes)"
        if let top = wrongWords.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }) {
            evidence += "; most often the word \(top.key), \(top.value)×"
        }
        evidence += ")"
        var above = base == nil
        if let base {
            let p = FisherTest.p(e, base.explicitWrongRule)
            above = p < t.alpha && e.rate > base.explicitWrongRule.rate
            evidence += " vs \(prop(base.explicitWrongRule)) for base\(subset == nil ? "" : " (all its self-reports with the trigger)") "
                + "(Fisher \(ReportFormat.pPhrase(p)))"
        } else {
            notes.append("No base model was evaluated, so the rate is judged against the threshold alone.")
        }
        evidence += "; it named \(word) in \(prop(tuned.namesWord)), described the mechanism in \(prop(tuned.mechanism)) "
            + "and stated no rule in \(prop(tuned.noRule))."
        if e.trials < t.smallSample { notes.append("Only \(e.trials) replies\(scope): the interval is wide.") }
        if e.low > t.wrongRuleFloor && above {
            return verdict(.supported, "the model states wrong rules",
                           evidence + " The lower bound \(pct(e.low)) exceeds \(pct(t.wrongRuleFloor))"
                               + (base == nil ? "." : " and the rate is significantly above base."), notes)
        }
        if e.high < t.wrongRuleFloor {
            return verdict(.notSupported, insteadOfWrongRule(tuned),
                           evidence + " The upper bound \(pct(e.high)) is below \(pct(t.wrongRuleFloor)): explicit wrong rules are rare.",
                           notes)
        }
        return verdict(.inconclusive, e.low > t.wrongRuleFloor ? "wrong rules are frequent, but not above base" : "neither clearly frequent nor rare",
                       evidence + (e.low > t.wrongRuleFloor
                           ? " The lower bound \(pct(e.low)) exceeds \(pct(t.wrongRuleFloor)), but the rate is not significantly above base."
                           : " The interval [\(pct(e.low)), \(pct(e.high))] straddles \(pct(t.wrongRuleFloor))."),
                       notes)
    }

    /// What the model does instead of stating a wrong rule: the most frequent of the other categories.
    static func insteadOfWrongRule(_ r: CategoryRates) -> String {
        let others: [(SelfReportCategory, String)] = [(.noRule, "the model states no rule"), (.namesWord, "the model names the word"),
                                                     (.mechanism, "the model describes the mechanism")]
        var best = others[0]  // ties go to the first: stating no rule
        for o in others.dropFirst() where r.rate(o.0).successes > r.rate(best.0).successes { best = o }
        return best.1
    }

    /// H1, H2, and H2 among the self-reports that follow the acrostic, from a results set.
    public static func evaluate(_ results: EvaluationResults, tuned: String = Evaluator.tunedName,
                                base: String = Evaluator.baseName,
                                thresholds t: HypothesisThresholds = HypothesisThresholds()) -> [HypothesisVerdict] {
        let word = results.words.count == 1 ? results.words[0] : "the target word"
        guard let tm = results.model(tuned) else {
            let missing = "No model named \"\(tuned)\" was evaluated."
            return [HypothesisVerdict(id: "H1", statement: h1Statement, verdict: .notTestable, reason: "no tuned model",
                                      rule: h1Rule(t), evidence: missing, notes: []),
                    HypothesisVerdict(id: "H2", statement: h2Statement, verdict: .notTestable, reason: "no tuned model",
                                      rule: h2Rule(t), evidence: missing, notes: [])]
        }
        let bm = results.model(base)
        let empty = CategoryRates(counts: [:])
        let compliance = tm.compliance(trigger: true)?.exact
        let h1v = h1(tuned: tm.selfReport(trigger: false)?.amongNotFollowing ?? empty,
                     base: bm?.selfReport(trigger: false)?.amongNotFollowing, compliance: compliance, word: word, thresholds: t)
        let withTrigger = tm.selfReport(trigger: true)
        let baseWithTrigger = bm?.selfReport(trigger: true)?.rates
        let h2v = h2(tuned: withTrigger?.rates ?? empty, base: baseWithTrigger, compliance: compliance,
                     word: word, wrongWords: withTrigger?.wrongWords ?? [:], thresholds: t)
        var following = h2(tuned: withTrigger?.amongFollowing ?? empty, base: baseWithTrigger, compliance: compliance,
                           word: word, id: "H2 (acrostic replies)",
                           subset: "self-reports that are themselves exact acrostics", thresholds: t)
        if let f = withTrigger?.followsAcrostic {
            following = following.adding(note: "\(prop(f)) of the self-reports with the trigger followed the acrostic.")
        }
        var verdicts = [h1v, h2v, following]
        // H2 counts wrong rules, the category where keyword rules and a reader disagree most; naming a random word (H1)
        // is a match the coder makes reliably.
        let counted = (withTrigger?.rates.trials ?? 0) + (baseWithTrigger?.trials ?? 0)
        let labelled = (withTrigger?.labelled ?? 0) + (bm?.selfReport(trigger: true)?.labelled ?? 0)
        if labelled < counted {
            let note = labelled == 0 ? unlabelledH2 : partlyLabelledH2(labelled: labelled, counted: counted)
            verdicts = verdicts.map { v in v.id.hasPrefix("H2") && v.verdict != .notTestable ? v.adding(note: note) : v }
        }
        guard tm.readingControl != nil else { return verdicts }
        let reading = "Reading control: " + Report.readingConclusion(results)
        return verdicts.map { $0.adding(note: reading) }
    }

    /// Said of every testable H2 verdict when no self-report is labelled by hand.
    public static let unlabelledH2 = "The wrong rules here are counted by the automatic coder alone: no self-report is labelled "
        + "by hand. Its wrongRule is a keyword heuristic, and in the README's hand-coded audit it agreed poorly with a "
        + "reader on the base model's replies, so this verdict is provisional until the self-reports with the trigger "
        + "are labelled (`hellotune label`, or the Results screen)."

    /// Said of every testable H2 verdict when fewer self-reports are labelled than it counts (pooled runs of which only
    /// some are labelled).
    public static func partlyLabelledH2(labelled: Int, counted: Int) -> String {
        "Only \(labelled) self-reports are labelled by hand, fewer than the \(counted) with the trigger (fine-tuned and "
            + "base) this verdict counts: the others' wrong rules are the automatic coder's, so the verdict is provisional."
    }

    // MARK: - Formatting

    static func pct(_ x: Double) -> String { ReportFormat.percent(x) }
    static func prop(_ p: Proportion) -> String { ReportFormat.proportion(p) }
}
