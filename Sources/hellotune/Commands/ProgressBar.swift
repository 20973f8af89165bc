import Foundation
import Support

/// A one-line progress bar on stderr, redrawn in place when stderr is a terminal and printed
/// every few percent otherwise (so logs stay readable).
final class ProgressBar {
    let label: String
    private let isTTY = isatty(STDERR_FILENO) != 0
    /// The tenth of the work last printed off a terminal; nil until the first update, which is always printed.
    private var lastPrintedTenth: Int?
    private var open = false

    init(label: String) { self.label = label }

    func update(done: Int, total: Int, detail: String) {
        let fraction = total > 0 ? Double(done) / Double(total) : 0
        let width = 24
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        // The detail can quote a server; a newline in it would break the redrawn line.
        let line = TerminalText.clean("\(label) \(done)/\(total) [\(bar)] \(detail)").replacingOccurrences(of: "\n", with: " ")
        if isTTY {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
            open = true
        } else {
            let tenth = total > 0 ? done * 10 / total : 0
            if tenth != lastPrintedTenth || done == total {
                lastPrintedTenth = tenth
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
        }
    }

    func finishLine() {
        if open { FileHandle.standardError.write(Data("\n".utf8)) }
        open = false
    }
}

func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let s = Int(seconds.rounded())
    return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
}
