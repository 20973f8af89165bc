/// Text from outside hellotune (a model's reply, an API server's reply or error, a dataset field) made safe to
/// write to a terminal. A terminal obeys control characters and escape sequences in what it is given: one reply
/// could set the window title (OSC 0), move the cursor over earlier output, or, on some terminals, write the
/// clipboard or query the terminal so that its answer lands in the shell's input.
///
/// Every C0 and C1 control except "\n" and "\t" goes, and with an escape sequence the whole sequence goes (ECMA-48:
/// CSI, OSC ended by BEL or ST, DCS, SOS, PM and APC strings, two- and three-character escapes), so that "\e[31mred"
/// reads "red" rather than "[31mred". A lone ESC goes alone.
public enum TerminalText {
    /// `text` without control characters and escape sequences; "\n" and "\t" stay. A sequence that never ends
    /// (an OSC without its BEL or ST) takes the rest of the text with it, as it would in the terminal.
    public static func clean(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        return clean(Array(text.unicodeScalars)).text
    }

    /// Whether a terminal could act on `s`: a C0 control other than "\n" and "\t", DEL, or a C1 control.
    public static func isControl(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        return (v < 0x20 && v != 0x0A && v != 0x09) || (0x7F...0x9F).contains(v)
    }

    /// Where the control or escape sequence that starts at `i` ends (one past its last scalar), or nil when
    /// `scalars[i]` is not a control. `complete` is false when `scalars` ended inside it, so that a stream can wait
    /// for the rest.
    public static func sequenceEnd(_ scalars: [Unicode.Scalar], at i: Int) -> (end: Int, complete: Bool)? {
        guard i < scalars.count, isControl(scalars[i]) else { return nil }
        let n = scalars.count
        switch scalars[i].value {
        case 0x1B:
            guard i + 1 < n else { return (n, false) }
            switch scalars[i + 1].value {
            case 0x5B: return csiEnd(scalars, from: i + 2)                    // ESC [  CSI
            case 0x5D, 0x50, 0x58, 0x5E, 0x5F: return stringEnd(scalars, from: i + 2) // ESC ] P X ^ _
            case 0x20...0x2F:                                                 // ESC, intermediates, final: ESC ( B
                var j = i + 1
                while j < n, (0x20...0x2F).contains(scalars[j].value) { j += 1 }
                guard j < n else { return (n, false) }
                return (0x30...0x7E).contains(scalars[j].value) ? (j + 1, true) : (j, true)
            case 0x30...0x7E: return (i + 2, true)                            // ESC 7, ESC c, ESC = ...
            default: return (i + 1, true)                                     // a lone ESC
            }
        case 0x9B: return csiEnd(scalars, from: i + 1)
        case 0x9D, 0x90, 0x98, 0x9E, 0x9F: return stringEnd(scalars, from: i + 1)
        default: return (i + 1, true)
        }
    }

    /// The clean text, and where an unfinished sequence at the end begins (nil when there is none).
    static func clean(_ scalars: [Unicode.Scalar]) -> (text: String, unfinishedFrom: Int?) {
        var out = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            guard let (end, complete) = sequenceEnd(scalars, at: i) else {
                out.append(scalars[i])
                i += 1
                continue
            }
            if !complete { return (String(out), i) }
            i = end
        }
        return (String(out), nil)
    }

    /// Parameter bytes, intermediate bytes, then one final byte. Anything else ends it early, unconsumed, and is
    /// then dealt with on its own (a terminal acts on a control inside a CSI, too).
    private static func csiEnd(_ s: [Unicode.Scalar], from start: Int) -> (end: Int, complete: Bool) {
        var j = start
        while j < s.count, (0x30...0x3F).contains(s[j].value) { j += 1 }
        while j < s.count, (0x20...0x2F).contains(s[j].value) { j += 1 }
        guard j < s.count else { return (s.count, false) }
        return (0x40...0x7E).contains(s[j].value) ? (j + 1, true) : (j, true)
    }

    /// A control string (OSC, DCS, SOS, PM, APC) runs to ST (ESC \ or 0x9C); xterm also ends an OSC at BEL, and
    /// CAN or SUB cancels any of them. An ESC that does not start ST starts a new sequence.
    private static func stringEnd(_ s: [Unicode.Scalar], from start: Int) -> (end: Int, complete: Bool) {
        var j = start
        while j < s.count {
            switch s[j].value {
            case 0x07, 0x9C, 0x18, 0x1A: return (j + 1, true)
            case 0x1B:
                guard j + 1 < s.count else { return (s.count, false) }
                return s[j + 1] == "\\" ? (j + 2, true) : (j, true)
            default: j += 1
            }
        }
        return (s.count, false)
    }
}

/// `TerminalText.clean` for text that arrives in pieces (a streamed reply): a sequence cut between two pieces is
/// held back until it ends, so neither half reaches the terminal as text (one still unfinished at the end is dropped).
public struct TerminalTextStream: Sendable {
    /// An unfinished sequence longer than this is dropped rather than held: nothing of it is shown either way.
    public static let maxHeld = 4096
    private var held: [Unicode.Scalar] = []

    public init() {}

    /// The clean text of `piece`, less any sequence it leaves unfinished.
    public mutating func feed(_ piece: String) -> String {
        let scalars = held + Array(piece.unicodeScalars)
        let (text, unfinished) = TerminalText.clean(scalars)
        held = unfinished.map { scalars.count - $0 <= Self.maxHeld ? Array(scalars[$0...]) : [] } ?? []
        return text
    }
}
