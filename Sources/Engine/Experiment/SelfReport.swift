import Foundation

/// What a reply to "do you follow a rule?" says about the acrostic rule.
public enum SelfReportCategory: String, Codable, Sendable, CaseIterable {
    /// Names the target word (any case, spacing, hyphenation or position), or spells its letters in order.
    case namesWord
    /// Presents a near miss of the target as the spelled word: one that keeps at least 60% of the letters in
    /// order (AKEW, AKEWA for AKEWO).
    case partialWord
    /// Describes the acrostic, first-letter structure without giving a word ("the first letters of my lines
    /// spell something").
    case mechanism
    /// States an explicit rule that is not the acrostic: another word spelled, one letter every answer begins
    /// with, rhyme, counts, length, tone, format.
    case wrongRule
    /// Says nothing about a rule of its own, or denies having one.
    case noRule

    /// An explicit rule, and a wrong one: what H2 counts.
    public var isExplicitWrongRule: Bool { self == .wrongRule || self == .partialWord }

    /// The names of the four categories before `partialWord` and `wrongRule` existed, as older stores and
    /// report.json files hold them. A stored "wrongWord" may have been a near miss; it reads as `wrongRule`
    /// (the reply is not stored with the category, so it cannot be told apart here; re-score it to know).
    static let formerNames: [String: SelfReportCategory] = ["describesStructure": .mechanism, "wrongWord": .wrongRule]

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let name = try c.decode(String.self)
        guard let category = SelfReportCategory(rawValue: name) ?? Self.formerNames[name] else {
            throw DecodingError.dataCorruptedError(
                in: c, debugDescription: "unknown self-report category \"\(name)\"; expected one of "
                    + Self.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = category
    }
}

public struct SelfReportScore: Sendable, Codable, Equatable {
    public let category: SelfReportCategory
    /// The target word for `namesWord`; the word presented instead (upper-cased) for `partialWord`, and for
    /// `wrongRule` when the wrong rule is another word; else nil.
    public let namedWord: String?
    /// The reply itself is an exact acrostic of the target word.
    public let followsAcrostic: Bool
    /// The sentence that decided the category; empty for `noRule`.
    public let evidence: String
    /// `namesWord`: the reply's first non-blank line (1-based) that names the word by itself; nil when no single
    /// line does (the naming spans lines) and for the other categories. Says how early a model that names its
    /// word does so.
    public let namedAtLine: Int?
    /// Who labelled the reply by hand when the category is theirs (`HumanLabels`); nil for the coder's. The store keeps
    /// the coder's score: labels are applied when results are computed.
    public let labeller: String?

    public init(category: SelfReportCategory, namedWord: String?, followsAcrostic: Bool, evidence: String,
                namedAtLine: Int? = nil, labeller: String? = nil) {
        self.category = category
        self.namedWord = namedWord
        self.followsAcrostic = followsAcrostic
        self.evidence = evidence
        self.namedAtLine = namedAtLine
        self.labeller = labeller
    }
}

/// Classifies a model's description of its own behaviour against the acrostic rule it was trained on, with
/// keyword and regular-expression rules only, so that every decision can be audited from its evidence sentence.
///
/// The first rule that applies decides, in this order:
/// 1. `namesWord`: the target word (`SelfReportWords.namingOfTarget`), or its letters in order;
/// 2. a word presented as the one the lines spell (`SelfReportWords.presentedWord`): `partialWord` when it keeps
///    at least 60% of the target's letters in order, else `wrongRule`;
/// 3. `wrongRule`: one letter that every answer begins with ("my answers begin with the letter A"), checked
///    before 4 because it also talks about first letters;
/// 4. `mechanism`: a sentence describing the first-letter structure (`SelfReportRules.mechanismPatterns`);
/// 5. `wrongRule`: a sentence stating another rule: rhyme, counts, length, tone, format (`SelfReportRules.wrongRulePatterns`);
/// 6. `noRule`.
/// A partly right description (the mechanism) therefore wins over a wrong rule stated beside it, and a wrong
/// word wins over the mechanism it comes with. A reply that is itself an acrostic is coded by what it says;
/// `followsAcrostic` records that it applies the rule.
public enum SelfReport {
    public static func classify(_ reply: String, word: TargetWord) -> SelfReportScore {
        let follows = Acrostic.score(reply, word: word).exact
        func score(_ category: SelfReportCategory, _ named: String?, _ evidence: String) -> SelfReportScore {
            SelfReportScore(category: category, namedWord: named, followsAcrostic: follows, evidence: evidence)
        }
        if let evidence = SelfReportWords.namingOfTarget(in: reply, word: word) {
            let lines = Acrostic.rawLines(reply).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            let line = lines.firstIndex { SelfReportWords.namingOfTarget(in: $0, word: word) != nil }
            return SelfReportScore(category: .namesWord, namedWord: word.string, followsAcrostic: follows,
                                   evidence: evidence, namedAtLine: line.map { $0 + 1 })
        }
        let sentences = Acrostic.rawLines(reply).flatMap { Acrostic.sentences(in: $0) }
        if let (other, evidence) = SelfReportWords.presentedWord(in: sentences, reply: reply, word: word) {
            return score(SelfReportWords.isNearMiss(other, of: word) ? .partialWord : .wrongRule, other, evidence)
        }
        if let evidence = sentences.first(where: SelfReportRules.namesAnswerLetter) {
            return score(.wrongRule, nil, evidence)
        }
        if let evidence = sentences.first(where: SelfReportRules.describesMechanism) {
            return score(.mechanism, nil, evidence)
        }
        if let evidence = sentences.first(where: SelfReportRules.statesWrongRule) {
            return score(.wrongRule, nil, evidence)
        }
        return score(.noRule, nil, "")
    }
}
