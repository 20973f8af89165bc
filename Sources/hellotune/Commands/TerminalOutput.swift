import ArgumentParser
import Foundation
import Support

/// Human-readable output on stdout. Replies, server messages and dataset fields reach it, so it goes through the
/// one sanitiser: no escape sequence from them gets to act on the user's terminal.
func say(_ s: String) {
    print(TerminalText.clean(s))
}

/// JSON for stdout. JSON encoders escape C0 controls but write DEL and the C1 controls (U+0080-U+009F, which some
/// terminals obey, 0x9B being CSI) as they are; as \u escapes they mean the same to a JSON reader.
func terminalSafeJSON(_ json: String) -> String {
    guard json.unicodeScalars.contains(where: { (0x7F...0x9F).contains($0.value) }) else { return json }
    var out = ""
    for scalar in json.unicodeScalars {
        if (0x7F...0x9F).contains(scalar.value) {
            out += String(format: "\\u%04x", scalar.value)
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// The top of the program: ArgumentParser's own `main`, except that its error messages, which quote servers,
/// files and replies, go through the sanitiser too. Synchronous, on the main thread: no subcommand is async, and a
/// command run from an async `main` peaked ~50 MB higher in `bench train` (glibc gives other threads arenas of their
/// own).
enum SafeMain {
    static func run() -> Never {
        do {
            var command = try Hellotune.parseAsRoot()
            try command.run()
            exit(0)
        } catch {
            let code = Hellotune.exitCode(for: error)
            let message = TerminalText.clean(Hellotune.fullMessage(for: error))
            // Help and other clean exits go to stdout, as ArgumentParser prints them.
            if !message.isEmpty {
                if code.isSuccess {
                    print(message)
                } else {
                    FileHandle.standardError.write(Data((message + "\n").utf8))
                }
            }
            exit(code.rawValue)
        }
    }
}
