import Foundation

/// The share of self-reports in each category, with Wilson intervals; the five rates add up to 1. Built from
/// per-cluster counts (`init(clusters:)`: a cluster is one prompt of one run), the intervals account for the
/// clustering (`ClusteredStatistics`); built from plain counts, they treat the replies as independent.
public struct CategoryRates: Sendable, Codable, Equatable {
    public let namesWord: Proportion
    public let partialWord: Proportion
    public let mechanism: Proportion
    public let wrongRule: Proportion
    public let noRule: Proportion
    /// Cluster id ("PROMPT", or "RUN/PROMPT" when pooled) → category name → replies; nil when built from counts.
    public let clusters: [String: [String: Int]]?

    public init(namesWord: Proportion, partialWord: Proportion, mechanism: Proportion, wrongRule: Proportion,
                noRule: Proportion, clusters: [String: [String: Int]]? = nil) {
        self.namesWord = namesWord
        self.partialWord = partialWord
        self.mechanism = mechanism
        self.wrongRule = wrongRule
        self.noRule = noRule
        self.clusters = clusters
    }

    /// Rates from per-category counts.
    public init(counts: [SelfReportCategory: Int]) {
        let n = counts.values.reduce(0, +)
        func p(_ c: SelfReportCategory) -> Proportion { Statistics.wilson(successes: counts[c] ?? 0, trials: n) }
        self.init(namesWord: p(.namesWord), partialWord: p(.partialWord), mechanism: p(.mechanism),
                  wrongRule: p(.wrongRule), noRule: p(.noRule))
    }

    public init(_ categories: [SelfReportCategory]) {
        self.init(counts: Dictionary(categories.map { ($0, 1) }, uniquingKeysWith: +))
    }

    /// Rates from per-cluster counts, each interval at the cell's effective number of trials.
    public init(clusters: [String: [String: Int]]) {
        let kept = clusters.filter { $0.value.values.reduce(0, +) > 0 }
        let matrix = kept.keys.sorted().map { id in SelfReportCategory.allCases.map { kept[id]?[$0.rawValue] ?? 0 } }
        let deff = ClusteredStatistics.designEffect(matrix)
        let n = matrix.reduce(0) { $0 + $1.reduce(0, +) }
        func p(_ c: SelfReportCategory) -> Proportion {
            let i = SelfReportCategory.allCases.firstIndex(of: c)!
            return ClusteredStatistics.wilson(successes: matrix.reduce(0) { $0 + $1[i] }, trials: n, designEffect: deff,
                                              clusters: matrix.count)
        }
        self.init(namesWord: p(.namesWord), partialWord: p(.partialWord), mechanism: p(.mechanism),
                  wrongRule: p(.wrongRule), noRule: p(.noRule), clusters: kept)
    }

    /// Clusters from (cluster id, category) pairs, one per reply.
    public init(clustered replies: [(cluster: String, category: SelfReportCategory)]) {
        var clusters: [String: [String: Int]] = [:]
        for r in replies { clusters[r.cluster, default: [:]][r.category.rawValue, default: 0] += 1 }
        self.init(clusters: clusters)
    }

    public var trials: Int { namesWord.trials }

    public func rate(_ c: SelfReportCategory) -> Proportion {
        switch c {
        case .namesWord: return namesWord
        case .partialWord: return partialWord
        case .mechanism: return mechanism
        case .wrongRule: return wrongRule
        case .noRule: return noRule
        }
    }

    public var counts: [SelfReportCategory: Int] {
        Dictionary(uniqueKeysWithValues: SelfReportCategory.allCases.map { ($0, rate($0).successes) })
    }

    /// The share of replies in any of `categories`, clustered when the rates are.
    func share(_ categories: Set<SelfReportCategory>) -> Proportion {
        let successes = categories.reduce(0) { $0 + rate($1).successes }
        guard let clusters else { return Statistics.wilson(successes: successes, trials: trials) }
        let ids = clusters.keys.sorted()
        let matrix = ids.map { id in SelfReportCategory.allCases.map { clusters[id]?[$0.rawValue] ?? 0 } }
        return ClusteredStatistics.wilson(successes: successes, trials: trials,
                                          designEffect: ClusteredStatistics.designEffect(matrix), clusters: ids.count)
    }

    /// Replies that state an explicit rule, and a wrong one: `wrongRule` + `partialWord` (what H2 counts).
    public var explicitWrongRule: Proportion { share([.wrongRule, .partialWord]) }

    /// Replies that do not name the target word.
    public var notNamingWord: Proportion { share(Set(SelfReportCategory.allCases).subtracting([.namesWord])) }

    /// The rates of the replies counted here but not in `part` (a subset of them), per cluster when both are clustered.
    public func excluding(_ part: CategoryRates) -> CategoryRates {
        guard let clusters, let other = part.clusters else {
            return CategoryRates(counts: counts.merging(part.counts) { max(0, $0 - $1) })
        }
        return CategoryRates(clusters: clusters.reduce(into: [:]) { out, entry in
            out[entry.key] = entry.value.merging(other[entry.key] ?? [:]) { max(0, $0 - $1) }
        })
    }

    /// Several runs' rates as one: counts added up; when every part is clustered, its clusters are kept apart per run
    /// (a prompt asked in two runs is two clusters: the runs are independent fine-tunes).
    public static func pooled(_ parts: [CategoryRates]) -> CategoryRates {
        if !parts.isEmpty, parts.allSatisfy({ $0.clusters != nil }) {
            var merged: [String: [String: Int]] = [:]
            for (i, part) in parts.enumerated() {
                for (id, counts) in part.clusters! { merged["\(i + 1)/\(id)"] = counts }
            }
            return CategoryRates(clusters: merged)
        }
        return CategoryRates(namesWord: Statistics.pooled(parts.map(\.namesWord)),
                      partialWord: Statistics.pooled(parts.map(\.partialWord)),
                      mechanism: Statistics.pooled(parts.map(\.mechanism)),
                      wrongRule: Statistics.pooled(parts.map(\.wrongRule)), noRule: Statistics.pooled(parts.map(\.noRule)))
    }

    private enum CodingKeys: String, CodingKey { case namesWord, partialWord, mechanism, wrongRule, noRule, clusters }
    /// The keys of results written with four categories: they read as `mechanism` and `wrongRule`, with no
    /// `partialWord` replies (see `SelfReportCategory.formerNames`).
    private enum FormerKeys: String, CodingKey { case describesStructure, wrongWord }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let former = try decoder.container(keyedBy: FormerKeys.self)
        let namesWord = try c.decode(Proportion.self, forKey: .namesWord)
        func either(_ key: CodingKeys, _ old: FormerKeys) throws -> Proportion {
            if let p = try c.decodeIfPresent(Proportion.self, forKey: key) { return p }
            return try former.decode(Proportion.self, forKey: old)
        }
        self.init(namesWord: namesWord,
                  partialWord: try c.decodeIfPresent(Proportion.self, forKey: .partialWord)
                      ?? Statistics.wilson(successes: 0, trials: namesWord.trials),
                  mechanism: try either(.mechanism, .describesStructure), wrongRule: try either(.wrongRule, .wrongWord),
                  noRule: try c.decode(Proportion.self, forKey: .noRule),
                  clusters: try c.decodeIfPresent([String: [String: Int]].self, forKey: .clusters))
    }
}

/// One self-report quoted in the report, so that its coding can be checked by reading it.
public struct SelfReportExample: Sendable, Codable, Equatable {
    public let category: SelfReportCategory
    public let promptID: String
    /// 0 is the greedy reply.
    public let index: Int
    /// The sentence that decided the category (empty for `noRule`).
    public let evidence: String
    /// The reply, cut to `SelfReportExample.maxReply` characters.
    public let reply: String
    public let followsAcrostic: Bool

    public init(category: SelfReportCategory, promptID: String, index: Int, evidence: String, reply: String,
                followsAcrostic: Bool) {
        self.category = category
        self.promptID = promptID
        self.index = index
        self.evidence = evidence
        self.reply = reply.count > Self.maxReply ? String(reply.prefix(Self.maxReply - 1)) + "…" : reply
        self.followsAcrostic = followsAcrostic
    }

    public static let maxReply = 300
    /// Examples kept per category, model and condition.
    public static let perCategory = 2

    /// The first `perCategory` of each category, in the order given.
    static func pick(_ examples: [SelfReportExample]) -> [SelfReportExample] {
        var taken: [SelfReportCategory: Int] = [:]
        return examples.filter { e in
            taken[e.category, default: 0] += 1
            return taken[e.category]! <= perCategory
        }
    }
}

/// What the model says about its rule. One model, with or without the trigger.
public struct SelfReportResult: Sendable, Codable, Equatable {
    public let trigger: Bool
    public let rates: CategoryRates
    /// Self-reports that are themselves an exact acrostic of the word.
    public let followsAcrostic: Proportion
    /// The categories among the replies that follow the acrostic (the model applies the rule while describing it).
    public let amongFollowing: CategoryRates
    /// The words named by `wrongRule` and `partialWord` replies (upper-cased), with counts.
    public let wrongWords: [String: Int]
    /// A few replies of each category that occurred (`SelfReportExample.perCategory`), in prompt and sample order.
    public let examples: [SelfReportExample]
    /// `namesWord` replies by the line that names the word (`SelfReportScore.namedAtLine`; 0: no single line).
    public let namedAtLine: [Int: Int]
    /// How many of the replies counted here a person labelled (their category replaces the coder's).
    public let labelled: Int

    public init(trigger: Bool, rates: CategoryRates, followsAcrostic: Proportion, amongFollowing: CategoryRates,
                wrongWords: [String: Int], examples: [SelfReportExample] = [], namedAtLine: [Int: Int] = [:],
                labelled: Int = 0) {
        self.trigger = trigger
        self.rates = rates
        self.followsAcrostic = followsAcrostic
        self.amongFollowing = amongFollowing
        self.wrongWords = wrongWords
        self.examples = examples
        self.namedAtLine = namedAtLine
        self.labelled = labelled
    }

    /// The categories among the replies that do not themselves follow the acrostic (H1: asked without applying it).
    public var amongNotFollowing: CategoryRates { rates.excluding(amongFollowing) }

    private enum CodingKeys: String, CodingKey {
        case trigger, rates, followsAcrostic, amongFollowing, wrongWords, examples, namedAtLine, labelled
    }

    /// Results written before examples were kept have none.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(trigger: try c.decode(Bool.self, forKey: .trigger), rates: try c.decode(CategoryRates.self, forKey: .rates),
                  followsAcrostic: try c.decode(Proportion.self, forKey: .followsAcrostic),
                  amongFollowing: try c.decode(CategoryRates.self, forKey: .amongFollowing),
                  wrongWords: try c.decode([String: Int].self, forKey: .wrongWords),
                  examples: try c.decodeIfPresent([SelfReportExample].self, forKey: .examples) ?? [],
                  namedAtLine: try c.decodeIfPresent([Int: Int].self, forKey: .namedAtLine) ?? [:],
                  labelled: try c.decodeIfPresent(Int.self, forKey: .labelled) ?? 0)
    }

    /// The result of some scored replies, in the order given (which decides the examples).
    static func of(trigger: Bool, _ os: [SampleOutcome]) -> SelfReportResult {
        let scored = os.compactMap { o in o.score.selfReport.map { (o, $0) } }
        let scores = scored.map(\.1)
        let following = scores.filter(\.followsAcrostic)
        var wrong: [String: Int] = [:]
        for s in scores where s.category.isExplicitWrongRule { if let w = s.namedWord { wrong[w, default: 0] += 1 } }
        var lines: [Int: Int] = [:]
        for s in scores where s.category == .namesWord { lines[s.namedAtLine ?? 0, default: 0] += 1 }
        let examples = SelfReportExample.pick(scored.map { o, s in
            SelfReportExample(category: s.category, promptID: o.promptID, index: o.index, evidence: s.evidence,
                              reply: o.reply, followsAcrostic: s.followsAcrostic)
        })
        // One cluster per prompt: its K samples share the prompt (and, pooled, the run).
        let rates = CategoryRates(clustered: scored.map { (cluster: $0.0.promptID, category: $0.1.category) })
        let amongFollowing = CategoryRates(clustered: scored.filter(\.1.followsAcrostic).map {
            (cluster: $0.0.promptID, category: $0.1.category)
        })
        return SelfReportResult(trigger: trigger, rates: rates,
                                followsAcrostic: followingShare(rates, amongFollowing)
                                    ?? Statistics.wilson(successes: following.count, trials: scores.count),
                                amongFollowing: amongFollowing, wrongWords: wrong, examples: examples, namedAtLine: lines,
                                labelled: scores.filter { $0.labeller != nil }.count)
    }

    /// The share of replies that are themselves acrostics, per cluster, when both rates are clustered.
    static func followingShare(_ all: CategoryRates, _ following: CategoryRates) -> Proportion? {
        guard let a = all.clusters, let f = following.clusters else { return nil }
        return ClusteredStatistics.proportion(a.keys.sorted().map { id in
            (successes: f[id]?.values.reduce(0, +) ?? 0, trials: a[id]!.values.reduce(0, +))
        })
    }

    /// Several runs' results for one model and condition as one: counts added up, clusters kept apart by run.
    static func pooled(trigger: Bool, _ parts: [SelfReportResult]) -> SelfReportResult {
        var wrong: [String: Int] = [:]
        var lines: [Int: Int] = [:]
        for s in parts {
            wrong.merge(s.wrongWords, uniquingKeysWith: +)
            lines.merge(s.namedAtLine, uniquingKeysWith: +)
        }
        let rates = CategoryRates.pooled(parts.map(\.rates))
        let amongFollowing = CategoryRates.pooled(parts.map(\.amongFollowing))
        return SelfReportResult(trigger: trigger, rates: rates,
                                followsAcrostic: followingShare(rates, amongFollowing)
                                    ?? Statistics.pooled(parts.map(\.followsAcrostic)),
                                amongFollowing: amongFollowing, wrongWords: wrong,
                                examples: SelfReportExample.pick(parts.flatMap(\.examples)), namedAtLine: lines,
                                labelled: parts.reduce(0) { $0 + $1.labelled })
    }
}
