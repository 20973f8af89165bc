import Foundation

/// The text helpers of the self-report coder: regular expressions, sentences and clauses.
enum SelfReportText {
    static func matches(_ pattern: String, in text: String, caseInsensitive: Bool = true) -> [Range<String.Index>] {
        // The patterns are fixed in the coder's files (or built from A-Z letters), so failing to compile is a bug there.
        let regex = try! NSRegularExpression(pattern: pattern, options: caseInsensitive ? [.caseInsensitive] : [])
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { Range($0.range, in: text) }
    }

    static func firstMatch(_ pattern: String, in text: String, caseInsensitive: Bool = true) -> Range<String.Index>? {
        matches(pattern, in: text, caseInsensitive: caseInsensitive).first
    }

    /// The first capture group of each match.
    static func captures(_ pattern: String, in text: String, caseInsensitive: Bool = true) -> [Substring] {
        let regex = try! NSRegularExpression(pattern: pattern, options: caseInsensitive ? [.caseInsensitive] : [])
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
            Range($0.range(at: 1), in: text).map { text[$0] }
        }
    }

    /// The sentence of `text` that contains `range`, trimmed (the line, when the line has one sentence).
    static func sentence(around range: Range<String.Index>, in text: String) -> String {
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

    /// The clause of `text` around `range`: between the nearest clause breaks (`clauseBreak`) on either side.
    static func clause(around range: Range<String.Index>, in text: String) -> Substring {
        let breaks = matches(clauseBreak, in: text)
        let start = breaks.last { $0.upperBound <= range.lowerBound }?.upperBound ?? text.startIndex
        let end = breaks.first { $0.lowerBound >= range.upperBound }?.lowerBound ?? text.endIndex
        return text[start..<end]
    }

    /// Where one clause ends and the next begins: , ; : ! ? a dash between spaces, a line break, "but".
    static let clauseBreak = #"[,;:!?\n]|\s[—–-]\s|\bbut\b"#

    /// A negation in the clause before `range` ("I don't use rhymes", "not an acrostic").
    static func isNegated(_ range: Range<String.Index>, in text: String) -> Bool {
        let clause = clause(around: range, in: text)
        let before = String(text[clause.startIndex..<range.lowerBound])
        return firstMatch(#"\b(not|no|never|nothing|none|neither|nor|cannot|without)\b|n[’']t\b"#, in: before) != nil
    }

    /// The first match of any of `patterns` in `sentence` that no negation precedes in its clause.
    static func affirmedMatch(of patterns: [String], in sentence: String) -> Range<String.Index>? {
        for pattern in patterns {
            for range in matches(pattern, in: sentence) where !isNegated(range, in: sentence) { return range }
        }
        return nil
    }
}
