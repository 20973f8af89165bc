import CNCurses
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the runtime needs from a terminal. `Terminal` is the curses one; tests use a fake.
public protocol TerminalDriver: AnyObject {
    var size: Size { get }
    /// Waits up to `timeoutMs` for a key or a resize; nil when none came.
    func readInput(timeoutMs: Int) -> Msg?
    func draw(_ buffer: ScreenBuffer)
    func setTheme(_ theme: Theme)
    /// Puts text on the system clipboard through the terminal (OSC 52).
    func copyToClipboard(_ text: String)
}

/// The curses driver: the only code that calls ncurses. Wide characters (ncursesw), colour pairs
/// allocated on demand from theme roles, 8-colour fallback, KEY_RESIZE, and the terminal restored
/// on exit, on SIGINT/SIGTERM/SIGHUP and on crash signals.
public final class Terminal: TerminalDriver {
    private var theme: Theme
    private let noColor: Bool
    private var colors = 0
    private var defaultColors = false
    private var pairs: [PairKey: Int32] = [:]
    private var nextPair: Int32 = 1
    private var stopped = false
    /// Attributes and pair for each role under the current theme.
    private var roleAttributes: [StyleRole: (attrs: Int32, pair: Int32)] = [:]
    private var lastSize: Size?

    struct PairKey: Hashable { var fg: Int32; var bg: Int32 }

    /// Starts curses. `noColor` (NO_COLOR) draws with attributes only.
    public init(theme: Theme, noColor: Bool) {
        self.noColor = noColor
        self.theme = noColor ? theme.withoutColour() : theme
        setlocale(LC_ALL, "")
        // Wide characters need a UTF-8 locale; containers often have none set (LANG unset means "C").
        if let codeset = nl_langinfo(nl_item(CODESET)), String(cString: codeset) != "UTF-8" {
            for name in ["C.UTF-8", "C.utf8", "en_US.UTF-8"] where setlocale(LC_CTYPE, name) != nil { break }
        }
        Terminal.installSignalHandlers()
        initscr()
        cbreak()
        noecho()
        nonl()
        keypad(ht_stdscr(), true)
        intrflush(ht_stdscr(), false)
        set_escdelay(25)
        curs_set(0)
        if !noColor, has_colors() {
            start_color()
            defaultColors = use_default_colors() == OK
            colors = Int(ht_colors())
        }
        // initscr installs curses' own handlers for some signals; ours restore the terminal the same way
        // and then let the signal do what it normally does.
        Terminal.installSignalHandlers()
        applyTheme()
    }

    deinit { stop() }

    /// Restores the terminal (idempotent).
    public func stop() {
        guard !stopped else { return }
        stopped = true
        curs_set(1)
        endwin()
    }

    public var size: Size { Size(width: Int(ht_cols()), height: Int(ht_lines())) }

    public var colorCount: Int { colors }

    public func setTheme(_ theme: Theme) {
        self.theme = noColor ? theme.withoutColour() : theme
        applyTheme()
        // Force a full repaint: the cells did not change, their colours did.
        clearok(ht_stdscr(), true)
    }

    private func applyTheme() {
        roleAttributes = [:]
        for role in StyleRole.allCases {
            let style = theme.style(role)
            roleAttributes[role] = (attributes(style.attributes), pair(style.foreground, style.background))
        }
    }

    private func attributes(_ a: CellAttributes) -> Int32 {
        var v: Int32 = 0
        if a.contains(.bold) { v |= ht_a_bold() }
        if a.contains(.underline) { v |= ht_a_underline() }
        if a.contains(.reverse) { v |= ht_a_reverse() }
        if a.contains(.dim) { v |= ht_a_dim() }
        return v
    }

    /// The pair number for a foreground/background, allocated the first time it is needed.
    private func pair(_ fg: ThemeColor, _ bg: ThemeColor) -> Int32 {
        guard colors > 0 else { return 0 }
        func index(_ c: ThemeColor, isForeground: Bool) -> Int32 {
            switch c.approximated(colors: colors) {
            case .default: return defaultColors ? -1 : (isForeground ? 7 : 0)
            case let .index(i): return Int32(i)
            }
        }
        let key = PairKey(fg: index(fg, isForeground: true), bg: index(bg, isForeground: false))
        if key.fg == -1 && key.bg == -1 { return 0 }
        if let p = pairs[key] { return p }
        guard nextPair < min(Int32(ht_color_pairs()), 32767) else { return 0 }
        let p = nextPair
        nextPair += 1
        init_pair(Int16(p), Int16(key.fg), Int16(key.bg))
        pairs[key] = p
        return p
    }

    public func draw(_ buffer: ScreenBuffer) {
        guard !stopped else { return }
        let current = size
        if current != lastSize {
            // After a resize curses keeps stale cells outside the new layout: start clean.
            werase(ht_stdscr())
            lastSize = current
        }
        let width = min(buffer.size.width, current.width)
        let height = min(buffer.size.height, current.height)
        var wch = [wchar_t](repeating: 0, count: 8)
        for y in 0..<height {
            for x in 0..<width {
                let cell = buffer[x, y]
                if cell.isContinuation { continue }
                let (roleAttrs, pair) = roleAttributes[cell.role] ?? (0, 0)
                let attrs = roleAttrs | attributes(cell.attributes)
                var n = 0
                for scalar in cell.character.unicodeScalars where n < 7 {
                    wch[n] = wchar_t(bitPattern: scalar.value)
                    n += 1
                }
                wch[n] = 0
                _ = ht_put_cell(Int32(y), Int32(x), wch, attrs, pair)
            }
        }
        wrefresh(ht_stdscr())
    }

    public func readInput(timeoutMs: Int) -> Msg? {
        guard !stopped else { return nil }
        wtimeout(ht_stdscr(), Int32(timeoutMs))
        var ch: wint_t = 0
        let r = wget_wch(ht_stdscr(), &ch)
        if r == ERR { return nil }
        if r == ht_key_code_yes() {
            let code = Int32(ch)
            if code == ht_key_resize() { return .resize(size) }
            return .key(Terminal.functionKey(code))
        }
        return .key(Terminal.characterKey(UInt32(ch)))
    }

    static func functionKey(_ code: Int32) -> Key {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_PPAGE: return .pageUp
        case KEY_NPAGE: return .pageDown
        case KEY_BACKSPACE: return .backspace
        case KEY_DC: return .delete
        case KEY_BTAB: return .backTab
        case KEY_ENTER: return .enter
        case KEY_F0...(KEY_F0 + 63): return .function(Int(code - KEY_F0))
        default: return .unknown(Int(code))
        }
    }

    static func characterKey(_ v: UInt32) -> Key {
        switch v {
        case 9: return .tab
        case 10, 13: return .enter
        case 27: return .escape
        case 8, 127: return .backspace
        case 1...26: return .ctrl(Character(Unicode.Scalar(v + 96)!))
        default:
            guard let s = Unicode.Scalar(v) else { return .unknown(Int(v)) }
            return .char(Character(s))
        }
    }

    public func copyToClipboard(_ text: String) {
        let sequence = "\u{1B}]52;c;" + Data(text.utf8).base64EncodedString() + "\u{07}"
        FileHandle.standardOutput.write(Data(sequence.utf8))
    }

    // MARK: signals

    /// SIGINT, SIGTERM, SIGHUP and crash signals restore the terminal, then take their default action
    /// (so the exit status still says what happened).
    static func installSignalHandlers() {
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGABRT, SIGBUS, SIGILL, SIGFPE, SIGTRAP] {
            signal(sig) { received in
                endwin()
                signal(received, SIG_DFL)
                raise(received)
            }
        }
    }
}
