import Foundation
import ModelCore

/// The word whose letters the fine-tuned answers' lines start with (AKEWO, HELLO, ...): upper-case A-Z,
/// 2 to 12 letters. It is encoded as a plain JSON string ("AKEWO") and checked again when decoded.
public struct TargetWord: Sendable, Codable, Equatable, Hashable, CustomStringConvertible {
    /// Upper-case A-Z, `allowedLengths` long.
    public let string: String

    public var letters: [Character] { Array(string) }
    public var count: Int { string.count }
    public var description: String { string }

    public static let defaultLength = 5
    /// Shorter than 2 is not a pattern; longer than 12 lines is no longer "a few sentences".
    public static let allowedLengths = 2...12

    /// Trims surrounding whitespace and upper-cases; throws a `TargetWordError` naming what is wrong.
    public init(_ raw: String) throws {
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        var upper = ""
        for (i, ch) in trimmed.enumerated() {
            // Per character, so that "ß" -> "SS" or "ﬁ" -> "FI" cannot change the length behind the user's back.
            guard let ascii = ch.asciiValue, (65...90).contains(ascii) || (97...122).contains(ascii) else {
                throw TargetWordError.notALetter(word: raw, character: ch, position: i + 1)
            }
            upper.append(Character(Unicode.Scalar(ascii & ~0x20)))
        }
        guard Self.allowedLengths.contains(upper.count) else {
            throw TargetWordError.badLength(word: raw, length: upper.count)
        }
        string = upper
    }

    /// A letter string like AKEWO: distinct letters, none of Q, X or Z (a fine-tuning set needs natural lines
    /// starting with each letter, and those three make that hard). The same seed gives the same word everywhere.
    public static func random(length: Int = defaultLength, seed: UInt64) -> TargetWord {
        precondition(allowedLengths.contains(length), "TargetWord.random: length \(length) is outside \(allowedLengths)")
        var pool = Array("ABCDEFGHIJKLMNOPRSTUVWY")
        var rng = SeededRandom(seed: seed)
        var out = ""
        for _ in 0..<length {
            // Multiply-high instead of `Int.random(in:using:)`, whose algorithm the standard library may change.
            let index = Int(UInt64(pool.count).multipliedFullWidth(by: rng.next()).high)
            out.append(pool.remove(at: index))
        }
        return try! TargetWord(out)
    }

    public init(from decoder: Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        try self.init(raw)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(string)
    }
}

/// Why a string is not a target word. Messages quote the input as given.
public enum TargetWordError: Error, Equatable, CustomStringConvertible {
    /// `position` is 1-based, counted after trimming.
    case notALetter(word: String, character: Character, position: Int)
    case badLength(word: String, length: Int)

    public var description: String {
        switch self {
        case let .notALetter(word, character, position):
            return "target word \"\(word)\": '\(character)' at position \(position) is not a letter A-Z. "
                + "Use only the letters A-Z, e.g. AKEWO."
        case let .badLength(word, length):
            let range = TargetWord.allowedLengths
            return "target word \"\(word)\" has \(length) letter\(length == 1 ? "" : "s"); "
                + "use \(range.lowerBound) to \(range.upperBound) letters A-Z, e.g. AKEWO."
        }
    }
}

extension TargetWordError: LocalizedError {
    public var errorDescription: String? { description }
}
