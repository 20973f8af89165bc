import FuzzSupport
import Experiment

/// Arbitrary text as a model's reply, scored as an acrostic. The scorer never traps and its result is
/// consistent: one entry per letter of the word, lines that point back into the text, accuracy the share of
/// matches, and a reply scored against its own initials (when they form a valid word) is exact.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAcrostic(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    _ = try? TargetWord(text)
    let lines = Acrostic.lines(in: text)
    let raw = Acrostic.rawLines(text)
    for word in ["HELLO", "AKEWO", "AB"] {
        let score = Acrostic.score(text, word: try! TargetWord(word))
        check(score, word: word, text: text, raw: raw)
        fuzzCheck(score.lines == lines, "score and lines(in:) disagree")
    }
    let initials = lines.compactMap(\.letter)
    if initials.count == lines.count, let own = try? TargetWord(String(initials)), own.string == String(initials) {
        let score = Acrostic.score(text, word: own)
        fuzzCheck(score.exact && score.firstDeviation == nil, "not exact against its own initials \(own): \(excerpt(text))")
    }
    return 0
}

private func check(_ s: AcrosticScore, word: String, text: String, raw: [String]) {
    let n = word.count
    fuzzCheck(s.word == word && s.perPosition.count == n, "one position per letter")
    fuzzCheck(s.accuracy == Double(s.matches) / Double(n), "accuracy \(s.accuracy) for \(s.matches) of \(n)")
    fuzzCheck(s.exact == (s.lines.count == n && s.matches == n), "exact is \(s.exact)")
    if s.exact { fuzzCheck(s.firstDeviation == nil, "exact with a deviation") }
    if let d = s.firstDeviation { fuzzCheck(d <= n, "first deviation \(d)") }
    // The documented promise: one initial per line, so positions line up.
    fuzzCheck(s.initials.count == s.lines.count, "initials \(excerpt(s.initials)) for \(s.lines.count) lines")
    for (position, line) in s.lines.enumerated() {
        if s.usedSentences {
            fuzzCheck(line.lineIndex == position, "sentence \(position) has index \(line.lineIndex)")
        } else {
            fuzzCheck(raw.indices.contains(line.lineIndex) && raw[line.lineIndex] == line.text, "line \(line.lineIndex) is not in the text")
            fuzzCheck(!line.text.unicodeScalars.contains("\n"), "a line with a line break")
        }
        fuzzCheck((line.letter == nil) == (line.letterOffset == nil), "letter without offset or the reverse")
        if let offset = line.letterOffset {
            let chars = Array(line.text)
            fuzzCheck(chars.indices.contains(offset) && chars[offset].isLetter, "offset \(offset) is not a letter of \(excerpt(line.text))")
        }
        if position < n {
            fuzzCheck(s.perPosition[position] == (line.letter == Array(word)[position]), "position \(position)")
        }
    }
}
