import Foundation
import Support

/// A terminal colour: the terminal's own default, or an index into its palette (0-255).
public enum ThemeColor: Equatable, Hashable, Sendable, CustomStringConvertible {
    case `default`
    case index(Int)

    public static let names = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]

    /// "default", a colour name, "bright-<name>", or a number 0-255.
    public init?(name raw: String) {
        let s = raw.lowercased().trimmingCharacters(in: .whitespaces)
        if s == "default" || s == "none" { self = .default; return }
        if let i = Self.names.firstIndex(of: s) { self = .index(i); return }
        for prefix in ["bright-", "bright_", "bright"] where s.hasPrefix(prefix) {
            if let i = Self.names.firstIndex(of: String(s.dropFirst(prefix.count))) { self = .index(8 + i); return }
        }
        if s == "grey" || s == "gray" { self = .index(8); return }
        if let n = Int(s), (0...255).contains(n) { self = .index(n); return }
        return nil
    }

    public var description: String {
        switch self {
        case .default: return "default"
        case let .index(i) where i < 8: return Self.names[i]
        case let .index(i) where i < 16: return "bright-" + Self.names[i - 8]
        case let .index(i): return String(i)
        }
    }

    /// The nearest colour a terminal with `colors` colours can show (8 or 16 when it lacks 256).
    public func approximated(colors: Int) -> ThemeColor {
        guard case let .index(n) = self, n >= colors else { return self }
        if n < 16 { return .index(n - 8) }  // bright-x -> x on an 8-colour terminal
        // 6x6x6 cube (16-231) or grey ramp (232-255) to RGB, then the nearest basic colour.
        let rgb: (Int, Int, Int)
        if n >= 232 {
            let v = 8 + (n - 232) * 10
            rgb = (v, v, v)
        } else {
            let c = n - 16
            let level = [0, 95, 135, 175, 215, 255]
            rgb = (level[c / 36], level[(c / 6) % 6], level[c % 6])
        }
        // The basic colour with the same dominant channels (so light blue stays cyan, not white);
        // greys go to black, grey or white.
        let (r, g, b) = rgb
        let hi = max(r, g, b), lo = min(r, g, b)
        if hi - lo < 40 {
            if colors >= 16 { return .index(hi < 50 ? 0 : hi < 160 ? 8 : hi < 230 ? 7 : 15) }
            return .index(hi < 50 ? 0 : 7)
        }
        func on(_ v: Int) -> Bool { (v - lo) * 2 > hi - lo }
        let basic = (on(r) ? 1 : 0) | (on(g) ? 2 : 0) | (on(b) ? 4 : 0)
        return .index(colors >= 16 && hi > 215 ? basic + 8 : basic)
    }
}

/// How one role looks.
public struct Style: Equatable, Hashable, Sendable {
    public var foreground: ThemeColor
    public var background: ThemeColor
    public var attributes: CellAttributes

    public init(foreground: ThemeColor = .default, background: ThemeColor = .default, attributes: CellAttributes = []) {
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
    }
}

/// Colours and attributes for every `StyleRole`, read from `themes/NAME.toml`:
///
///     [match]
///     fg = "green"          # default, black … white, bright-black … bright-white, or 0-255
///     bg = "default"
///     attrs = ["bold", "underline"]   # bold, underline, reverse, dim
public struct Theme: Equatable, Sendable {
    public var name: String
    public var styles: [StyleRole: Style]

    public init(name: String, styles: [StyleRole: Style]) {
        self.name = name
        self.styles = styles
    }

    public func style(_ role: StyleRole) -> Style { styles[role] ?? Style() }

    public static let attributeNames: [(String, CellAttributes)] = [
        ("bold", .bold), ("underline", .underline), ("reverse", .reverse), ("dim", .dim),
    ]

    /// Parses a theme file's text. Every role must be given; unknown roles, keys, colours and
    /// attributes are errors naming the file, line and key.
    public static func parse(_ text: String, name: String, file: String? = nil) throws -> Theme {
        try parse(TOML.parseDocument(text, file: file), name: name)
    }

    static func parse(_ doc: TOMLDocument, name: String) throws -> Theme {
        let file = doc.file
        var styles: [StyleRole: Style] = [:]
        var themeName = name
        for key in doc.root.keys.sorted() {
            let value = doc.root[key]!
            if key == "name" {
                guard let s = value.stringValue else { throw doc.error(at: key, "the theme name must be a string") }
                themeName = s
                continue
            }
            if key == "description" { continue }
            guard let role = StyleRole(rawValue: key) else {
                throw doc.error(at: key, "unknown role '\(key)' (roles: \(StyleRole.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard let table = value.tableValue else {
                throw doc.error(at: key, "expected a table [\(key)] with fg, bg and attrs, found \(value.typeName)")
            }
            var style = Style()
            for (k, v) in table {
                let path = "\(key).\(k)"
                switch k {
                case "fg", "bg":
                    let colour: ThemeColor?
                    switch v {
                    case let .string(s): colour = ThemeColor(name: s)
                    case let .integer(i): colour = (0...255).contains(i) ? .index(Int(i)) : nil
                    default: colour = nil
                    }
                    guard let colour else {
                        throw doc.error(at: path, "unknown colour \(v) (use default, black, red, green, yellow, blue, magenta, cyan, white, bright-<colour>, or 0-255)")
                    }
                    if k == "fg" { style.foreground = colour } else { style.background = colour }
                case "attrs", "attributes":
                    let items: [TOMLValue]
                    if let a = v.arrayValue { items = a } else if v.stringValue != nil { items = [v] } else {
                        throw doc.error(at: path, "expected a list of attributes like [\"bold\", \"underline\"], found \(v.typeName)")
                    }
                    for item in items {
                        guard let s = item.stringValue, let a = attributeNames.first(where: { $0.0 == s.lowercased() }) else {
                            throw doc.error(at: path, "unknown attribute \(item) (use bold, underline, reverse, dim)")
                        }
                        style.attributes.insert(a.1)
                    }
                case "bold", "underline", "reverse", "dim":
                    guard let b = v.boolValue else { throw doc.error(at: path, "expected true or false, found \(v.typeName)") }
                    if b { style.attributes.insert(attributeNames.first { $0.0 == k }!.1) }
                default:
                    throw doc.error(at: path, "unknown key '\(k)' (a role takes fg, bg and attrs)")
                }
            }
            styles[role] = style
        }
        let missing = StyleRole.allCases.filter { styles[$0] == nil }
        if !missing.isEmpty {
            throw TOMLError(file: file, line: 1, column: 1, key: missing[0].rawValue,
                            message: "the theme does not set \(missing.map { "[\($0.rawValue)]" }.joined(separator: ", ")); every role needs a table")
        }
        return Theme(name: themeName, styles: styles)
    }

    /// For NO_COLOR: no colours at all, attributes kept, and highlighted letters kept apart by
    /// attributes alone (match bold+underline, mismatch reverse; selection reverse).
    public func withoutColour() -> Theme {
        var s = styles.mapValues { Style(foreground: .default, background: .default, attributes: $0.attributes) }
        s[.match] = Style(attributes: [.bold, .underline])
        s[.mismatch] = Style(attributes: [.reverse])
        if s[.selection]?.attributes.contains(.reverse) != true { s[.selection]?.attributes.insert(.reverse) }
        if s[.title]?.attributes.isEmpty != false { s[.title]?.attributes = [.bold] }
        return Theme(name: name, styles: s)
    }

    // MARK: finding themes

    /// The themes shipped with hellotune, by name; the first is the default.
    public static let builtinNames = ["dark", "light", "high-contrast"]

    public static var builtinDark: Theme { try! parse(BuiltinThemes.dark, name: "dark") }

    public static func builtin(_ name: String) -> Theme? {
        switch name {
        case "dark": return try? parse(BuiltinThemes.dark, name: "dark")
        case "light": return try? parse(BuiltinThemes.light, name: "light")
        case "high-contrast": return try? parse(BuiltinThemes.highContrast, name: "high-contrast")
        default: return nil
        }
    }

    /// Folders searched for NAME.toml, first match wins: $HELLOTUNE_HOME/themes, ./themes, and
    /// themes/ next to or above the executable (a source checkout's .build/release/hellotune).
    public static func searchDirectories(home: URL = Paths.home) -> [URL] {
        var dirs = [home.appendingPathComponent("themes"),
                    URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("themes")]
        var exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            dirs.append(exe.appendingPathComponent("themes"))
            dirs.append(exe.appendingPathComponent("share/hellotune/themes"))
            exe = exe.deletingLastPathComponent()
        }
        var seen = Set<String>()
        return dirs.filter { seen.insert($0.standardizedFileURL.path).inserted }
    }

    /// Theme names available: the built-in ones, then any other NAME.toml in the search folders.
    public static func availableNames(in dirs: [URL]) -> [String] {
        var names = builtinNames
        for dir in dirs {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            for f in files.sorted() where f.hasSuffix(".toml") {
                let n = String(f.dropLast(5))
                if !names.contains(n) { names.append(n) }
            }
        }
        return names
    }

    /// Loads a theme by name (searched in `dirs`, then the built-in ones) or by path (anything with
    /// a "/" or ending in .toml). Throws a `TOMLError` for a malformed file and `ThemeError` when
    /// there is no such theme.
    public static func load(_ nameOrPath: String, searchDirectories dirs: [URL]) throws -> Theme {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".toml") {
            let url = URL(fileURLWithPath: nameOrPath)
            guard FileManager.default.fileExists(atPath: url.path) else { throw ThemeError.notFound(nameOrPath, searched: []) }
            // Errors name the file as the user gave it.
            let doc = try TOML.parse(contentsOf: URL(fileURLWithPath: nameOrPath))
            return try parse(doc, name: url.deletingPathExtension().lastPathComponent)
        }
        for dir in dirs {
            let url = dir.appendingPathComponent(nameOrPath + ".toml")
            if FileManager.default.fileExists(atPath: url.path) {
                let text: String
                do { text = try String(contentsOf: url, encoding: .utf8) } catch {
                    throw TOMLError(file: url.path, line: 0, column: 0, message: "cannot read the file: \(error.localizedDescription)")
                }
                return try parse(text, name: nameOrPath, file: url.path)
            }
        }
        if let t = builtin(nameOrPath) { return t }
        throw ThemeError.notFound(nameOrPath, searched: dirs.map(\.path))
    }

    /// Like `load`, but never fails: on an error it returns the default theme and the message to show.
    public static func loadOrDefault(_ nameOrPath: String, searchDirectories dirs: [URL]) -> (theme: Theme, warning: String?) {
        do {
            return (try load(nameOrPath, searchDirectories: dirs), nil)
        } catch {
            return (builtinDark, "theme \(nameOrPath): \(error); using the default theme (dark)")
        }
    }
}

public enum ThemeError: Error, CustomStringConvertible, Equatable {
    case notFound(String, searched: [String])
    public var description: String {
        switch self {
        case let .notFound(name, searched):
            if searched.isEmpty {
                return "no theme file \(name): check the path, or use a built-in theme (\(Theme.builtinNames.joined(separator: ", ")))"
            }
            return "no theme named '\(name)': use a built-in theme (\(Theme.builtinNames.joined(separator: ", "))), a path to a "
                + ".toml file, or put \(name).toml in one of \(searched.joined(separator: ", "))"
        }
    }
}
