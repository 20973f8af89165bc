/// Text made safe to place in an HTML page, as element content or inside a double- or single-quoted attribute.
public enum HTMLText {
    /// Escapes the five characters HTML gives meaning to, and replaces control characters (other than tab and line
    /// breaks) with U+FFFD: a model's reply can hold anything, and none of it may become markup.
    public static func escape(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out.append(contentsOf: "&amp;".unicodeScalars)
            case "<": out.append(contentsOf: "&lt;".unicodeScalars)
            case ">": out.append(contentsOf: "&gt;".unicodeScalars)
            case "\"": out.append(contentsOf: "&quot;".unicodeScalars)
            case "'": out.append(contentsOf: "&#39;".unicodeScalars)
            case "\t", "\n", "\r": out.append(scalar)
            default:
                let v = scalar.value
                if v < 0x20 || (0x7F...0x9F).contains(v) { out.append("\u{FFFD}") } else { out.append(scalar) }
            }
        }
        return String(out)
    }
}
