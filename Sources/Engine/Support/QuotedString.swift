/// A string in double quotes with `"`, `\` and control characters escaped (`\n`, `\r`, `\t`, else `\u00XX`): valid
/// as a JSON string and as a TOML basic string, which is what the safetensors header and experiment files need.
public func quotedString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            // TOML also wants DEL escaped; JSON accepts it either way.
            if u.value < 0x20 || u.value == 0x7F {
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out + "\""
}
