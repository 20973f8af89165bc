import Support

/// Terminal size in cells.
public struct Size: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var width: Int
    public var height: Int
    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }
    public var description: String { "\(width)x\(height)" }
}

/// A rectangle of cells; `x`, `y` are the top-left corner.
public struct Rect: Equatable, Sendable {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    /// The rectangle shrunk by `n` cells on every side.
    public func inset(_ n: Int) -> Rect { Rect(x: x + n, y: y + n, width: width - 2 * n, height: height - 2 * n) }
}

/// Attributes a cell adds on top of its role's theme style.
public struct CellAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = CellAttributes(rawValue: 1)
    public static let underline = CellAttributes(rawValue: 2)
    public static let reverse = CellAttributes(rawValue: 4)
    public static let dim = CellAttributes(rawValue: 8)
}

/// One terminal cell. A wide character (CJK, emoji) occupies its cell and the next one, which is
/// marked `isContinuation` and never drawn.
public struct Cell: Equatable, Sendable {
    public var character: Character
    public var role: StyleRole
    public var attributes: CellAttributes
    public var isContinuation: Bool

    public init(_ character: Character = " ", role: StyleRole = .normal, attributes: CellAttributes = [],
                isContinuation: Bool = false) {
        self.character = character
        self.role = role
        self.attributes = attributes
        self.isContinuation = isContinuation
    }

    public static let blank = Cell()
}

/// The columns a character takes in a terminal: 0 for controls and lone combining marks, 2 for East
/// Asian wide and emoji-presentation characters, 1 otherwise. (Independent of the C locale, so that
/// rendering is the same in tests and in the terminal.)
public func displayWidth(_ c: Character) -> Int {
    guard let s = c.unicodeScalars.first else { return 0 }
    let v = s.value
    if v < 0x20 || (v >= 0x7F && v < 0xA0) { return 0 }
    if v < 0x1100 {
        return s.properties.generalCategory == .nonspacingMark || s.properties.generalCategory == .enclosingMark ? 0 : 1
    }
    if s.properties.generalCategory == .nonspacingMark || s.properties.generalCategory == .enclosingMark
        || s.properties.generalCategory == .format { return 0 }
    if c.unicodeScalars.contains(where: { $0.value == 0xFE0F }) { return 2 }
    let wide: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0...0x23F0, 0x23F3...0x23F3,
        0x25FD...0x25FE, 0x2614...0x2615, 0x2648...0x2653, 0x267F...0x267F, 0x2693...0x2693, 0x26A1...0x26A1,
        0x26AA...0x26AB, 0x26BD...0x26BE, 0x26C4...0x26C5, 0x26CE...0x26CE, 0x26D4...0x26D4, 0x26EA...0x26EA,
        0x26F2...0x26F3, 0x26F5...0x26F5, 0x26FA...0x26FA, 0x26FD...0x26FD, 0x2705...0x2705, 0x270A...0x270B,
        0x2728...0x2728, 0x274C...0x274C, 0x274E...0x274E, 0x2753...0x2755, 0x2757...0x2757, 0x2795...0x2797,
        0x27B0...0x27B0, 0x27BF...0x27BF, 0x2B1B...0x2B1C, 0x2B50...0x2B50, 0x2B55...0x2B55,
        0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F,
        0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
        0x16FE0...0x16FE4, 0x17000...0x18AFF, 0x1B000...0x1B2FF, 0x1F004...0x1F004, 0x1F0CF...0x1F0CF,
        0x1F18E...0x1F18E, 0x1F191...0x1F19A, 0x1F200...0x1F202, 0x1F210...0x1F23B, 0x1F240...0x1F248,
        0x1F250...0x1F251, 0x1F260...0x1F265, 0x1F300...0x1F320, 0x1F32D...0x1F335, 0x1F337...0x1F37C,
        0x1F37E...0x1F393, 0x1F3A0...0x1F3CA, 0x1F3CF...0x1F3D3, 0x1F3E0...0x1F3F0, 0x1F3F4...0x1F3F4,
        0x1F3F8...0x1F43E, 0x1F440...0x1F440, 0x1F442...0x1F4FC, 0x1F4FF...0x1F53D, 0x1F54B...0x1F54E,
        0x1F550...0x1F567, 0x1F57A...0x1F57A, 0x1F595...0x1F596, 0x1F5A4...0x1F5A4, 0x1F5FB...0x1F64F,
        0x1F680...0x1F6C5, 0x1F6CC...0x1F6CC, 0x1F6D0...0x1F6D2, 0x1F6D5...0x1F6D7, 0x1F6EB...0x1F6EC,
        0x1F6F4...0x1F6FC, 0x1F7E0...0x1F7EB, 0x1F90C...0x1F93A, 0x1F93C...0x1F945, 0x1F947...0x1F9FF,
        0x1FA70...0x1FAFF, 0x20000...0x2FFFD, 0x30000...0x3FFFD,
    ]
    for r in wide where r.contains(v) { return 2 }
    return 1
}

/// The columns a string takes (see `displayWidth`).
public func displayWidth(_ s: String) -> Int { s.reduce(0) { $0 + displayWidth($1) } }

/// Replaces what a terminal cannot show in a cell: tabs become spaces, controls and escape sequences are dropped
/// (the CLI's one sanitiser, `TerminalText.clean`).
public func sanitizeForTerminal(_ s: String) -> String {
    TerminalText.clean(s).replacingOccurrences(of: "\t", with: "    ")
}

/// A text that may span lines (a prompt) on one line of the screen, sanitised.
public func singleLine(_ s: String) -> String {
    sanitizeForTerminal(s).replacingOccurrences(of: "\n", with: " ")
}

/// Cuts a one-line string to at most `width` columns, ending in "…" when it was cut.
public func truncate(_ s: String, to width: Int) -> String {
    guard width > 0 else { return "" }
    if displayWidth(s) <= width { return s }
    var out = ""
    var used = 0
    for c in s {
        let w = displayWidth(c)
        if used + w > width - 1 { break }
        out.append(c)
        used += w
    }
    return out + "…"
}

/// Pads (or cuts) to exactly `width` columns.
public func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
    let t = truncate(s, to: width)
    let fill = String(repeating: " ", count: max(0, width - displayWidth(t)))
    return right ? fill + t : t + fill
}

/// Word-wraps one line to `width` columns. Returns the rows with the character offset each starts at.
public func wrap(_ line: String, width: Int) -> [(offset: Int, text: String)] {
    guard width > 0 else { return [(0, "")] }
    let chars = Array(line)
    if chars.isEmpty { return [(0, "")] }
    var rows: [(Int, String)] = []
    var start = 0
    while start < chars.count {
        var used = 0
        var end = start
        while end < chars.count, used + displayWidth(chars[end]) <= width {
            used += displayWidth(chars[end])
            end += 1
        }
        if end == start { end = start + 1 }  // a character wider than the row
        if end < chars.count {
            // Break after the last space in the row, when there is one past the start.
            if let space = (start..<end).last(where: { chars[$0] == " " }), space > start {
                end = space + 1
            }
        }
        rows.append((start, String(chars[start..<end])))
        start = end
    }
    return rows
}

/// What a screen shows: a grid of cells, built by the pure `render` function and drawn by `Terminal`.
public struct ScreenBuffer: Equatable, Sendable {
    public let size: Size
    public private(set) var cells: [Cell]

    public init(size: Size) {
        self.size = Size(width: max(0, size.width), height: max(0, size.height))
        cells = Array(repeating: .blank, count: self.size.width * self.size.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * size.width + x] }
        set { cells[y * size.width + x] = newValue }
    }

    public func contains(x: Int, y: Int) -> Bool { x >= 0 && y >= 0 && x < size.width && y < size.height }

    /// Writes `text` on one row from column `x`, clipped to `maxWidth` columns (and the buffer);
    /// returns the columns written. Newlines are not interpreted.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, role: StyleRole = .normal, attributes: CellAttributes = [],
                             maxWidth: Int? = nil) -> Int {
        guard y >= 0, y < size.height else { return 0 }
        let limit = min(size.width, x + (maxWidth ?? size.width))
        var col = x
        for c in text {
            let w = displayWidth(c)
            if w == 0 { continue }
            if col + w > limit { break }
            if col >= 0 {
                self[col, y] = Cell(c, role: role, attributes: attributes)
                if w == 2 { self[col + 1, y] = Cell(" ", role: role, attributes: attributes, isContinuation: true) }
            }
            col += w
        }
        return col - x
    }

    /// Changes the style of existing cells in a row range without touching their characters.
    public mutating func style(x: Int, y: Int, width: Int, role: StyleRole, attributes: CellAttributes = []) {
        guard y >= 0, y < size.height else { return }
        for col in max(0, x)..<min(size.width, x + width) where col >= 0 {
            self[col, y].role = role
            self[col, y].attributes = attributes
        }
    }

    public mutating func fill(_ rect: Rect, _ character: Character = " ", role: StyleRole = .normal,
                              attributes: CellAttributes = []) {
        for y in max(0, rect.y)..<min(size.height, rect.maxY) {
            for x in max(0, rect.x)..<min(size.width, rect.maxX) {
                self[x, y] = Cell(character, role: role, attributes: attributes)
            }
        }
    }

    /// A single-line box with an optional title in its top border.
    public mutating func box(_ rect: Rect, title: String? = nil, role: StyleRole = .border, titleRole: StyleRole = .title) {
        guard rect.width >= 2, rect.height >= 2 else { return }
        let r = rect
        for x in r.x + 1..<r.maxX - 1 {
            put("─", x: x, y: r.y, role: role)
            put("─", x: x, y: r.maxY - 1, role: role)
        }
        for y in r.y + 1..<r.maxY - 1 {
            put("│", x: r.x, y: y, role: role)
            put("│", x: r.maxX - 1, y: y, role: role)
        }
        put("┌", x: r.x, y: r.y, role: role)
        put("┐", x: r.maxX - 1, y: r.y, role: role)
        put("└", x: r.x, y: r.maxY - 1, role: role)
        put("┘", x: r.maxX - 1, y: r.maxY - 1, role: role)
        if let title, !title.isEmpty, r.width > 4 {
            put(" " + truncate(title, to: r.width - 6) + " ", x: r.x + 2, y: r.y, role: titleRole, attributes: [.bold])
        }
    }

    /// The text of each row (continuation cells skipped, trailing spaces trimmed).
    public var lines: [String] {
        (0..<size.height).map { y in
            var s = ""
            for x in 0..<size.width where !self[x, y].isContinuation { s.append(self[x, y].character) }
            while s.last == " " { s.removeLast() }
            return s
        }
    }

    /// All rows joined with newlines: what golden files hold.
    public var text: String { lines.joined(separator: "\n") + "\n" }

    /// Column of the first occurrence of `needle` in row `y` (in cells), if any.
    public func find(_ needle: String, row y: Int) -> Int? {
        let cols = (0..<size.width).filter { !self[$0, y].isContinuation }
        let chars = cols.map { self[$0, y].character }
        let n = Array(needle)
        guard n.count <= chars.count else { return nil }
        for i in 0...(chars.count - n.count) where Array(chars[i..<i + n.count]) == n { return cols[i] }
        return nil
    }

    /// The first row and column where `needle` occurs.
    public func find(_ needle: String) -> (x: Int, y: Int)? {
        for y in 0..<size.height {
            if let x = find(needle, row: y) { return (x, y) }
        }
        return nil
    }
}
