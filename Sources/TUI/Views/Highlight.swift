import Experiment
import Support

/// A character with the role it is drawn in.
public struct StyledChar: Equatable, Sendable {
    public var character: Character
    public var role: StyleRole
    public var attributes: CellAttributes
    public init(_ character: Character, _ role: StyleRole = .normal, _ attributes: CellAttributes = []) {
        self.character = character
        self.role = role
        self.attributes = attributes
    }
}

/// Lines as the acrostic scorer counts them: split on "\n", a trailing "\r" dropped.
public func replyLines(_ text: String) -> [String] {
    var lines: [String] = []
    var current = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
        if scalar == "\n" {
            if current.last == "\r" { current.removeLast() }
            lines.append(String(current))
            current = String.UnicodeScalarView()
        } else {
            current.append(scalar)
        }
    }
    if current.last == "\r" { current.removeLast() }
    lines.append(String(current))
    return lines
}

/// Which letters of a reply count for the acrostic, and whether each is the target word's letter at
/// its position: line index -> character offset in that line -> `.match` or `.mismatch`.
public func acrosticHighlights(_ text: String, word: TargetWord?) -> [Int: [Int: StyleRole]] {
    guard let word else { return [:] }
    let score = Acrostic.score(text, word: word)
    var out: [Int: [Int: StyleRole]] = [:]
    func role(_ i: Int) -> StyleRole { i < score.perPosition.count && score.perPosition[i] ? .match : .mismatch }
    if !score.usedSentences {
        for (i, line) in score.lines.enumerated() {
            guard let offset = line.letterOffset else { continue }
            out[line.lineIndex, default: [:]][offset] = role(i)
        }
        return out
    }
    // Sentences of the only non-blank line: find each one in that line to place its letter.
    let lines = replyLines(text)
    guard let lineIndex = lines.firstIndex(where: { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }) else {
        return [:]
    }
    let chars = Array(lines[lineIndex])
    var cursor = 0
    for (i, sentence) in score.lines.enumerated() {
        let needle = Array(sentence.text)
        guard !needle.isEmpty, needle.count <= chars.count else { continue }
        var found: Int?
        var k = cursor
        while k + needle.count <= chars.count {
            if chars[k] == needle[0], Array(chars[k..<k + needle.count]) == needle { found = k; break }
            k += 1
        }
        guard let start = found else { continue }
        cursor = start + needle.count
        if let offset = sentence.letterOffset { out[lineIndex, default: [:]][start + offset] = role(i) }
    }
    return out
}

/// A reply as styled lines (one per line of the text), the counting letters highlighted, tabs
/// expanded and control characters and escape sequences dropped.
public func styledReplyLines(_ text: String, word: TargetWord?, role: StyleRole = .normal) -> [[StyledChar]] {
    let marks = acrosticHighlights(text, word: word)
    return replyLines(text).enumerated().map { index, line in
        var out: [StyledChar] = []
        let chars = Array(line)
        // Skipped by Character offset, which is how the highlights count (a control is a Character of its own).
        let firstScalars = chars.map { $0.unicodeScalars.first! }
        var offset = 0
        while offset < chars.count {
            if let (end, _) = TerminalText.sequenceEnd(firstScalars, at: offset) {
                offset = end
                continue
            }
            let c = chars[offset]
            if c == "\t" {
                out.append(contentsOf: Array(repeating: StyledChar(" ", role), count: 4))
            } else {
                out.append(StyledChar(c, marks[index]?[offset] ?? role))
            }
            offset += 1
        }
        return out
    }
}

/// Row ranges of a word-wrapped line (breaks after spaces where it can).
public func wrapRanges(_ chars: [Character], width: Int) -> [Range<Int>] {
    guard width > 0, !chars.isEmpty else { return [0..<0] }
    var rows: [Range<Int>] = []
    var start = 0
    while start < chars.count {
        var used = 0
        var end = start
        while end < chars.count, used + displayWidth(chars[end]) <= width {
            used += displayWidth(chars[end])
            end += 1
        }
        if end == start { end = start + 1 }
        if end < chars.count, let space = (start..<end).last(where: { chars[$0] == " " }), space > start {
            end = space + 1
        }
        rows.append(start..<end)
        start = end
    }
    return rows
}

/// Styled lines wrapped to `width` columns; continuation rows are indented by `indent`.
public func wrapStyled(_ lines: [[StyledChar]], width: Int, indent: Int = 0) -> [[StyledChar]] {
    var rows: [[StyledChar]] = []
    for line in lines {
        let first = wrapRanges(line.map(\.character), width: width)
        guard first.count > 1, indent > 0, width > indent + 4 else {
            rows.append(contentsOf: first.map { Array(line[$0]) })
            continue
        }
        // Wrap the first row at full width, the rest at width - indent.
        let head = first[0]
        rows.append(Array(line[head]))
        let rest = Array(line[head.upperBound...])
        for r in wrapRanges(rest.map(\.character), width: width - indent) {
            rows.append(Array(repeating: StyledChar(" "), count: indent) + Array(rest[r]))
        }
    }
    return rows
}

/// "A K E W O  5/5": each line's counting letter against the word, for the read-out under a reply.
public func acrosticReadout(_ text: String, word: TargetWord?) -> [StyledChar] {
    guard let word else { return "no valid target word".map { StyledChar($0, .dim) } }
    let score = Acrostic.score(text, word: word)
    var out: [StyledChar] = []
    let n = max(word.count, score.lines.count)
    for i in 0..<n {
        if i > 0 { out.append(StyledChar(" ")) }
        if i < score.lines.count {
            let ok = i < score.perPosition.count && score.perPosition[i]
            out.append(StyledChar(score.lines[i].letter ?? "?", ok ? .match : .mismatch))
        } else {
            out.append(StyledChar("·", .dim))
        }
    }
    let tail = "  \(score.matches)/\(word.count)" + (score.exact ? " exact" : "") + (score.usedSentences ? " (sentences)" : "")
    out.append(contentsOf: tail.map { StyledChar($0, score.exact ? .accent : .normal) })
    return out
}

extension ScreenBuffer {
    /// Writes styled characters on one row; returns the columns used.
    @discardableResult
    public mutating func put(_ styled: [StyledChar], x: Int, y: Int, maxWidth: Int) -> Int {
        guard y >= 0, y < size.height else { return 0 }
        let limit = min(size.width, x + maxWidth)
        var col = x
        for s in styled {
            let w = displayWidth(s.character)
            if w == 0 { continue }
            if col + w > limit { break }
            if col >= 0 {
                self[col, y] = Cell(s.character, role: s.role, attributes: s.attributes)
                if w == 2 { self[col + 1, y] = Cell(" ", role: s.role, attributes: s.attributes, isContinuation: true) }
            }
            col += w
        }
        return col - x
    }
}
