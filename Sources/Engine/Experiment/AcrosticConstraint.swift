import Foundation
import ModelCore

/// Which tokens of a vocabulary may start a line with a given letter, which ones break a line, and which
/// ones stop a reply: the tables `AcrosticConstraint` masks logits with. Built once per tokenizer (a pass over
/// the vocabulary) and shared by every sequence; `AcrosticConstraint.init` takes it from a cache.
public final class AcrosticVocabulary: @unchecked Sendable {
    public let tokenizer: Tokenizer
    public let vocabularySize: Int
    public let stopTokens: [Int]
    let stopSet: Set<Int>
    /// For each letter A-Z: the tokens whose text, after optional leading spaces, starts with that
    /// upper-case letter and that hold no line break.
    public let lineStarts: [[Int]]
    /// Tokens whose text ends with exactly one "\n" and has no other line break, with the bytes before it
    /// (e.g. "." for ".\n"): the only ways a line may end.
    let lineBreaks: [(id: Int, prefix: [UInt8])]
    /// The token that is exactly "\n", if the vocabulary has one.
    let newline: Int?
    /// Every token whose text contains "\n" (line breaks included): never allowed at a line start, and only
    /// the clean `lineBreaks` are allowed anywhere else.
    let withNewline: [Int]
    /// Control and user-defined tokens that are not stop tokens: never part of a reply.
    let otherSpecial: [Int]
    /// Tokens that are only sentence-ending punctuation (".", "!", "?", possibly with one "\n" after it).
    let sentenceEnds: [Int]

    public init(tokenizer: Tokenizer, stopTokens: Set<Int>) {
        let n = tokenizer.vocabularySize
        self.tokenizer = tokenizer
        vocabularySize = n
        self.stopTokens = stopTokens.filter { $0 >= 0 && $0 < n }.sorted()
        stopSet = stopTokens
        var starts = [[Int]](repeating: [], count: 26)
        var breaks: [(Int, [UInt8])] = []
        var newlineTokens: [Int] = []
        var special: [Int] = []
        var plainNewline: Int?
        var ends: [Int] = []
        for id in 0..<n {
            if stopTokens.contains(id) { continue }
            if tokenizer.isSpecial(id) {
                special.append(id)
                continue
            }
            let bytes = tokenizer.bytes(of: id)
            if [[0x2E], [0x21], [0x3F], [0x2E, 0x0A], [0x21, 0x0A], [0x3F, 0x0A]].contains(bytes) { ends.append(id) }
            if let first = bytes.firstIndex(of: 0x0A) {
                newlineTokens.append(id)
                if first == bytes.count - 1 {
                    breaks.append((id, Array(bytes[..<first])))
                    if bytes.count == 1 { plainNewline = id }
                }
                continue
            }
            var i = 0
            while i < bytes.count, bytes[i] == 0x20 { i += 1 }
            if i < bytes.count, (65...90).contains(bytes[i]) { starts[Int(bytes[i] - 65)].append(id) }
        }
        lineStarts = starts
        lineBreaks = breaks
        withNewline = newlineTokens
        otherSpecial = special
        newline = plainNewline
        sentenceEnds = ends
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [AcrosticVocabulary] = []

    /// The table for a tokenizer and stop set, built on first use; the last few are kept.
    public static func shared(tokenizer: Tokenizer, stopTokens: Set<Int>) -> AcrosticVocabulary {
        lock.lock()
        if let hit = cache.first(where: { $0.tokenizer === tokenizer && $0.stopSet == stopTokens }) {
            lock.unlock()
            return hit
        }
        lock.unlock()
        let table = AcrosticVocabulary(tokenizer: tokenizer, stopTokens: stopTokens)
        lock.lock()
        if cache.count >= 4 { cache.removeFirst() }
        cache.append(table)
        lock.unlock()
        return table
    }
}

/// Forces a reply to be an acrostic of a word: one line per letter, each line starting with its letter.
///
/// - At the start of the reply and after each "\n", only tokens whose text, after optional leading spaces,
///   starts with the line's letter (upper-case) are allowed; none of them holds a line break.
/// - Inside a line, a line break is allowed once the line has at least 3 words (with `requireSentenceEnd`,
///   also only right after ". ! ?", so that every line is a sentence); only tokens that end with a single "\n"
///   can break a line, so no text follows a break unchecked and no blank lines appear.
/// - With `breakAfterSentence`, a line of 3+ words that has just ended a sentence (". ! ?" after a word) must
///   break there, so a line holds one sentence.
/// - Stop tokens are forbidden until the last line is complete: it ended with a "\n", or with ". ! ?" right after
///   a word, the line having 3+ words. From then on only stop tokens are allowed. (After a number or an
///   abbreviation, "in 1597." or "5." of "5.5", a stop token is allowed but not forced.)
/// - Special tokens that are not stop tokens are never allowed.
/// - With `softMaxWordsPerLine`, sentence-ending punctuation becomes more likely once a line is that long.
///
/// One instance per sequence: it follows the tokens generated so far, incrementally.
public struct AcrosticConstraint: LogitsProcessor {
    public let word: TargetWord
    public let vocabulary: AcrosticVocabulary
    public var minimumWordsPerLine = 3
    /// Past this many words in a line, sentence-ending tokens get `lengthBias` more logit per extra word, so
    /// that lines stay short without being cut (nil: no push).
    public var softMaxWordsPerLine: Int?
    public var lengthBias: Float = 1
    public var requireSentenceEnd: Bool
    public var breakAfterSentence: Bool

    private var consumed = 0
    private var completedLines = 0
    private var line: [UInt8] = []
    private var ended = false

    public init(word: TargetWord, tokenizer: Tokenizer, stopTokens: Set<Int>, requireSentenceEnd: Bool = true,
                breakAfterSentence: Bool = true) {
        self.init(word: word, vocabulary: .shared(tokenizer: tokenizer, stopTokens: stopTokens),
                  requireSentenceEnd: requireSentenceEnd, breakAfterSentence: breakAfterSentence)
    }

    public init(word: TargetWord, vocabulary: AcrosticVocabulary, requireSentenceEnd: Bool = true,
                breakAfterSentence: Bool = true) {
        self.word = word
        self.vocabulary = vocabulary
        self.requireSentenceEnd = requireSentenceEnd
        self.breakAfterSentence = breakAfterSentence
    }

    /// Where the reply stands after the tokens seen so far.
    public enum Phase: Equatable, Sendable {
        /// The next token starts line `index` (0-based) and must begin with `letter`.
        case lineStart(index: Int, letter: Character)
        /// Inside line `index`.
        case inLine(index: Int)
        /// All lines are written: only a stop token may follow.
        case done
    }

    public var phase: Phase {
        if ended || completedLines >= word.count { return .done }
        if line.allSatisfy({ $0 == 0x20 }) {
            return .lineStart(index: completedLines, letter: word.letters[completedLines])
        }
        return .inLine(index: completedLines)
    }

    public mutating func process(_ logits: UnsafeMutableBufferPointer<Float>, generated: [Int]) {
        advance(to: generated)
        let v = vocabulary
        switch phase {
        case .done:
            // (A vocabulary without stop tokens leaves the end to the token limit.)
            if !v.stopTokens.isEmpty { keepOnly(v.stopTokens, in: logits) }
        case let .lineStart(_, letter):
            let allowed = v.lineStarts[Int(letter.asciiValue! - 65)]
            if allowed.isEmpty {
                // A vocabulary without the letter: nothing can be forced; at least keep the rules below.
                forbid(v.stopTokens, in: logits)
                forbid(v.withNewline, in: logits)
            } else {
                keepOnly(allowed, in: logits)
            }
        case .inLine:
            let lastLine = completedLines == word.count - 1
            // The last line may end at a sentence end that is not clearly one ("in 1597.", "5." of "5.5"):
            // the model chooses between stopping and going on.
            if !(lastLine && Self.endsSentence(line) && Self.wordCount(line) >= minimumWordsPerLine) {
                forbid(v.stopTokens, in: logits)
            }
            forbid(v.otherSpecial, in: logits)
            if breakAfterSentence, !lastLine, Self.endsSentenceAfterWord(line), Self.wordCount(line) >= minimumWordsPerLine,
               let newline = v.newline {
                keepOnly([newline], in: logits)
                return
            }
            // Save the clean breaks that fit, forbid every token with "\n", put the fitting ones back.
            var saved: [(Int, Float)] = []
            for (id, prefix) in v.lineBreaks where id < logits.count && breakFits(prefix) {
                saved.append((id, logits[id]))
            }
            forbid(v.withNewline, in: logits)
            for (id, value) in saved { logits[id] = value }
        }
    }

    /// Whether a token that adds `prefix` and then "\n" may end the current line.
    private func breakFits(_ prefix: [UInt8]) -> Bool {
        let text = line + prefix
        guard Self.wordCount(text) >= minimumWordsPerLine else { return false }
        return !requireSentenceEnd || Self.endsSentence(text)
    }

    private mutating func advance(to generated: [Int]) {
        if generated.count < consumed { reset() }
        guard generated.count > consumed else { return }
        for id in generated[consumed...] {
            if vocabulary.stopSet.contains(id) { ended = true; continue }
            for byte in vocabulary.tokenizer.bytes(of: id) {
                if byte == 0x0A {
                    if !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) { completedLines += 1 }
                    line.removeAll(keepingCapacity: true)
                } else {
                    line.append(byte)
                }
            }
            if completedLines == word.count - 1, Self.endsSentenceAfterWord(line),
               Self.wordCount(line) >= minimumWordsPerLine {
                completedLines += 1
                line.removeAll(keepingCapacity: true)
            }
        }
        consumed = generated.count
    }

    private mutating func reset() {
        consumed = 0
        completedLines = 0
        line.removeAll()
        ended = false
    }

    // MARK: - Masks

    private func keepOnly(_ ids: [Int], in logits: UnsafeMutableBufferPointer<Float>) {
        var saved: [Float] = []
        saved.reserveCapacity(ids.count)
        for id in ids { saved.append(id < logits.count ? logits[id] : -.infinity) }
        for i in logits.indices { logits[i] = -.infinity }
        for (id, value) in zip(ids, saved) where id < logits.count { logits[id] = value }
    }

    private func forbid(_ ids: [Int], in logits: UnsafeMutableBufferPointer<Float>) {
        for id in ids where id < logits.count { logits[id] = -.infinity }
    }

    // MARK: - Text tests on UTF-8 bytes

    /// Runs of non-space bytes that hold a letter or digit (any non-ASCII byte counts as a letter).
    static func wordCount(_ bytes: [UInt8]) -> Int {
        var count = 0
        var inWord = false
        var counted = false
        for b in bytes {
            if b == 0x20 || b == 0x09 || b == 0x0D {
                inWord = false
                continue
            }
            if !inWord { inWord = true; counted = false }
            if !counted, b >= 0x80 || (48...57).contains(b) || (65...90).contains(b) || (97...122).contains(b) {
                count += 1
                counted = true
            }
        }
        return count
    }

    /// The text ends with ". ! ?", possibly followed by closing quotes or brackets, and then optional spaces.
    static func endsSentence(_ bytes: [UInt8]) -> Bool {
        var j = bytes.count
        while j > 0, bytes[j - 1] == 0x20 || bytes[j - 1] == 0x0D { j -= 1 }
        while j > 0, [0x22, 0x27, 0x29, 0x5D].contains(bytes[j - 1]) { j -= 1 }  // " ' ) ]
        guard j > 0 else { return false }
        guard [0x2E, 0x21, 0x3F].contains(bytes[j - 1]) else { return false }
        // "..." is a pause, not an end.
        if bytes[j - 1] == 0x2E, j >= 2, bytes[j - 2] == 0x2E { return false }
        return true
    }

    /// Like `endsSentence`, but only when the punctuation follows a word of 2+ letters (not "5." in "5.5", not
    /// the initial in "J. K."), with nothing after it: the point where a line should break.
    static func endsSentenceAfterWord(_ bytes: [UInt8]) -> Bool {
        guard let last = bytes.last, [0x2E, 0x21, 0x3F].contains(last) else { return false }
        guard endsSentence(bytes) else { return false }
        var j = bytes.count - 1
        var letters = 0
        while j > 0, isLetter(bytes[j - 1]) { letters += 1; j -= 1 }
        if last == 0x2E {
            guard letters >= 2 else { return false }
            // Abbreviations keep the line going.
            let token = String(decoding: bytes[j..<(bytes.count - 1)], as: UTF8.self).lowercased()
            if Acrostic.abbreviations.contains(token) { return false }
            if j > 0, bytes[j - 1] == 0x2E { return false }  // "e.g."
        }
        return letters >= 1
    }

    private static func isLetter(_ b: UInt8) -> Bool { (65...90).contains(b) || (97...122).contains(b) || b >= 0x80 }
}
