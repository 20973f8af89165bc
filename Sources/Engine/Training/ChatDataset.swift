import Foundation
import Support
import ModelCore

/// A fine-tuning dataset in OpenAI's chat format: JSONL, one `{"messages": [{"role", "content", "weight"?}, ...]}`
/// object per line. Loading validates every example and reports the first problem with its file, line and field.
///
/// Rules: roles are system, user or assistant; a system message may only come first; every assistant message
/// has a user message somewhere before it; each example has at least one assistant message; `weight`, when
/// present, is 0 or 1. Blank lines are skipped, CRLF line ends and a UTF-8 byte-order mark are accepted, and
/// unknown keys are ignored.
public struct ChatDataset: Sendable {
    /// The file the examples came from (as given to `load` or `parse`).
    public let path: String
    public let examples: [[ChatMessage]]
    /// The 1-based line of each example in the file.
    public let lineNumbers: [Int]

    /// The longest line accepted: far more than an example the model's context can hold. Longer lines are
    /// refused without being parsed or even kept in memory.
    public static let maxLineBytes = 1 << 20

    /// A dataset built in memory; `lineNumbers` default to 1, 2, 3...
    public init(path: String, examples: [[ChatMessage]], lineNumbers: [Int]? = nil) {
        precondition(lineNumbers == nil || lineNumbers!.count == examples.count, "one line number per example")
        self.path = path
        self.examples = examples
        self.lineNumbers = lineNumbers ?? Array(examples.indices.map { $0 + 1 })
    }

    public static func load(path: String) throws -> ChatDataset {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DatasetError.fileMissing(path: path)
        }
        if isDirectory.boolValue { throw DatasetError.unreadable(path: path, reason: "it is a directory") }
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        } catch {
            throw DatasetError.unreadable(path: path, reason: Self.reason(error))
        }
        defer { try? handle.close() }
        // Read in chunks rather than all at once: memory stays near one line's limit whatever the file holds.
        var reader = Reader(path: path)
        while true {
            let chunk: Data?
            do {
                chunk = try handle.read(upToCount: 1 << 16)
            } catch {
                throw DatasetError.unreadable(path: path, reason: Self.reason(error))
            }
            guard let chunk, !chunk.isEmpty else { break }
            try chunk.withUnsafeBytes { try reader.push($0) }
        }
        return try reader.finish()
    }

    public static func parse(_ data: Data, path: String) throws -> ChatDataset {
        var reader = Reader(path: path)
        try data.withUnsafeBytes { try reader.push($0) }
        return try reader.finish()
    }

    /// Examples from lines as they are read: blank lines skipped, over-long lines refused before parsing.
    private struct Reader {
        let path: String
        var lines = LineSplitter(maxLineBytes: ChatDataset.maxLineBytes)
        var examples: [[ChatMessage]] = []
        var numbers: [Int] = []

        init(path: String) { self.path = path }

        mutating func push(_ bytes: UnsafeRawBufferPointer) throws {
            var splitter = lines
            try splitter.push(bytes) { try take($0) }
            lines = splitter
        }

        mutating func finish() throws -> ChatDataset {
            var splitter = lines
            try splitter.finish { try take($0) }
            guard !examples.isEmpty else { throw DatasetError.empty(path: path) }
            return ChatDataset(path: path, examples: examples, lineNumbers: numbers)
        }

        private mutating func take(_ line: LineSplitter.Line) throws {
            switch line {
            case let .tooLong(number, bytes):
                throw DatasetError.lineTooLong(path: path, line: number, bytes: bytes, limit: ChatDataset.maxLineBytes)
            case let .text(number, bytes):
                if bytes.allSatisfy({ (b: UInt8) in b == 0x20 || b == 0x09 || b == 0x0D }) { return }
                try bytes.withUnsafeBufferPointer { line in
                    if let offset = firstInvalidUTF8(line) {
                        throw DatasetError.invalidUTF8(path: path, line: number, byteOffset: offset)
                    }
                }
                examples.append(try parseLine(Data(bytes), path: path, line: number))
                numbers.append(number)
            }
        }
    }

    /// The dataset as JSONL: one line per example, keys in the order messages, role, content, weight
    /// (weight only where set). Parsing the result gives the same examples back.
    public func jsonl() -> String {
        var out = ""
        for messages in examples {
            out += "{\"messages\":["
            for (i, m) in messages.enumerated() {
                if i > 0 { out += "," }
                out += "{\"role\":"
                Self.appendJSONString(m.role, to: &out)
                out += ",\"content\":"
                Self.appendJSONString(m.content, to: &out)
                if let weight = m.weight { out += ",\"weight\":\(weight)" }
                out += "}"
            }
            out += "]}\n"
        }
        return out
    }

    /// Checks the roles, order and weights of one conversation (what `parse` checks after the JSON types).
    public static func validate(_ messages: [ChatMessage], path: String, line: Int) throws {
        guard !messages.isEmpty else { throw DatasetError.emptyMessages(path: path, line: line) }
        var sawUser = false
        var sawAssistant = false
        for (i, m) in messages.enumerated() {
            guard DatasetError.allowedRoles.contains(m.role) else {
                throw DatasetError.unknownRole(path: path, line: line, index: i, role: m.role)
            }
            if let weight = m.weight, weight != 0, weight != 1 {
                throw DatasetError.invalidWeight(path: path, line: line, index: i, value: String(weight))
            }
            switch m.role {
            case "system":
                if i != 0 { throw DatasetError.systemNotFirst(path: path, line: line, index: i) }
            case "user":
                sawUser = true
            default:
                if !sawUser { throw DatasetError.assistantWithoutUser(path: path, line: line, index: i) }
                sawAssistant = true
            }
        }
        if !sawAssistant { throw DatasetError.noAssistant(path: path, line: line) }
    }

    // MARK: - Parsing one line

    static func parseLine(_ data: Data, path: String, line: Int) throws -> [ChatMessage] {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw DatasetError.invalidJSON(path: path, line: line, reason: reason(error))
        }
        guard let top = object as? [String: Any] else {
            throw DatasetError.notAnObject(path: path, line: line, found: typeName(object))
        }
        guard let value = top["messages"], !(value is NSNull) else {
            throw DatasetError.missingMessages(path: path, line: line)
        }
        guard let array = value as? [Any] else {
            throw DatasetError.messagesNotArray(path: path, line: line, found: typeName(value))
        }
        guard !array.isEmpty else { throw DatasetError.emptyMessages(path: path, line: line) }
        var messages: [ChatMessage] = []
        messages.reserveCapacity(array.count)
        for (i, element) in array.enumerated() {
            guard let fields = element as? [String: Any] else {
                throw DatasetError.messageNotObject(path: path, line: line, index: i, found: typeName(element))
            }
            func string(_ key: String) throws -> String {
                guard let v = fields[key] else {
                    throw DatasetError.missingField(path: path, line: line, index: i, field: key)
                }
                guard !isNumber(v), let s = v as? String else {
                    throw DatasetError.fieldNotString(path: path, line: line, index: i, field: key, found: typeName(v))
                }
                return s
            }
            let role = try string("role")
            guard DatasetError.allowedRoles.contains(role) else {
                throw DatasetError.unknownRole(path: path, line: line, index: i, role: role)
            }
            let content = try string("content")
            var weight: Int?
            if let w = fields["weight"], !(w is NSNull) {
                guard let n = w as? NSNumber, !JSONBoolean.isBoolean(w), n.doubleValue == 0 || n.doubleValue == 1 else {
                    throw DatasetError.invalidWeight(path: path, line: line, index: i, value: literal(w))
                }
                weight = n.doubleValue == 0 ? 0 : 1
            }
            messages.append(ChatMessage(role: role, content: content, weight: weight))
        }
        try validate(messages, path: path, line: line)
        return messages
    }

    /// The parser's own explanation, e.g. "Invalid value around character 6."
    static func reason(_ error: Error) -> String {
        let e = error as NSError
        if let debug = e.userInfo["NSDebugDescription"] as? String, !debug.isEmpty { return debug }
        if let underlying = e.userInfo[NSUnderlyingErrorKey] as? NSError { return underlying.localizedDescription }
        return e.localizedDescription
    }


    static func isNumber(_ value: Any) -> Bool {
        value is NSNumber && !(value is String)
    }

    static func typeName(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case is String: return "string"
        case is [Any]: return "array"
        case is [String: Any]: return "object"
        default:
            if JSONBoolean.isBoolean(value) { return "boolean" }
            if value is NSNumber { return "number" }
            return "\(type(of: value))"
        }
    }

    /// A short JSON rendering of a scalar for error messages.
    static func literal(_ value: Any) -> String {
        switch value {
        case let s as String:
            var out = ""
            appendJSONString(s.count > 40 ? String(s.prefix(40)) + "..." : s, to: &out)
            return "the string \(out)"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        default:
            if JSONBoolean.isBoolean(value) { return (value as! NSNumber).boolValue ? "true" : "false" }
            if let n = value as? NSNumber {
                let d = n.doubleValue
                if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
                return String(d)
            }
            return "\(value)"
        }
    }

    /// Index of the first byte that does not belong to valid UTF-8, or nil when all of it is valid.
    static func firstInvalidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        // Fast path: all ASCII.
        if !bytes.contains(where: { $0 >= 0x80 }) { return nil }
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case let .valid(encoded): offset += encoded.count
            case .error: return offset
            case .emptyInput: return nil
            }
        }
    }

    static func appendJSONString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
