/// Streams text out of token ids: holds back an incomplete UTF-8 sequence split across tokens, so a
/// consumer never sees a broken character. push returns the newly completed text (possibly "").
public struct StreamingDecoder: Sendable {
    private let tokenizer: Tokenizer
    private var pending: [UInt8] = []

    public init(tokenizer: Tokenizer) {
        self.tokenizer = tokenizer
    }

    public mutating func push(_ id: Int) -> String {
        pending.append(contentsOf: tokenizer.bytes(of: id))
        let ready = completeLength(pending)
        guard ready > 0 else { return "" }
        let text = String(decoding: pending[..<ready], as: UTF8.self)
        pending.removeFirst(ready)
        return text
    }

    /// Whatever is still held back, with an unfinished character as U+FFFD. Call it when generation ends.
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// How many leading bytes can be decoded now: all but a trailing sequence that is valid so far and
    /// still short of its length. Invalid bytes are released at once, since no later byte can fix them
    /// and decoding them now gives the same U+FFFDs as decoding the whole stream.
    private func completeLength(_ bytes: [UInt8]) -> Int {
        var start = bytes.count - 1
        while start >= 0, start >= bytes.count - 3, bytes[start] & 0xC0 == 0x80 { start -= 1 }
        guard start >= 0, start >= bytes.count - 3 else { return bytes.count }
        let lead = bytes[start]
        let needed: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: needed = 2
        case 0xE0: needed = 3; secondRange = 0xA0...0xBF
        case 0xED: needed = 3; secondRange = 0x80...0x9F  // surrogates are not characters
        case 0xE1...0xEF: needed = 3
        case 0xF0: needed = 4; secondRange = 0x90...0xBF
        case 0xF4: needed = 4; secondRange = 0x80...0x8F  // nothing above U+10FFFF
        case 0xF1...0xF3: needed = 4
        default: return bytes.count
        }
        let have = bytes.count - start
        guard have < needed else { return bytes.count }
        if have >= 2, !secondRange.contains(bytes[start + 1]) { return bytes.count }
        return start
    }
}
