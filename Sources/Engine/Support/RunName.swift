/// Experiment names become folder names under $HELLOTUNE_HOME/runs ("NAME-ID", "NAME-ID-WORD-sSEED"), so a name is
/// held to what is safe as one path component on every system: no "/" (it nests folders, and "../" climbs out of
/// the home), no leading "." (".", "..", hidden folders), no spaces or controls (commands quote the folder, terminals
/// show it), and short enough to leave room for the rest of the folder name.
public enum RunName {
    public static let maxLength = 64

    /// Returns `name` when it may name an experiment, or says what is wrong with it.
    @discardableResult
    public static func check(_ name: String) throws -> String {
        func problem(_ text: String) -> RunNameError { RunNameError(name: name, problem: text) }
        guard !name.isEmpty else { throw problem("is empty") }
        let count = name.unicodeScalars.count
        guard count <= maxLength else { throw problem("is \(count) characters long, more than \(maxLength)") }
        for (i, s) in name.unicodeScalars.enumerated() where !isAllowed(s) {
            let shown = s.value < 0x21 || (0x7F...0x9F).contains(s.value) ? "U+\(String(s.value, radix: 16, uppercase: true))" : "'\(s)'"
            throw problem("has \(shown) at position \(i + 1)")
        }
        guard !name.hasPrefix(".") else { throw problem("starts with '.'") }
        return name
    }

    static func isAllowed(_ s: Unicode.Scalar) -> Bool {
        switch s {
        case "A"..."Z", "a"..."z", "0"..."9", ".", "_", "-": return true
        default: return false
        }
    }
}

/// An experiment name that cannot be a folder name.
public struct RunNameError: Error, CustomStringConvertible, Equatable, Sendable {
    public var name: String
    public var problem: String

    public var description: String {
        // The name is shown only once it is known to be short: it may be anything at all.
        let shown = name.unicodeScalars.count <= RunName.maxLength ? "\"\(name)\" " : ""
        return "experiment name \(shown)\(problem). Use 1-\(RunName.maxLength) letters, digits, '.', '_' or '-', "
            + "not starting with '.' (e.g. akewo-mixed): it names the run folders under $HELLOTUNE_HOME/runs."
    }
}
