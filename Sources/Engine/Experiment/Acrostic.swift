import Foundation
import Support

/// One content line of a reply and the letter that counts for the acrostic.
public struct AcrosticLine: Sendable, Equatable, Codable {
    /// Index into `Acrostic.rawLines(text)` (the text split at every "\n", the same as
    /// `text.components(separatedBy: "\n")` when there is no "\r\n"), or the sentence index when the reply had no
    /// line breaks.
    public let lineIndex: Int
    /// Offset in Characters within `text` of the letter that counts; nil when the line has no letter at all.
    public let letterOffset: Int?
    /// Upper-cased, accents removed (É -> E); nil when the line has no letter.
    public let letter: Character?
    /// The line (or sentence) itself, without its line break.
    public let text: String

    public init(lineIndex: Int, letterOffset: Int?, letter: Character?, text: String) {
        self.lineIndex = lineIndex
        self.letterOffset = letterOffset
        self.letter = letter
        self.text = text
    }

    private enum CodingKeys: String, CodingKey { case lineIndex, letterOffset, letter, text }

    // Character is not Codable; the letter travels as a one-character string.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        lineIndex = try c.decode(Int.self, forKey: .lineIndex)
        letterOffset = try c.decodeIfPresent(Int.self, forKey: .letterOffset)
        text = try c.decode(String.self, forKey: .text)
        if let s = try c.decodeIfPresent(String.self, forKey: .letter) {
            guard s.count == 1 else {
                throw DecodingError.dataCorruptedError(forKey: .letter, in: c,
                                                       debugDescription: "letter \"\(s)\" must be one character")
            }
            letter = s.first
        } else {
            letter = nil
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(lineIndex, forKey: .lineIndex)
        try c.encode(letterOffset, forKey: .letterOffset)
        try c.encode(letter.map { String($0) }, forKey: .letter)
        try c.encode(text, forKey: .text)
    }
}

/// How well a reply's line initials spell the target word.
public struct AcrosticScore: Sendable, Equatable, Codable {
    public let word: String
    /// The letter of each content line in order; a line without any letter shows as "?" so positions line up.
    public let initials: String
    /// Content lines only (blank lines are skipped).
    public let lines: [AcrosticLine]
    /// Exactly `word.count` content lines and each starts with its letter of the word.
    public let exact: Bool
    /// One entry per letter of the word: does content line i start with word[i] (false when the line is missing).
    public let perPosition: [Bool]
    /// Mean of `perPosition`.
    public let accuracy: Double
    /// First position that differs; `word.count` when the word is matched but more lines follow; nil when exact.
    public let firstDeviation: Int?
    /// The reply had no line breaks, so its sentences were scored instead.
    public let usedSentences: Bool

    /// How many positions match.
    public var matches: Int { perPosition.filter { $0 }.count }
}

/// Scores replies against an acrostic rule.
///
/// A reply is split into lines on "\n" ("\r\n" too); blank lines are skipped. When at most one non-blank line is
/// left, the reply is split into sentences instead (a model that drops the line breaks still shows its initials).
/// In each line the letter that counts is the first letter after anything that is decoration rather than words:
/// whitespace, markdown (`#`, `>`, `*`, `-`, `+`, backticks, `_`, `~`, `[`), bullets, quotes, emoji and other
/// symbols, terminal escape sequences (colour codes), HTML tags such as `<b>`, list markers ("1.", "2)", "(3)",
/// "a)", "(b)", "iv.") and digits: "42 is the answer" counts as I, because a number cannot start a word of an
/// acrostic and skipping it is what a reader does. Accented letters fold to their base letter (É -> E).
public enum Acrostic {
    public static func lines(in text: String) -> [AcrosticLine] {
        split(text).lines
    }

    public static func score(_ text: String, word: TargetWord) -> AcrosticScore {
        let (lines, usedSentences) = split(text)
        let target = word.letters
        let perPosition = target.indices.map { i in i < lines.count && lines[i].letter == target[i] }
        let exact = lines.count == target.count && !perPosition.contains(false)
        let firstDeviation: Int? = perPosition.firstIndex(of: false) ?? (lines.count > target.count ? target.count : nil)
        return AcrosticScore(
            word: word.string,
            initials: String(lines.map { $0.letter ?? "?" }),
            lines: lines,
            exact: exact,
            perPosition: perPosition,
            accuracy: Double(perPosition.filter { $0 }.count) / Double(target.count),
            firstDeviation: firstDeviation,
            usedSentences: usedSentences)
    }

    /// The first letter of a line that counts, with its offset in Characters; nil when the line has none.
    public static func initialLetter(of line: String) -> (offset: Int, letter: Character)? {
        let chars = Array(line)
        // A control is a Character of its own, so these line up with `chars`.
        let firstScalars = chars.map { $0.unicodeScalars.first! }
        var i = 0
        while i < chars.count {
            let ch = chars[i]
            // "\e[31mArmadillo" shows as "Armadillo" in a terminal: the "m" of a colour code is no initial.
            if let (end, _) = TerminalText.sequenceEnd(firstScalars, at: i) {
                i = end
                continue
            }
            if ch.isLetter, startsAWord(ch) {
                if let end = listMarkerEnd(chars, from: i) {
                    i = end
                    continue
                }
                return (i, folded(ch))
            }
            if ch == "(", let end = parenthesisedMarkerEnd(chars, from: i) {
                i = end
                continue
            }
            if ch == "<", let end = htmlTagEnd(chars, from: i) {
                i = end
                continue
            }
            // Whitespace, digits, punctuation, markdown, bullets, quotes, emoji, symbols.
            i += 1
        }
        return nil
    }

    /// Whether a letter can stand first in a word. A combining mark with no base before it (Mn, Mc, Me; many
    /// count as alphabetic) and a Hangul jamo that cannot begin a syllable (a vowel or final jamo, or initial
    /// jamo with no vowel) are not letters a reader sees there, and as initials they would join the one before
    /// them into a single Character, so `initials` would no longer line up with the lines.
    static func startsAWord(_ ch: Character) -> Bool {
        guard let first = ch.unicodeScalars.first else { return false }
        switch first.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return false
        default: break
        }
        func isVowelOrFinalJamo(_ v: UInt32) -> Bool { (0x1160...0x11FF).contains(v) || (0xD7B0...0xD7FF).contains(v) }
        func isInitialJamo(_ v: UInt32) -> Bool { (0x1100...0x115F).contains(v) || (0xA960...0xA97F).contains(v) }
        if isVowelOrFinalJamo(first.value) { return false }
        return !ch.unicodeScalars.allSatisfy { isInitialJamo($0.value) }
    }

    // MARK: - Lines and sentences

    static func split(_ text: String) -> (lines: [AcrosticLine], usedSentences: Bool) {
        let content = rawLines(text).enumerated().filter { !isBlank($0.element) }
        if content.count >= 2 {
            return (content.map { line(index: $0.offset, text: $0.element) }, false)
        }
        guard let only = content.first else { return ([], false) }
        let sentences = sentences(in: only.element)
        return (sentences.enumerated().map { line(index: $0.offset, text: $0.element) }, true)
    }

    private static func line(index: Int, text: String) -> AcrosticLine {
        let initial = initialLetter(of: text)
        return AcrosticLine(lineIndex: index, letterOffset: initial?.offset, letter: initial?.letter, text: text)
    }

    /// The text split at every "\n", with a "\r" before it dropped; blank lines included. Splitting works on
    /// scalars because a Swift Character holds "\r\n" as one grapheme, so Character-based splitting, and
    /// `components(separatedBy: "\n")` on Linux, would not break there.
    public static func rawLines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\n" {
                lines.append(stripCarriageReturn(current))
                current = String.UnicodeScalarView()
            } else {
                current.append(scalar)
            }
        }
        lines.append(stripCarriageReturn(current))
        return lines
    }

    private static func stripCarriageReturn(_ scalars: String.UnicodeScalarView) -> String {
        var s = scalars
        if s.last == "\r" { s.removeLast() }
        return String(s)
    }

    /// A line of nothing but escape sequences ("\e[0m") looks blank in a terminal, and counts as blank.
    static func isBlank(_ line: String) -> Bool {
        TerminalText.clean(line).unicodeScalars.allSatisfy { CharacterSet.whitespacesAndNewlines.contains($0) || $0 == "\u{FEFF}" }
    }

    // MARK: - Markers that look like letters but are not words

    /// "a) ", "B. ", "iv. ", "XII) ": the index after the marker and its punctuation, or nil when the letters at
    /// `start` are a word. The marker must be followed by whitespace, so "E.g." and a lone "A." still count.
    private static func listMarkerEnd(_ chars: [Character], from start: Int) -> Int? {
        var j = start
        while j < chars.count, let a = chars[j].asciiValue, isASCIILetter(a) { j += 1 }
        guard j > start, j + 1 < chars.count, chars[j] == "." || chars[j] == ")", chars[j + 1].isWhitespace else {
            return nil
        }
        return isMarkerToken(String(chars[start..<j])) ? j + 1 : nil
    }

    /// "(3)", "(b)", "(iv)": the index after the closing parenthesis, or nil when the parenthesis holds words.
    private static func parenthesisedMarkerEnd(_ chars: [Character], from start: Int) -> Int? {
        var j = start + 1
        while j < chars.count, let a = chars[j].asciiValue, isASCIILetter(a) || (48...57).contains(a) { j += 1 }
        guard j > start + 1, j < chars.count, chars[j] == ")" else { return nil }
        let token = String(chars[(start + 1)..<j])
        if token.allSatisfy(\.isNumber) { return token.count <= 3 ? j + 1 : nil }
        return isMarkerToken(token) ? j + 1 : nil
    }

    /// A single letter or a small roman numeral made of i, v, x in one case (so "Mix." or "Vic)" stay words).
    private static func isMarkerToken(_ token: String) -> Bool {
        if token.count == 1 { return true }
        guard token.count <= 4 else { return false }
        return token.allSatisfy { "ivx".contains($0) } || token.allSatisfy { "IVX".contains($0) }
    }

    /// "<b>", "</em>", "<span class=x>": the index after ">", or nil when "<" is not an HTML tag.
    private static func htmlTagEnd(_ chars: [Character], from start: Int) -> Int? {
        var j = start + 1
        if j < chars.count, chars[j] == "/" { j += 1 }
        guard j < chars.count, let a = chars[j].asciiValue, isASCIILetter(a) else { return nil }
        let limit = min(chars.count, start + 64)
        while j < limit {
            if chars[j] == ">" { return j + 1 }
            if chars[j] == "<" || chars[j] == "\n" { return nil }
            j += 1
        }
        return nil
    }

    private static func isASCIILetter(_ a: UInt8) -> Bool { (65...90).contains(a) || (97...122).contains(a) }

    /// Upper-case without diacritics (`LetterFolding`, which the local backend's letter probabilities share).
    static func folded(_ ch: Character) -> Character { LetterFolding.folded(ch) }
}

// MARK: - Sentences

extension Acrostic {
    /// Words that end in a period without ending the sentence ("Mr. Smith", "vs. them", "et al. found").
    /// "No." and "etc." are left out on purpose: in chat replies they end sentences far more often than not.
    static let abbreviations: Set<String> = ["mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "approx", "fig",
                                             "cf", "al", "mt", "eg", "ie"]

    /// The sentences of a text, trimmed: a sentence ends at ".", "!" or "?" (and any closing quotes or brackets)
    /// followed by whitespace or the end. A period does not end one after an abbreviation ("Mr.", "vs."), a dotted
    /// word ("e.g.", "U.S.", "a.m."), an initial ("J. K. Rowling") or inside a number (3.14); an ellipsis
    /// ("..." or "…") does not either, since chat replies use it as a pause.
    public static func sentences(in text: String) -> [String] {
        let chars = Array(text)
        var out: [String] = []
        var start = 0
        var k = 0
        func flush(_ end: Int) {
            let s = String(chars[start..<end]).trimmingCharacters(in: .whitespacesAndNewlines)
            if !s.isEmpty { out.append(s) }
            start = end
        }
        while k < chars.count {
            guard ".!?".contains(chars[k]) else { k += 1; continue }
            var end = k + 1
            while end < chars.count, "!?.".contains(chars[end]) { end += 1 }
            let run = chars[k..<end]
            let isEllipsis = run.count >= 2 && run.allSatisfy { $0 == "." }
            while end < chars.count, "\"'”’)]»".contains(chars[end]) { end += 1 }
            let atBoundary = end == chars.count || chars[end].isWhitespace
            if atBoundary, !isEllipsis, !(run.count == 1 && chars[k] == "." && periodIsNotFinal(chars, at: k)) {
                flush(end)
            }
            k = end
        }
        flush(chars.count)
        return out
    }

    /// The period at `index` belongs to the word before it (abbreviation, dotted word or initial).
    private static func periodIsNotFinal(_ chars: [Character], at index: Int) -> Bool {
        var j = index
        while j > 0, chars[j - 1].isLetter || chars[j - 1] == "." { j -= 1 }
        let token = String(chars[j..<index])
        if token.isEmpty { return false }
        if token.contains(".") { return true }
        if abbreviations.contains(token.lowercased()) { return true }
        // A lone capital is an initial; "I" is the pronoun ("...than I. Then...").
        return token.count == 1 && token != "I" && token.first!.isUppercase
    }
}
