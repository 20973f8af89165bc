import Foundation

/// A TOML value. Tables keep their keys in a dictionary; `TOMLDocument.locations` says where each
/// key was written, so a reader can point at the line of a value it rejects.
public indirect enum TOMLValue: Equatable, Sendable, CustomStringConvertible {
    case string(String)
    case integer(Int64)
    case float(Double)
    case boolean(Bool)
    /// A date, time or date-time, kept as written (RFC 3339); nothing in hellotune needs more.
    case datetime(String)
    case array([TOMLValue])
    case table([String: TOMLValue])

    public var stringValue: String? { if case let .string(s) = self { return s }; return nil }
    public var intValue: Int? { if case let .integer(i) = self { return Int(exactly: i) }; return nil }
    /// Floats, and integers read as floats.
    public var doubleValue: Double? {
        switch self {
        case let .float(d): return d
        case let .integer(i): return Double(i)
        default: return nil
        }
    }
    public var boolValue: Bool? { if case let .boolean(b) = self { return b }; return nil }
    public var arrayValue: [TOMLValue]? { if case let .array(a) = self { return a }; return nil }
    public var tableValue: [String: TOMLValue]? { if case let .table(t) = self { return t }; return nil }

    /// The value under `key` when this is a table.
    public subscript(key: String) -> TOMLValue? { tableValue?[key] }

    /// A short name of the value's type for error messages ("a string", "an integer", ...).
    public var typeName: String {
        switch self {
        case .string: return "a string"
        case .integer: return "an integer"
        case .float: return "a float"
        case .boolean: return "a boolean"
        case .datetime: return "a date-time"
        case .array: return "an array"
        case .table: return "a table"
        }
    }

    public var description: String {
        switch self {
        case let .string(s): return "\"\(s)\""
        case let .integer(i): return String(i)
        case let .float(d): return String(d)
        case let .boolean(b): return String(b)
        case let .datetime(s): return s
        case let .array(a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case let .table(t): return "{" + t.keys.sorted().map { "\($0) = \(t[$0]!)" }.joined(separator: ", ") + "}"
        }
    }
}

/// Where something was written: 1-based line and column (columns count characters).
public struct TOMLLocation: Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
    public var description: String { "line \(line), column \(column)" }
}

/// A syntax error, or a value a reader rejected, with the place and the key it belongs to.
public struct TOMLError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file, when the text came from one.
    public var file: String?
    public var line: Int
    public var column: Int
    /// The dotted key being defined, when there is one.
    public var key: String?
    public var message: String

    public init(file: String? = nil, line: Int, column: Int, key: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    /// `themes/dark.toml:3:9: key 'accent.fg': unknown colour 'purpel'`
    public var description: String {
        // Line 0: the file as a whole (it cannot be read).
        var s = line > 0 ? "\(file ?? "<toml>"):\(line):\(column): " : "\(file ?? "<toml>"): "
        if let key { s += "key '\(key)': " }
        return s + message
    }
}

/// A parsed document: the root table and where each (dotted) key and table header was written.
public struct TOMLDocument: Equatable, Sendable {
    public var root: [String: TOMLValue]
    /// Dotted paths ("a.b.c"; array-of-table elements as "a[0].b") to the place their key was written.
    public var locations: [String: TOMLLocation]
    public var file: String?

    public subscript(key: String) -> TOMLValue? { root[key] }

    /// The value at a dotted path of plain (unquoted, dot-free) keys.
    public func value(at path: String) -> TOMLValue? {
        var current: TOMLValue = .table(root)
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard let next = current[String(part)] else { return nil }
            current = next
        }
        return current
    }

    /// An error about the value at `path`, placed at the line where its key was written.
    public func error(at path: String, _ message: String) -> TOMLError {
        let loc = locations[path] ?? TOMLLocation(line: 1, column: 1)
        return TOMLError(file: file, line: loc.line, column: loc.column, key: path, message: message)
    }
}

/// TOML 1.0 reader: tables `[a]`, `[a.b]`, arrays of tables `[[a]]`, dotted and quoted keys, basic
/// strings with escapes, literal strings, multi-line strings of both kinds, integers (decimal, hex,
/// octal, binary, `_` separators), floats (`inf`, `nan`), booleans, date-times (kept as text), arrays
/// (nested, multi-line, trailing comma) and inline tables; comments anywhere a line may end.
public enum TOML {
    public static func parse(_ text: String, file: String? = nil) throws -> [String: TOMLValue] {
        try parseDocument(text, file: file).root
    }

    public static func parseDocument(_ text: String, file: String? = nil) throws -> TOMLDocument {
        var p = TOMLParser(text: text, file: file)
        try p.parseDocument()
        return TOMLDocument(root: p.root.toValue(), locations: p.locations, file: file)
    }

    /// Errors name the file as it was given (relative paths stay relative).
    public static func parse(contentsOf url: URL) throws -> TOMLDocument {
        let path = url.relativePath
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw TOMLError(file: path, line: 0, column: 0, message: "this is a folder, not a file. Give the path of a .toml file in it.")
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            let reason = FileManager.default.fileExists(atPath: url.path) ? error.localizedDescription : "there is no such file"
            throw TOMLError(file: path, line: 0, column: 0, message: "cannot read the file: \(reason). Check the path.")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TOMLError(file: path, line: 1, column: 1, message: "the file is not valid UTF-8. Save it as UTF-8.")
        }
        return try parseDocument(text, file: path)
    }
}

// MARK: - Parser

/// A table under construction: how it was defined decides what may be added to it later.
private final class TableNode {
    enum Origin { case implicit, header, dotted, inline, arrayElement }
    var values: [String: Entry] = [:]
    var origin: Origin
    init(_ origin: Origin) { self.origin = origin }

    enum Entry {
        case value(TOMLValue)
        case table(TableNode)
        /// An array of tables from `[[name]]` headers; only the last element takes new keys.
        case tableArray([TableNode])
    }

    func toValue() -> [String: TOMLValue] {
        values.mapValues { entry in
            switch entry {
            case let .value(v): return v
            case let .table(t): return .table(t.toValue())
            case let .tableArray(ts): return .array(ts.map { .table($0.toValue()) })
            }
        }
    }
}

private struct TOMLParser {
    let chars: [Character]
    let file: String?
    var pos = 0
    var line = 1
    var lineStart = 0
    let root = TableNode(.header)
    var current: TableNode
    /// The dotted path of `current` for locations ("a[1].b").
    var currentPath = ""
    var locations: [String: TOMLLocation] = [:]
    /// The key whose value is being read, for error messages.
    var contextKey: String?
    /// How many arrays and inline tables enclose the value being read. Values are read recursively, so
    /// without a limit a file of a few hundred kilobytes of "[" would overflow the stack.
    var nesting = 0
    static let maxNesting = 100
    /// How many tables deep the current table header goes (`[a.b]`: 2).
    var headerDepth = 0
    /// How many tables deep the key whose value is being read goes, for keys inside its inline tables.
    var valueDepth = 0

    init(text: String, file: String?) {
        // "\r\n" is one Character in Swift; split it so line ends are uniform.
        chars = Array(text.replacingOccurrences(of: "\r\n", with: "\n"))
        self.file = file
        current = root
    }

    var column: Int { pos - lineStart + 1 }
    var atEnd: Bool { pos >= chars.count }
    var peek: Character? { pos < chars.count ? chars[pos] : nil }
    func peek(_ offset: Int) -> Character? { pos + offset < chars.count ? chars[pos + offset] : nil }

    func error(_ message: String, key: String? = nil, at location: TOMLLocation? = nil) -> TOMLError {
        TOMLError(file: file, line: location?.line ?? line, column: location?.column ?? column,
                  key: key ?? contextKey, message: message)
    }

    var location: TOMLLocation { TOMLLocation(line: line, column: column) }

    mutating func advance() {
        if chars[pos] == "\n" {
            line += 1
            lineStart = pos + 1
        }
        pos += 1
    }

    mutating func skipSpaces() {
        while let c = peek, c == " " || c == "\t" { advance() }
    }

    mutating func skipComment() throws {
        guard peek == "#" else { return }
        while let c = peek, c != "\n" {
            if isForbiddenControl(c) { throw error("control character U+\(hex(c)) in a comment") }
            advance()
        }
    }

    /// Spaces, comments and newlines (inside arrays).
    mutating func skipWhitespaceCommentsAndNewlines() throws {
        while true {
            skipSpaces()
            if peek == "#" { try skipComment() }
            if peek == "\n" { advance(); continue }
            if peek == "\r", peek(1) == "\n" { advance(); continue }
            break
        }
    }

    /// After a key/value pair or a header: only spaces and a comment before the line ends.
    mutating func expectLineEnd() throws {
        skipSpaces()
        try skipComment()
        if atEnd { return }
        guard peek == "\n" else {
            throw error("expected the end of the line after the value, found '\(peek!)'")
        }
        advance()
    }

    func isForbiddenControl(_ c: Character) -> Bool {
        guard let s = c.unicodeScalars.first, c.unicodeScalars.count == 1 else { return false }
        return (s.value < 0x20 && s != "\t") || s.value == 0x7F
    }

    func hex(_ c: Character) -> String { String(format: "%04X", c.unicodeScalars.first!.value) }

    mutating func parseDocument() throws {
        while true {
            try skipWhitespaceCommentsAndNewlines()
            guard let c = peek else { break }
            contextKey = nil
            if c == "[" {
                try parseHeader()
            } else {
                try parseKeyValue(into: current, pathPrefix: currentPath, inline: false)
                try expectLineEnd()
            }
        }
    }

    // MARK: keys

    func isBareKeyChar(_ c: Character) -> Bool {
        guard let a = c.asciiValue else { return false }
        return (a >= 48 && a <= 57) || (a >= 65 && a <= 90) || (a >= 97 && a <= 122) || a == 95 || a == 45
    }

    mutating func parseSimpleKey() throws -> String {
        guard let c = peek else { throw error("expected a key, found the end of the file") }
        if c == "\"" {
            if peek(1) == "\"", peek(2) == "\"" { throw error("a key cannot be a multi-line string") }
            return try parseBasicString()
        }
        if c == "'" {
            if peek(1) == "'", peek(2) == "'" { throw error("a key cannot be a multi-line string") }
            return try parseLiteralString()
        }
        var key = ""
        while let c = peek, isBareKeyChar(c) {
            key.append(c)
            advance()
        }
        if key.isEmpty {
            if c == "=" { throw error("missing key before '='") }
            if c == "\n" { throw error("expected a key") }
            throw error("invalid character '\(c)' in a key (bare keys use A-Z a-z 0-9 _ -; quote others)")
        }
        return key
    }

    /// `a.b."c d"` -> ["a", "b", "c d"]. A key is a path into nested tables, which are built, read and freed
    /// recursively: a key of tens of thousands of parts (an 80 KB line) overflowed the stack, so the tables a path
    /// goes through, under its table header and inside inline tables, are held to `maxNesting` levels as values are.
    mutating func parseDottedKey(under depth: Int = 0) throws -> [String] {
        var parts: [String] = []
        while true {
            skipSpaces()
            parts.append(try parseSimpleKey())
            guard depth + parts.count <= Self.maxNesting else {
                throw error("tables are nested more than \(Self.maxNesting) deep by this key; use a shorter key")
            }
            skipSpaces()
            if peek == "." { advance(); continue }
            return parts
        }
    }

    static func joinPath(_ prefix: String, _ key: String) -> String {
        let k = key.contains(".") || key.isEmpty ? "\"\(key)\"" : key
        return prefix.isEmpty ? k : prefix + "." + k
    }

    // MARK: headers

    mutating func parseHeader() throws {
        let start = location
        advance()  // [
        let isArray = peek == "["
        if isArray { advance() }
        let parts = try parseDottedKey()
        headerDepth = parts.count
        let dotted = parts.joined(separator: ".")
        contextKey = dotted
        guard peek == "]" else { throw error("expected ']' to close the table header [\(dotted)") }
        advance()
        if isArray {
            guard peek == "]" else { throw error("expected ']]' to close the array-of-tables header [[\(dotted)") }
            advance()
        }
        try expectLineEnd()

        // Walk to the parent of the last key, creating implicit tables.
        var table = root
        var path = ""
        for part in parts.dropLast() {
            path = Self.joinPath(path, part)
            switch table.values[part] {
            case nil:
                let t = TableNode(.implicit)
                table.values[part] = .table(t)
                table = t
                // A reader's error about this table then points at the header that made it.
                locations[path] = start
            case let .table(t)?:
                if t.origin == .inline { throw error("cannot extend the inline table '\(path)'", key: dotted, at: start) }
                table = t
            case let .tableArray(ts)?:
                table = ts[ts.count - 1]
                path += "[\(ts.count - 1)]"
            case .value?:
                throw error("'\(path)' is already a value, not a table", key: dotted, at: start)
            }
        }
        let last = parts[parts.count - 1]
        path = Self.joinPath(path, last)
        if isArray {
            let t = TableNode(.arrayElement)
            switch table.values[last] {
            case nil:
                table.values[last] = .tableArray([t])
                path += "[0]"
            case let .tableArray(ts)?:
                table.values[last] = .tableArray(ts + [t])
                path += "[\(ts.count)]"
            default:
                throw error("'\(dotted)' is already defined and is not an array of tables", key: dotted, at: start)
            }
            current = t
        } else {
            switch table.values[last] {
            case nil:
                let t = TableNode(.header)
                table.values[last] = .table(t)
                current = t
            case let .table(t)?:
                // A table may be opened once; a table implied by an earlier header may be opened later.
                guard t.origin == .implicit else {
                    throw error("table [\(dotted)] is defined twice", key: dotted, at: start)
                }
                t.origin = .header
                current = t
            default:
                throw error("duplicate key: [\(dotted)] is already defined as a value", key: dotted, at: start)
            }
        }
        currentPath = path
        if locations[path] == nil { locations[path] = start }
    }

    // MARK: key = value

    mutating func parseKeyValue(into table: TableNode, pathPrefix: String, inline: Bool) throws {
        let start = location
        // Table levels only: arrays and inline tables are counted apart (`nesting`), so a path is at most
        // 100 tables and 100 arrays deep.
        let outer = inline ? valueDepth : headerDepth
        let parts = try parseDottedKey(under: outer)
        let dotted = parts.joined(separator: ".")
        // Errors name the key by its full path ("accent.fg"), as a reader of the file would.
        contextKey = pathPrefix.isEmpty ? dotted : pathPrefix + "." + dotted
        skipSpaces()
        guard peek == "=" else {
            if atEnd || peek == "\n" || peek == "#" {
                throw error("missing '=' after the key '\(dotted)'")
            }
            throw error("expected '=' after the key '\(dotted)', found '\(peek!)'")
        }
        advance()
        skipSpaces()
        if atEnd || peek == "\n" || peek == "#" { throw error("missing value after '='") }
        // An inline table in the value starts below this key.
        let saved = valueDepth
        valueDepth = outer + parts.count
        defer { valueDepth = saved }
        let value = try parseValue(path: pathPrefix, key: parts)

        // Walk dotted parts, creating dotted tables.
        var t = table
        var path = pathPrefix
        for part in parts.dropLast() {
            path = Self.joinPath(path, part)
            switch t.values[part] {
            case nil:
                let n = TableNode(.dotted)
                t.values[part] = .table(n)
                t = n
                // A reader's error about this table (`foo` of `foo.bar = 1`) then points at this key, not at 1:1.
                locations[path] = start
            case let .table(n)?:
                guard n.origin == .dotted || n.origin == .implicit && !inline else {
                    throw error("cannot add keys to '\(path)' with a dotted key: it is defined elsewhere", key: dotted, at: start)
                }
                t = n
            default:
                throw error("'\(path)' is already a value, not a table", key: dotted, at: start)
            }
        }
        let last = parts[parts.count - 1]
        path = Self.joinPath(path, last)
        if t.values[last] != nil {
            let first = locations[path].map { " (first defined at line \($0.line))" } ?? ""
            throw error("duplicate key '\(dotted)'\(first)", at: start)
        }
        t.values[last] = .value(value)
        locations[path] = start
    }

    // MARK: values

    mutating func parseValue(path: String, key: [String]) throws -> TOMLValue {
        guard let c = peek else { throw error("missing value") }
        switch c {
        case "\"":
            if peek(1) == "\"", peek(2) == "\"" { return .string(try parseMultilineBasicString()) }
            return .string(try parseBasicString())
        case "'":
            if peek(1) == "'", peek(2) == "'" { return .string(try parseMultilineLiteralString()) }
            return .string(try parseLiteralString())
        case "[":
            return try parseArray(path: path, key: key)
        case "{":
            return try parseInlineTable(path: path, key: key)
        default:
            return try parseScalar()
        }
    }

    mutating func enterNesting() throws {
        guard nesting < Self.maxNesting else {
            throw error("arrays and inline tables are nested more than \(Self.maxNesting) deep; flatten the value")
        }
        nesting += 1
    }

    mutating func parseArray(path: String, key: [String]) throws -> TOMLValue {
        let open = location
        try enterNesting()
        defer { nesting -= 1 }
        advance()  // [
        var items: [TOMLValue] = []
        while true {
            try skipWhitespaceCommentsAndNewlines()
            guard let c = peek else { throw error("unterminated array (opened at line \(open.line), column \(open.column)): close it with ]") }
            if c == "]" { advance(); return .array(items) }
            items.append(try parseValue(path: path, key: key))
            try skipWhitespaceCommentsAndNewlines()
            guard let d = peek else { throw error("unterminated array (opened at line \(open.line), column \(open.column)): close it with ]") }
            if d == "," { advance(); continue }
            if d == "]" { advance(); return .array(items) }
            throw error("expected ',' or ']' in the array, found '\(d)'")
        }
    }

    mutating func parseInlineTable(path: String, key: [String]) throws -> TOMLValue {
        let open = location
        try enterNesting()
        defer { nesting -= 1 }
        advance()  // {
        let table = TableNode(.inline)
        var tablePath = path
        for k in key { tablePath = Self.joinPath(tablePath, k) }
        let savedKey = contextKey
        skipSpaces()
        if peek == "}" { advance(); return .table([:]) }
        while true {
            skipSpaces()
            guard let c = peek, c != "\n" else {
                throw error("unterminated inline table (opened at line \(open.line), column \(open.column)); inline tables must fit on one line")
            }
            if c == "}" { throw error("trailing comma in an inline table") }
            try parseKeyValue(into: table, pathPrefix: tablePath, inline: true)
            contextKey = savedKey
            skipSpaces()
            guard let d = peek, d != "\n" else {
                throw error("unterminated inline table (opened at line \(open.line), column \(open.column)); inline tables must fit on one line")
            }
            if d == "," { advance(); continue }
            if d == "}" { advance(); break }
            throw error("expected ',' or '}' in the inline table, found '\(d)'")
        }
        return .table(table.toValue())
    }

    mutating func parseBasicString() throws -> String {
        let open = location
        advance()  // "
        var s = ""
        while true {
            guard let c = peek, c != "\n" else {
                throw error("unterminated string (opened at line \(open.line), column \(open.column)): end it with \" on the same line")
            }
            advance()
            if c == "\"" { return s }
            if c == "\\" {
                s.append(contentsOf: try parseEscape())
            } else {
                if isForbiddenControl(c) { throw error("control character U+\(hex(c)) in a string; escape it") }
                s.append(c)
            }
        }
    }

    mutating func parseEscape() throws -> String {
        guard let e = peek else { throw error("unterminated string: it ends in a backslash") }
        let escLoc = TOMLLocation(line: line, column: column - 1)
        advance()
        switch e {
        case "b": return "\u{08}"
        case "t": return "\t"
        case "n": return "\n"
        case "f": return "\u{0C}"
        case "r": return "\r"
        case "e": return "\u{1B}"
        case "\"": return "\""
        case "\\": return "\\"
        case "u", "U":
            let n = e == "u" ? 4 : 8
            var digits = ""
            for _ in 0..<n {
                guard let h = peek, h.isHexDigit else {
                    throw error("invalid escape \\\(e)\(digits): expected \(n) hex digits", at: escLoc)
                }
                digits.append(h)
                advance()
            }
            guard let v = UInt32(digits, radix: 16), let scalar = Unicode.Scalar(v) else {
                throw error("\\\(e)\(digits) is not a Unicode scalar value", at: escLoc)
            }
            return String(Character(scalar))
        default:
            throw error("invalid escape sequence '\\\(e)' (use \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX)", at: escLoc)
        }
    }

    mutating func parseLiteralString() throws -> String {
        let open = location
        advance()  // '
        var s = ""
        while true {
            guard let c = peek, c != "\n" else {
                throw error("unterminated literal string (opened at line \(open.line), column \(open.column)): end it with ' on the same line")
            }
            advance()
            if c == "'" { return s }
            if isForbiddenControl(c) { throw error("control character U+\(hex(c)) in a string") }
            s.append(c)
        }
    }

    mutating func parseMultilineBasicString() throws -> String {
        let open = location
        advance(); advance(); advance()
        if peek == "\n" { advance() }  // a newline right after the opening delimiter is trimmed
        var s = ""
        while true {
            guard let c = peek else {
                throw error("unterminated multi-line string (opened at line \(open.line), column \(open.column))")
            }
            if c == "\"", peek(1) == "\"", peek(2) == "\"" {
                advance(); advance(); advance()
                // Up to two more quotes belong to the content: """a"""""" ends in a"".
                var extra = 0
                while peek == "\"", extra < 2 { s.append("\""); advance(); extra += 1 }
                return s
            }
            advance()
            if c == "\\" {
                // A line-ending backslash trims the newline and the whitespace after it.
                var look = pos
                while look < chars.count, chars[look] == " " || chars[look] == "\t" { look += 1 }
                if look < chars.count, chars[look] == "\n" {
                    while let w = peek, w == " " || w == "\t" || w == "\n" { advance() }
                    continue
                }
                s.append(contentsOf: try parseEscape())
            } else {
                if c != "\n", isForbiddenControl(c) { throw error("control character U+\(hex(c)) in a string; escape it") }
                s.append(c)
            }
        }
    }

    mutating func parseMultilineLiteralString() throws -> String {
        let open = location
        advance(); advance(); advance()
        if peek == "\n" { advance() }
        var s = ""
        while true {
            guard let c = peek else {
                throw error("unterminated multi-line literal string (opened at line \(open.line), column \(open.column))")
            }
            if c == "'", peek(1) == "'", peek(2) == "'" {
                advance(); advance(); advance()
                var extra = 0
                while peek == "'", extra < 2 { s.append("'"); advance(); extra += 1 }
                return s
            }
            advance()
            if c != "\n", isForbiddenControl(c) { throw error("control character U+\(hex(c)) in a string") }
            s.append(c)
        }
    }

    /// Numbers, booleans and date-times: read the token up to a delimiter, then classify it.
    mutating func parseScalar() throws -> TOMLValue {
        let start = location
        var token = ""
        while let c = peek {
            if c == "," || c == "]" || c == "}" || c == "\n" || c == "#" || c == "\t" { break }
            if c == " " {
                // A date and a time may be separated by one space: 1979-05-27 07:32:00.
                if token.count == 10, token.filter({ $0 == "-" }).count == 2, let n = peek(1), n.isNumber {
                    token.append("T")
                    advance()
                    continue
                }
                break
            }
            token.append(c)
            advance()
        }
        if token.isEmpty {
            throw error("missing value", at: start)
        }
        if let v = Self.classify(token) { return v }
        if token.first == "\"" || token.first == "'" {
            throw error("unterminated string", at: start)
        }
        throw error("invalid value '\(token)' (strings need quotes; numbers, true, false, arrays [...] and tables {...} do not)", at: start)
    }

    static func classify(_ token: String) -> TOMLValue? {
        switch token {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        if let i = integer(token) { return .integer(i) }
        if let d = float(token) { return .float(d) }
        if isDateTime(token) { return .datetime(token) }
        return nil
    }

    /// Underscores only between digits.
    static func stripUnderscores(_ s: Substring, allowed: (Character) -> Bool) -> String? {
        var out = ""
        var prev: Character?
        for c in s {
            if c == "_" {
                guard let p = prev, allowed(p) else { return nil }
            } else {
                if prev == "_", !allowed(c) { return nil }
                out.append(c)
            }
            prev = c
        }
        if prev == "_" { return nil }
        return out
    }

    static func integer(_ token: String) -> Int64? {
        var body = Substring(token)
        if body.hasPrefix("0x") || body.hasPrefix("0o") || body.hasPrefix("0b") {
            let radix = body.hasPrefix("0x") ? 16 : body.hasPrefix("0o") ? 8 : 2
            body = body.dropFirst(2)
            guard !body.isEmpty,
                  let digits = stripUnderscores(body, allowed: { $0.isHexDigit }) else { return nil }
            return Int64(digits, radix: radix)
        }
        var sign = ""
        if body.first == "+" || body.first == "-" {
            sign = body.first == "-" ? "-" : ""
            body = body.dropFirst()
        }
        guard let first = body.first, first.isASCII, first.isNumber else { return nil }
        if first == "0", body.count > 1 { return nil }  // no leading zeros
        guard let digits = stripUnderscores(body, allowed: { $0.isASCII && $0.isNumber }),
              digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64(sign + digits)
    }

    static func float(_ token: String) -> Double? {
        var body = Substring(token)
        var sign = ""
        if body.first == "+" || body.first == "-" {
            sign = body.first == "-" ? "-" : ""
            body = body.dropFirst()
        }
        guard let digits = stripUnderscores(body, allowed: { $0.isASCII && $0.isNumber }) else { return nil }
        // integer part, then .fraction and/or exponent
        let chars = Array(digits)
        var i = 0
        func readDigits() -> Int {
            let s = i
            while i < chars.count, chars[i].isASCII, chars[i].isNumber { i += 1 }
            return i - s
        }
        let intStart = i
        guard readDigits() > 0 else { return nil }
        if chars[intStart] == "0", i - intStart > 1 { return nil }
        var hasFraction = false, hasExponent = false
        if i < chars.count, chars[i] == "." {
            i += 1
            guard readDigits() > 0 else { return nil }
            hasFraction = true
        }
        if i < chars.count, chars[i] == "e" || chars[i] == "E" {
            i += 1
            if i < chars.count, chars[i] == "+" || chars[i] == "-" { i += 1 }
            guard readDigits() > 0 else { return nil }
            hasExponent = true
        }
        guard i == chars.count, hasFraction || hasExponent else { return nil }
        return Double(sign + digits)
    }

    static func isDateTime(_ token: String) -> Bool {
        let c = Array(token)
        func digits(_ range: Range<Int>) -> Bool {
            range.upperBound <= c.count && range.allSatisfy { c[$0].isASCII && c[$0].isNumber }
        }
        // Local time: HH:MM:SS[.frac]
        if c.count >= 8, digits(0..<2), c[2] == ":", digits(3..<5), c[5] == ":", digits(6..<8) {
            return c.count == 8 || (c[8] == "." && c.count > 9 && digits(9..<c.count))
        }
        guard c.count >= 10, digits(0..<4), c[4] == "-", digits(5..<7), c[7] == "-", digits(8..<10) else { return false }
        if c.count == 10 { return true }
        guard c[10] == "T" || c[10] == "t", c.count >= 19, digits(11..<13), c[13] == ":", digits(14..<16), c[16] == ":",
              digits(17..<19) else { return false }
        var i = 19
        if i < c.count, c[i] == "." {
            i += 1
            let s = i
            while i < c.count, c[i].isASCII, c[i].isNumber { i += 1 }
            if i == s { return false }
        }
        if i == c.count { return true }
        if c[i] == "Z" || c[i] == "z" { return i + 1 == c.count }
        if c[i] == "+" || c[i] == "-" {
            return c.count == i + 6 && digits(i + 1..<i + 3) && c[i + 3] == ":" && digits(i + 4..<i + 6)
        }
        return false
    }
}
