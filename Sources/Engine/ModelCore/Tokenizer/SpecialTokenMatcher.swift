/// Finds control and user-defined tokens written literally in the text, so "<|im_end|>" becomes one id
/// instead of being spelled out byte by byte. At each position the longest token wins (leftmost-longest,
/// as Hugging Face's added-token matcher does).
struct SpecialTokenMatcher {
    enum Segment: Equatable {
        case text(Range<Int>)
        case special(Int)
    }

    /// Candidates by first scalar, longest first.
    private let candidates: [UInt32: [(scalars: [UInt32], id: Int)]]

    /// `tokens` pairs each token's text with its id; a text listed twice keeps its last id, like the vocabulary.
    init(tokens: [(text: String, id: Int)]) {
        var byText: [[UInt32]: Int] = [:]
        for token in tokens where !token.text.isEmpty { byText[token.text.unicodeScalars.map(\.value)] = token.id }
        var table: [UInt32: [(scalars: [UInt32], id: Int)]] = [:]
        for (scalars, id) in byText { table[scalars[0], default: []].append((scalars, id)) }
        candidates = table.mapValues { $0.sorted { $0.scalars.count > $1.scalars.count } }
    }

    var isEmpty: Bool { candidates.isEmpty }

    func segments(_ values: [UInt32]) -> [Segment] {
        var out: [Segment] = []
        var textStart = 0
        var i = 0
        while i < values.count {
            if let list = candidates[values[i]], let match = list.first(where: { matches($0.scalars, values, at: i) }) {
                if textStart < i { out.append(.text(textStart..<i)) }
                out.append(.special(match.id))
                i += match.scalars.count
                textStart = i
            } else {
                i += 1
            }
        }
        if textStart < values.count { out.append(.text(textStart..<values.count)) }
        return out
    }

    private func matches(_ token: [UInt32], _ values: [UInt32], at i: Int) -> Bool {
        guard values.count - i >= token.count else { return false }
        for k in 1..<token.count where values[i + k] != token[k] { return false }
        return true
    }
}
