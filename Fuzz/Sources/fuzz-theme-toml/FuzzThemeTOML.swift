import FuzzSupport
import TUI
import Support

/// Arbitrary text as a theme file: either a TOMLError at a place inside the text, or a theme that styles
/// every role with colours a terminal has (0-255) and that still works on 8- and 16-colour terminals and
/// without colour.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzThemeTOML(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    let theme: Theme
    do {
        theme = try Theme.parse(text, name: "fuzz", file: "fuzz.toml")
    } catch {
        checkTOMLError(error, text: text, file: "fuzz.toml")
        return 0
    }
    for role in StyleRole.allCases {
        guard let style = theme.styles[role] else { fuzzCheck(false, "no style for \(role)"); return 0 }
        for colour in [style.foreground, style.background] {
            if case let .index(i) = colour { fuzzCheck((0...255).contains(i), "colour \(i)") }
            fuzzCheck(ThemeColor(name: colour.description) == colour, "colour \(colour) does not read back")
            for colours in [8, 16, 256] {
                let near = colour.approximated(colors: colours)
                if case let .index(i) = near { fuzzCheck((0..<colours).contains(i), "\(colour) on \(colours) colours is \(i)") }
            }
        }
    }
    let plain = theme.withoutColour()
    fuzzCheck(plain.styles.values.allSatisfy { $0.foreground == .default && $0.background == .default }, "colour left")
    return 0
}
