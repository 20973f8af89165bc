import Foundation

/// How a reader sees a letter: upper-case, without diacritics. The acrostic scorer reads initials with it, and the
/// local backend sums next-token probabilities by it, so that both agree on what "starts with A" means.
public enum LetterFolding {
    /// Upper-case without diacritics; letters that upper-case to two (ß -> SS) keep the first.
    public static func folded(_ ch: Character) -> Character {
        let plain = String(ch).folding(options: [.diacriticInsensitive, .widthInsensitive], locale: nil).uppercased()
        guard let first = plain.first else { return ch }
        return strokeLetters[first] ?? first
    }

    /// Latin letters with a stroke or ligature have no Unicode decomposition, so diacritic folding keeps them;
    /// a reader still sees their base letter.
    static let strokeLetters: [Character: Character] = ["Ø": "O", "Đ": "D", "Ł": "L", "Ħ": "H", "Ŧ": "T", "Ƀ": "B",
                                                        "Ɨ": "I", "Æ": "A", "Œ": "O", "Ð": "D"]
}
