import Foundation

/// How a reader sees a letter: upper-case, without diacritics. The acrostic scorer reads initials with it, and the
/// local backend sums next-token probabilities by it, so that both agree on what "starts with A" means.
public enum LetterFolding {
    /// Upper-case without diacritics; letters that upper-case to two (ß -> SS) keep the first.
    public static func folded(_ ch: Character) -> Character {
        let plain = String(ch).folding(options: [.diacriticInsensitive, .widthInsensitive], locale: nil).uppercased()
        guard let first = plain.first else { return ch }
        // Width folding turns a halfwidth Hangul letter (U+FFA0-FFDC) into a conjoining jamo (U+1100-11FF), which
        // joins the jamo before it into one Character: two such initials would count as one. Keep the letter as written.
        if let v = first.unicodeScalars.first?.value,
           (0x1100...0x11FF).contains(v) || (0xA960...0xA97F).contains(v) || (0xD7B0...0xD7FF).contains(v) {
            return ch
        }
        return strokeLetters[first] ?? first
    }

    /// Latin letters with a stroke or ligature have no Unicode decomposition, so diacritic folding keeps them;
    /// a reader still sees their base letter.
    static let strokeLetters: [Character: Character] = ["Ø": "O", "Đ": "D", "Ł": "L", "Ħ": "H", "Ŧ": "T", "Ƀ": "B",
                                                        "Ɨ": "I", "Æ": "A", "Œ": "O", "Ð": "D"]
}
