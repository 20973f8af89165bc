/// GPT-2's split pattern, as Hugging Face's ByteLevel pre-tokenizer applies it, matched by hand:
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
enum GPT2Split {
    static func split(_ text: ScalarText, _ range: Range<Int>, into pieces: inout [Range<Int>]) {
        var i = range.lowerBound
        while i < range.upperBound {
            let n = matchLength(text, at: i, end: range.upperBound)
            pieces.append(i..<(i + n))
            i += n
        }
    }

    private static func matchLength(_ text: ScalarText, at i: Int, end: Int) -> Int {
        if let n = text.contractionLength(at: i, end: end, ignoringCase: false) { return n }
        // ` ?X+` for the three non-space classes: a single leading space joins whatever run follows it.
        let start = text.values[i] == ScalarText.space && i + 1 < end ? i + 1 : i
        let cls = text.classes[start]
        if cls != .whitespace { return text.runEnd(of: cls, from: start, end: end) - i }
        return text.whitespaceLength(at: i, end: end)
    }
}
