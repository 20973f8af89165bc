import Foundation
import TUI
import XCTest
import Experiment
import Store
import Support

final class ThemeTests: XCTestCase {
    static let themesDir = URL(fileURLWithPath: "\(#filePath)").deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("themes")

    func testShippedThemesSetEveryRoleAndMatchTheBuiltIns() throws {
        for name in Theme.builtinNames {
            let url = Self.themesDir.appendingPathComponent(name + ".toml")
            let theme = try Theme.load(url.path, searchDirectories: [])
            XCTAssertEqual(theme.name, name)
            XCTAssertEqual(Set(theme.styles.keys), Set(StyleRole.allCases), name)
            XCTAssertEqual(theme, Theme.builtin(name), "themes/\(name).toml and the built-in copy differ")
            // Highlighted letters must stay apart from each other and from plain text.
            XCTAssertNotEqual(theme.style(.match), theme.style(.mismatch), name)
            XCTAssertNotEqual(theme.style(.match), theme.style(.normal), name)
            XCTAssertNotEqual(theme.style(.selection), theme.style(.normal), name)
        }
        XCTAssertEqual(try Theme.load("dark", searchDirectories: [Self.themesDir]), Theme.builtinDark)
        XCTAssertEqual(Theme.availableNames(in: [Self.themesDir]).prefix(3), ["dark", "light", "high-contrast"])
    }

    func testParsesColoursAndAttributes() throws {
        let roles = StyleRole.allCases.filter { $0 != .match }.map { "[\($0.rawValue)]\nfg = \"default\"\n" }.joined()
        let theme = try Theme.parse(roles + """
        [match]
        fg = "bright-green"
        bg = 22
        attrs = ["bold", "underline"]
        """, name: "t")
        XCTAssertEqual(theme.style(.match), Style(foreground: .index(10), background: .index(22), attributes: [.bold, .underline]))
        XCTAssertEqual(ThemeColor(name: "red"), .index(1))
        XCTAssertEqual(ThemeColor(name: "bright-white"), .index(15))
        XCTAssertEqual(ThemeColor(name: "200"), .index(200))
        XCTAssertEqual(ThemeColor(name: "default"), .default)
        XCTAssertNil(ThemeColor(name: "256"))
        XCTAssertNil(ThemeColor(name: "purpel"))
    }

    func testMalformedThemeNamesFileLineAndKey() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hellotune-themes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = try String(contentsOf: Self.themesDir.appendingPathComponent("dark.toml"), encoding: .utf8)

        // A colour that does not exist.
        let badColour = good.replacingOccurrences(of: "fg = \"cyan\"\nattrs = [\"bold\"]", with: "fg = \"cyann\"\nattrs = [\"bold\"]")
        XCTAssertNotEqual(badColour, good)
        try badColour.write(to: dir.appendingPathComponent("broken.toml"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Theme.load("broken", searchDirectories: [dir])) { error in
            let e = error as? TOMLError
            XCTAssertEqual(e?.file, dir.appendingPathComponent("broken.toml").path)
            XCTAssertEqual(e?.key, "accent.fg")
            XCTAssertEqual(e?.line, good.components(separatedBy: "\n").firstIndex(of: "fg = \"cyan\"")! + 1)
            XCTAssertTrue("\(error)".contains("unknown colour"), "\(error)")
        }
        // A syntax error.
        try good.replacingOccurrences(of: "[chart]\nfg = 117", with: "[chart]\nfg = \"117").write(to: dir.appendingPathComponent("syntax.toml"), atomically: true, encoding: .utf8)
        let (theme, warning) = Theme.loadOrDefault("syntax", searchDirectories: [dir])
        XCTAssertEqual(theme, Theme.builtinDark, "falls back to the default theme")
        let message = try XCTUnwrap(warning)
        XCTAssertTrue(message.contains("syntax.toml:"), message)
        XCTAssertTrue(message.contains("key 'chart.fg'"), message)
        XCTAssertTrue(message.contains("unterminated string"), message)
        XCTAssertTrue(message.contains("using the default theme"), message)
        // A missing role, an unknown key, an unknown attribute.
        XCTAssertThrowsError(try Theme.parse("[normal]\nfg = 1\n", name: "x")) { XCTAssertTrue("\($0)".contains("[dim]"), "\($0)") }
        XCTAssertThrowsError(try Theme.parse(good + "\n[accent2]\nfg = 1\n", name: "x")) {
            XCTAssertTrue("\($0)".contains("unknown role 'accent2'"), "\($0)")
        }
        XCTAssertThrowsError(try Theme.parse(good.replacingOccurrences(of: "[chart]\nfg = 117", with: "[chart]\nfg = 117\nblink = true"), name: "x")) {
            XCTAssertTrue("\($0)".contains("chart.blink"), "\($0)")
        }
        XCTAssertThrowsError(try Theme.parse(good.replacingOccurrences(of: "attrs = [\"bold\", \"underline\"]", with: "attrs = [\"blink\"]"), name: "x")) {
            XCTAssertTrue("\($0)".contains("unknown attribute"), "\($0)")
        }
        XCTAssertThrowsError(try Theme.load("nonexistent", searchDirectories: [dir])) {
            XCTAssertTrue("\($0)".contains("no theme named 'nonexistent'"), "\($0)")
        }
    }

    /// The messages docs/bad-inputs.md shows for broken theme files: file, line and key, and what to write instead.
    func testErrorMessagesNameTheFileAndSayWhatToDo() throws {
        let good = try String(contentsOf: Self.themesDir.appendingPathComponent("dark.toml"), encoding: .utf8)
        func message(_ text: String, _ file: String) -> String {
            do { _ = try Theme.parse(text, name: "x", file: file); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(message(good.replacingOccurrences(of: "fg = \"cyan\"", with: "fg = \"cyann\""), "bad-colour.toml"),
                       "bad-colour.toml:15:1: key 'accent.fg': unknown colour \"cyann\" (use default, black, red, green, yellow, "
                           + "blue, magenta, cyan, white, bright-<colour>, or 0-255)")
        XCTAssertEqual(message(good + "\n[accent2]\nfg = 1\n", "unknown-role.toml"),
                       "unknown-role.toml:48:1: key 'accent2': unknown role 'accent2' (roles: normal, dim, accent, border, title, "
                           + "selection, match, mismatch, warning, error, chart)")
        XCTAssertEqual(message("[normal]\nfg = 1\n", "partial.toml"),
                       "partial.toml:1:1: key 'dim': the theme does not set [dim], [accent], [border], [title], [selection], "
                           + "[match], [mismatch], [warning], [error], [chart]; every role needs a table")
        XCTAssertEqual(message(good.replacingOccurrences(of: "attrs = [\"bold\", \"underline\"]", with: "attrs = [\"blink\"]"), "blink.toml"),
                       "blink.toml:31:1: key 'match.attrs': unknown attribute \"blink\" (use bold, underline, reverse, dim)")
        let (theme, warning) = Theme.loadOrDefault("missing.toml", searchDirectories: [])
        XCTAssertEqual(theme, Theme.builtinDark)
        XCTAssertEqual(warning, "theme missing.toml: no theme file missing.toml: check the path, or use a built-in theme "
            + "(dark, light, high-contrast); using the default theme (dark)")
        XCTAssertEqual(Theme.loadOrDefault("ocean", searchDirectories: [URL(fileURLWithPath: "/nowhere/themes")]).warning,
                       "theme ocean: no theme named 'ocean': use a built-in theme (dark, light, high-contrast), a path to a "
                           + ".toml file, or put ocean.toml in one of /nowhere/themes; using the default theme (dark)")
    }

    func testNoColorKeepsMatchAndMismatchApart() {
        for name in Theme.builtinNames {
            let plain = Theme.builtin(name)!.withoutColour()
            for role in StyleRole.allCases {
                XCTAssertEqual(plain.style(role).foreground, .default)
                XCTAssertEqual(plain.style(role).background, .default)
            }
            XCTAssertEqual(plain.style(.match).attributes, [.bold, .underline])
            XCTAssertEqual(plain.style(.mismatch).attributes, [.reverse])
            XCTAssertTrue(plain.style(.selection).attributes.contains(.reverse))
        }
    }

    func testEightColourFallback() {
        XCTAssertEqual(ThemeColor.index(10).approximated(colors: 8), .index(2), "bright-green -> green")
        XCTAssertEqual(ThemeColor.index(10).approximated(colors: 16), .index(10))
        XCTAssertEqual(ThemeColor.index(196).approximated(colors: 8), .index(1), "xterm red -> red")
        XCTAssertEqual(ThemeColor.index(117).approximated(colors: 8), .index(6), "light blue -> cyan")
        XCTAssertEqual(ThemeColor.index(232).approximated(colors: 8), .index(0), "dark grey -> black")
        XCTAssertEqual(ThemeColor.index(255).approximated(colors: 8), .index(7), "light grey -> white")
        XCTAssertEqual(ThemeColor.index(117).approximated(colors: 256), .index(117))
        XCTAssertEqual(ThemeColor.default.approximated(colors: 8), .default)
    }
}
