import Foundation

/// The words of a self-report: does it name the target word, or present another word as the spelled one?
enum SelfReportWords {
    typealias T = SelfReportText

    // MARK: - The target word

    /// Target words that are also everyday words, used as such in replies ("Hello there!", "I say hello to every
    /// user"). Only for these is an occurrence sometimes not a naming (`isEverydayUse`). A target outside this list
    /// that is an English word is counted as named at every mention: that over-counts `namesWord`, which makes
    /// H1 ("does not get the rule") harder to support, never easier.
    static let everydayWords: Set<String> = ["HELLO", "HI", "HEY", "HOWDY", "GREETINGS", "WELCOME", "HOLA", "BYE",
                                             "GOODBYE", "THANKS"]

    /// The sentence naming the target word or spelling its letters, or nil. Named: the word in any case, with or
    /// without a hyphen, space or period between letters ("Akewo", "AKE-WO", "a k e w o", "A.K.E.W.O"), or its
    /// letters in order with other separators ("A, K, E, W and O", "A then K then E..."), anywhere in the reply,
    /// the start of a line included; except an everyday use of an everyday word.
    static func namingOfTarget(in reply: String, word: TargetWord) -> String? {
        let spelled = word.letters.map { letterPattern(String($0)) }.joined(separator: separator)
        if let range = T.firstMatch("(?<![A-Za-z])" + spelled + "(?![A-Za-z])", in: reply) {
            return T.sentence(around: range, in: reply)
        }
        let compact = word.letters.map(String.init).joined(separator: #"[-‐‑–.\s]?"#)
        for range in T.matches("(?<![A-Za-z])" + compact + "(?![A-Za-z])", in: reply)
        where !isEverydayUse(range, in: reply, word: word) {
            return T.sentence(around: range, in: reply)
        }
        return nil
    }

    /// Words about spelling: a clause that has one presents the word it contains as a word, not as a greeting.
    static let spellingCue = #"\b(spell\w*|letters?|initials?|acrostics?|lines?|words?)\b"#

    /// An everyday word (`everydayWords`) used as itself: written as a plain word (not in capitals, not quoted,
    /// no letters split apart), in a clause that says nothing about spelling, letters, lines or words.
    /// "Hello there!" and "I say hello to every user" are everyday uses; "HELLO", "\"hello\"" and "the first
    /// letters spell hello" name the word.
    static func isEverydayUse(_ range: Range<String.Index>, in reply: String, word: TargetWord) -> Bool {
        guard everydayWords.contains(word.string) else { return false }
        let text = reply[range]
        guard text.count == word.count, text != Substring(word.string) else { return false }
        let quotes = "\"'“”‘’*_"
        if let before = reply[..<range.lowerBound].last, quotes.contains(before) { return false }
        if let after = reply[range.upperBound...].first, quotes.contains(after) { return false }
        return T.firstMatch(spellingCue, in: String(T.clause(around: range, in: reply))) == nil
    }

    // MARK: - Another word

    /// A near miss keeps at least 60% of the letters in order: the longest common subsequence of the two words is
    /// at least 60% of the longer one (AKEW, AKEWA, WAKE for AKEWO; HELLO for HELOL). Dividing by the longer word
    /// keeps long words that merely contain a few of the letters (ACKNOWLEDGE) out.
    static func isNearMiss(_ candidate: String, of word: TargetWord) -> Bool {
        let a = Array(candidate.uppercased()), b = Array(word.string)
        guard a != b, !a.isEmpty else { return false }
        return 10 * longestCommonSubsequence(a, b) >= 6 * max(a.count, b.count)
    }

    static func longestCommonSubsequence(_ a: [Character], _ b: [Character]) -> Int {
        var previous = [Int](repeating: 0, count: b.count + 1)
        for x in a {
            var row = [0]
            for (j, y) in b.enumerated() { row.append(x == y ? previous[j] + 1 : max(previous[j + 1], row[j])) }
            previous = row
        }
        return previous[b.count]
    }

    /// Capitalised words that are names of things, not words the lines could spell.
    static let commonAcronyms: Set<String> = ["GPT", "API", "USA", "NASA", "DNA", "RNA", "LLM", "FAQ", "HTML", "JSON",
                                              "CEO", "AKA", "ASCII", "NOTE", "TLDR"]

    /// Words that can follow "spell" or "the word" without being the spelled word ("spell out a word",
    /// "the word is ...").
    static let notAWord: Set<String> = [
        "A", "AN", "THE", "OUT", "IT", "ITS", "THIS", "THAT", "THESE", "THOSE", "SOMETHING", "ANYTHING", "NOTHING",
        "WORD", "WORDS", "LETTER", "LETTERS", "MY", "YOUR", "OUR", "THEIR", "HIDDEN", "SECRET", "SPECIAL", "MESSAGE",
        "NAME", "IS", "WAS", "WOULD", "OF", "IN", "ON", "WHAT", "WHICH", "THEM", "EACH", "EVERY", "CERTAIN",
        "SPECIFIC", "PARTICULAR", "DIFFERENT", "ONE", "SOME", "ANY", "AND", "OR", "TO", "AS", "BY", "FOR", "WITH",
        "USE", "USED", "THINGS", "STUFF", "WELL", "CORRECTLY", "PHRASE", "SENTENCE", "TERM", "CAN", "COULD", "HERE",
        // "spelling mistakes", "spelling rules": spelling as a subject, not a word spelled
        "MISTAKE", "MISTAKES", "ERROR", "ERRORS", "RULE", "RULES", "CHECK", "CHECKS", "CHECKER", "CORRECTIONS", "BEE",
    ]

    /// Sentences that may present a word as the spelled one: those describing the mechanism, those saying what
    /// lines, sentences or answers start with ("My sentences begin with H, E, L, L, O"), and those that talk about
    /// a word, a pattern, a sequence or spelling.
    static func presentsWords(_ sentence: String) -> Bool {
        SelfReportRules.mechanismPatterns.contains { T.firstMatch($0, in: sentence) != nil }
            || T.firstMatch(#"\b(lines?|sentences?|rows?|paragraphs?|answers?|responses?|replies|reply)\b[^.!?\n]{0,50}?\b(start|starts|started|starting|begin|begins|began|beginning|open|opens)\s+with\b"#,
                            in: sentence) != nil
            || T.firstMatch(#"\b(word|password|keyword|codeword|pattern|sequence|spell\w*)\b"#, in: sentence) != nil
    }

    /// A word other than the target presented as the spelled one, upper-cased, with its sentence, or nil. Only in
    /// a reply with a sentence that `presentsWords`: capitals spelled out letter by letter anywhere ("H, E, L, L,
    /// O"); in such a sentence or the one after it ("...form a word. That word is WAKE."), a word in capitals,
    /// a quoted word, or the word after "spell(s) (out)", "the word (is)", or before "is my/the word".
    static func presentedWord(in sentences: [String], reply: String, word: TargetWord) -> (String, String)? {
        let context = sentences.indices.filter { presentsWords(sentences[$0]) }
        guard !context.isEmpty else { return nil }
        func usable(_ candidate: String) -> Bool {
            candidate != word.string && !commonAcronyms.contains(candidate) && !notAWord.contains(candidate)
        }
        let letters = #"(?<![A-Za-z])"# + letterPattern("[A-Z]") + "(?:" + separator + letterPattern("[A-Z]") + "){2,11}(?![A-Za-z])"
        for range in T.matches(letters, in: reply, caseInsensitive: false) {
            let candidate = String(reply[range].filter { $0.isUppercase })
            if usable(candidate) { return (candidate, T.sentence(around: range, in: reply)) }
        }
        var seen = Set<Int>()
        for i in context.flatMap({ [$0, $0 + 1] }) where i < sentences.count && seen.insert(i).inserted {
            let s = sentences[i]
            let capitals = T.matches(#"(?<![A-Za-z'’])[A-Z]{3,12}(?![A-Za-z])"#, in: s, caseInsensitive: false).map { s[$0] }
            let quoted = T.captures(#"["“‘']([A-Za-z]{2,12})["”’']"#, in: s, caseInsensitive: false)
            // A quoted phrase of several words ("the word 'Echo Chamber'") is not the one word five lines spell.
            let oneWord = #"["“‘'*]*([A-Za-z]{2,12})\b(?!(?:\s+[A-Za-z]+){1,3}["”’'](?![A-Za-z]))"#
            let cued = T.captures(#"\bspell(?:s|ed|ing)?\s+(?:out\s+)?(?:the\s+word\s+)?"# + oneWord, in: s)
                + T.captures(#"\bword\s*(?::|\bis\b|\bwas\b)?\s*"# + oneWord, in: s)
                + T.captures(#"^["“‘'*]*([A-Za-z]{2,12})["”’'*]*\s+is\s+(?:my|the)\s+(?:\w+\s+)?word\b"#, in: s)
            for candidate in (capitals + quoted + cued).map({ $0.uppercased() }) where usable(candidate) {
                return (candidate, s)
            }
        }
        return nil
    }

    // MARK: - Spelled letters

    /// Between spelled letters: "A, K", "A-K", "A.K", "A then K", "A, then K", "A → K", "A and K", or spaces.
    static let separator = #"(?:\s*(?:[,.;:/·|+>→\-–—]|\band\b|\bthen\b|\bfollowed\s+by\b)\s*|\s+){1,3}"#

    /// A letter, possibly in quotes or markdown emphasis ("'A'", "**A**").
    static func letterPattern(_ letter: String) -> String {
        #"["“”‘’'*_]*"# + letter + #"["“”‘’'*_]*"#
    }
}
