/// The split pattern shared by Qwen2 and Llama 3 (`tokenizer.ggml.pre` "qwen2" and "llama-bpe"), matched by hand:
/// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,maxDigits}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
struct LlamaStyleSplit {
    /// 1 for Qwen2 (every digit alone), 3 for Llama 3 (numbers in groups of up to three).
    let maxDigits: Int

    func split(_ text: ScalarText, _ range: Range<Int>, into pieces: inout [Range<Int>]) {
        var i = range.lowerBound
        while i < range.upperBound {
            let n = matchLength(text, at: i, end: range.upperBound)
            pieces.append(i..<(i + n))
            i += n
        }
    }

    private func matchLength(_ text: ScalarText, at i: Int, end: Int) -> Int {
        if let n = text.contractionLength(at: i, end: end, ignoringCase: true) { return n }
        let cls = text.classes[i]
        switch cls {
        case .letter:
            return text.runEnd(of: .letter, from: i, end: end) - i
        case .number:
            return min(maxDigits, text.runEnd(of: .number, from: i, end: end) - i)
        case .whitespace, .other:
            // Any one non-newline scalar (space, tab, punctuation, emoji) may lead a word.
            if !text.isLineBreak(i), i + 1 < end, text.classes[i + 1] == .letter {
                return text.runEnd(of: .letter, from: i + 1, end: end) - i
            }
        }
        let start = text.values[i] == ScalarText.space && i + 1 < end && text.classes[i + 1] == .other ? i + 1 : i
        if text.classes[start] == .other {
            var j = text.runEnd(of: .other, from: start, end: end)
            while j < end, text.isLineBreak(j) { j += 1 }
            return j - i
        }
        // `\s*[\r\n]+` backtracks to end right after the last newline of the whitespace run.
        var j = text.runEnd(of: .whitespace, from: i, end: end) - 1
        while j >= i, !text.isLineBreak(j) { j -= 1 }
        if j >= i { return j + 1 - i }
        return text.whitespaceLength(at: i, end: end)
    }
}
