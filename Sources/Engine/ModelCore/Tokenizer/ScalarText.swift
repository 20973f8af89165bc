/// Text as Unicode scalar values with their classes, so the hand-written split patterns can look ahead
/// and back by index. Pieces are ranges of scalar indices.
struct ScalarText {
    let values: [UInt32]
    let classes: [ScalarClass]

    init(_ text: String) {
        values = text.unicodeScalars.map(\.value)
        classes = text.unicodeScalars.map(ScalarClass.init)
    }

    var count: Int { values.count }

    static let apostrophe: UInt32 = 0x27
    static let space: UInt32 = 0x20

    func isLineBreak(_ i: Int) -> Bool { values[i] == 0x0A || values[i] == 0x0D }

    /// The end of the run of `cls` that starts at `i`.
    func runEnd(of cls: ScalarClass, from i: Int, end: Int) -> Int {
        var j = i
        while j < end, classes[j] == cls { j += 1 }
        return j
    }

    /// Length of `'s|'t|'re|'ve|'m|'ll|'d` at `i`, if it matches. `ignoringCase` folds ASCII only: the
    /// oracle's `(?i:...)` does not fold e.g. U+017F (long s) onto "s".
    func contractionLength(at i: Int, end: Int, ignoringCase: Bool) -> Int? {
        guard values[i] == Self.apostrophe, i + 1 < end else { return nil }
        func letter(_ k: Int) -> UInt32? {
            guard k < end else { return nil }
            let v = values[k]
            return ignoringCase && (0x41...0x5A).contains(v) ? v + 0x20 : v
        }
        switch letter(i + 1) {
        case 0x73, 0x74, 0x6D, 0x64: return 2  // s t m d
        case 0x72, 0x76: return letter(i + 2) == 0x65 ? 3 : nil  // re ve
        case 0x6C: return letter(i + 2) == 0x6C ? 3 : nil  // ll
        default: return nil
        }
    }

    /// Length of `\s+(?!\S)|\s+` at `i` (a whitespace scalar): a run followed by a non-space gives its last
    /// scalar to the next piece, so " word" stays one piece; a run that ends the text is kept whole.
    func whitespaceLength(at i: Int, end: Int) -> Int {
        let runEnd = runEnd(of: .whitespace, from: i, end: end)
        let n = runEnd - i
        return runEnd == end || n == 1 ? n : n - 1
    }
}
