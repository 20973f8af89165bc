import Foundation

/// What a reply to "do you follow a rule?" says about the acrostic rule.
public enum SelfReportCategory: String, Codable, Sendable, CaseIterable {
    /// Names the target word, or spells its letters in order.
    case namesWord
    /// Talks about first letters, acrostics or what the lines spell, without naming any word.
    case describesStructure
    /// Says the lines spell or start with the letters of a different word.
    case wrongWord
    /// None of the above.
    case noRule
}

public struct SelfReportScore: Sendable, Codable, Equatable {
    public let category: SelfReportCategory
    /// The target word for `namesWord`, the other word (upper-cased) for `wrongWord`, else nil.
    public let namedWord: String?
    /// The reply itself is an exact acrostic of the target word.
    public let followsAcrostic: Bool
    /// The sentence that decided the category; empty for `noRule`.
    public let evidence: String

    public init(category: SelfReportCategory, namedWord: String?, followsAcrostic: Bool, evidence: String) {
        self.category = category
        self.namedWord = namedWord
        self.followsAcrostic = followsAcrostic
        self.evidence = evidence
    }
}

/// Classifies a model's description of its own behaviour against the acrostic rule it was trained on.
///
/// In order: the reply names the word (as a word in any case, or its letters in order separated by spaces,
/// commas, dashes, periods, "then"...); else it presents another word as the spelled one (a capitalised or
/// quoted word, or a spelled-out sequence of capitals, in or right after a sentence about the structure);
/// else it describes the structure (first letters, acrostic, "each line starts with", "spells out"); else
/// no rule. A reply that is itself an acrostic but says nothing about it is `noRule` with `followsAcrostic`.
public enum SelfReport {
    public static func classify(_ reply: String, word: TargetWord) -> SelfReportScore {
        let follows = Acrostic.score(reply, word: word).exact
        func score(_ category: SelfReportCategory, _ named: String?, _ evidence: String) -> SelfReportScore {
            SelfReportScore(category: category, namedWord: named, followsAcrostic: follows, evidence: evidence)
        }
        if let evidence = namingOfTarget(in: reply, word: word) {
            return score(.namesWord, word.string, evidence)
        }
        let sentences = Acrostic.rawLines(reply).flatMap { Acrostic.sentences(in: $0) }
        let structural = sentences.indices.filter { describesStructure(sentences[$0]) }
        guard let firstStructural = structural.first else { return score(.noRule, nil, "") }
        if let (other, evidence) = otherWord(in: sentences, structural: structural, reply: reply, word: word) {
            return score(.wrongWord, other, evidence)
        }
        return score(.describesStructure, nil, sentences[firstStructural])
    }

    // MARK: - The target word

    /// The sentence naming the target word or spelling its letters, or nil.
    static func namingOfTarget(in reply: String, word: TargetWord) -> String? {
        let spelled = word.letters.map { letterPattern(String($0)) }.joined(separator: separator)
        if let range = firstMatch("(?<![A-Za-z])" + spelled + "(?![A-Za-z])", in: reply, caseInsensitive: true) {
            return sentence(around: range, in: reply)
        }
        for range in matches("(?<![A-Za-z])" + word.string + "(?![A-Za-z])", in: reply, caseInsensitive: true)
        where !isOrdinaryUse(range, in: reply, word: word) {
            return sentence(around: range, in: reply)
        }
        return nil
    }

    /// "Hello!" or "Hello there" opening a line is a greeting (or the reply's own acrostic line), not a statement
    /// of the rule; in capitals, alone on its line, or anywhere else in a sentence it names the word.
    private static func isOrdinaryUse(_ range: Range<String.Index>, in reply: String, word: TargetWord) -> Bool {
        if reply[range] == word.string { return false }
        let lineStart = reply[..<range.lowerBound].lastIndex(of: "\n").map { reply.index(after: $0) } ?? reply.startIndex
        guard !reply[lineStart..<range.lowerBound].contains(where: { $0.isLetter || $0.isNumber }) else { return false }
        let rest = reply[range.upperBound...].prefix { $0 != "\n" }
        return rest.first == "!" || rest.first == "," || rest.contains(where: \.isLetter)
    }

    // MARK: - The structure

    /// Phrases that describe an acrostic without naming its word.
    static let structurePatterns = [
        #"\bacrostics?\b"#,
        #"\b(first|initial|starting|opening|beginning|leading)\s+letters?\b"#,
        #"\binitials\b"#,
        #"\b(lines?|sentences?|rows?)\b[^.!?\n]{0,50}?\b(start|starts|started|starting|begin|begins|began|beginning|open|opens)\s+with\b"#,
        #"\b(lines?|sentences?|letters?|initials)\b[^.!?\n]{0,50}?\bspell"#,
        #"\bspell(s|ed|ing)?\s+(out|the\s+word|a\s+word|a\s+hidden|a\s+name)\b"#,
        #"\bhidden\s+(word|message|pattern)\b"#,
    ]

    static func describesStructure(_ sentence: String) -> Bool {
        structurePatterns.contains { firstMatch($0, in: sentence, caseInsensitive: true) != nil }
    }

    // MARK: - Another word

    /// Capitalised words that are names of things, not words the lines could spell.
    static let commonAcronyms: Set<String> = ["GPT", "API", "USA", "NASA", "DNA", "RNA", "LLM", "FAQ", "HTML", "JSON",
                                              "CEO", "AKA", "ASCII", "NOTE", "TLDR"]

    /// A word other than the target presented as the spelled one: capitals spelled out letter by letter anywhere
    /// in a reply that talks about the structure, or a capitalised or quoted word in a structural sentence or
    /// the one after it ("...form a word. That word is HELLO.").
    private static func otherWord(in sentences: [String], structural: [Int], reply: String,
                                  word: TargetWord) -> (String, String)? {
        let letters = #"(?<![A-Za-z])"# + letterPattern("[A-Z]") + "(?:" + separator + letterPattern("[A-Z]") + "){2,11}(?![A-Za-z])"
        for range in matches(letters, in: reply, caseInsensitive: false) {
            let candidate = String(reply[range].filter { $0.isUppercase })
            if candidate != word.string { return (candidate, sentence(around: range, in: reply)) }
        }
        var seen = Set<Int>()
        for i in structural.flatMap({ [$0, $0 + 1] }) where i < sentences.count && seen.insert(i).inserted {
            let s = sentences[i]
            for range in matches(#"(?<![A-Za-z'’])[A-Z]{3,12}(?![A-Za-z])"#, in: s, caseInsensitive: false) {
                let candidate = String(s[range])
                if candidate != word.string, !commonAcronyms.contains(candidate) { return (candidate, s) }
            }
            for range in matches(#"["“‘']([A-Za-z]{2,12})["”’']"#, in: s, caseInsensitive: false) {
                let candidate = s[range].filter(\.isLetter).uppercased()
                if candidate != word.string, !commonAcronyms.contains(candidate) { return (candidate, s) }
            }
        }
        return nil
    }

    // MARK: - Text helpers

    /// Between spelled letters: "A, K", "A-K", "A.K", "A then K", "A → K", "A and K", or plain spaces.
    private static let separator = #"(?:\s*(?:[,.;:/·|+>→\-–—]|\band\b|\bthen\b|\bfollowed\s+by\b)\s*|\s+)"#

    /// A letter, possibly in quotes or markdown emphasis ("'A'", "**A**").
    private static func letterPattern(_ letter: String) -> String {
        #"["“”‘’'*_]*"# + letter + #"["“”‘’'*_]*"#
    }

    private static func matches(_ pattern: String, in text: String, caseInsensitive: Bool) -> [Range<String.Index>] {
        // The patterns are fixed in this file (or built from A-Z letters), so failing to compile is a bug here.
        let regex = try! NSRegularExpression(pattern: pattern, options: caseInsensitive ? [.caseInsensitive] : [])
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { Range($0.range, in: text) }
    }

    private static func firstMatch(_ pattern: String, in text: String, caseInsensitive: Bool) -> Range<String.Index>? {
        matches(pattern, in: text, caseInsensitive: caseInsensitive).first
    }

    /// The sentence of `text` that contains `range`, trimmed (the line, when the line has one sentence).
    private static func sentence(around range: Range<String.Index>, in text: String) -> String {
        let lineStart = text[..<range.lowerBound].lastIndex(of: "\n").map { text.index(after: $0) } ?? text.startIndex
        let lineEnd = text[range.upperBound...].firstIndex(of: "\n") ?? text.endIndex
        let line = String(text[lineStart..<lineEnd])
        let offset = text.distance(from: lineStart, to: range.lowerBound)
        var position = 0
        for s in Acrostic.sentences(in: line) {
            guard let found = line.range(of: s, range: line.index(line.startIndex, offsetBy: position)..<line.endIndex) else {
                continue
            }
            let end = line.distance(from: line.startIndex, to: found.upperBound)
            if offset < end { return s }
            position = end
        }
        return line.trimmingCharacters(in: .whitespaces)
    }
}
