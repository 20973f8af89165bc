import ArgumentParser
import Engine
import Foundation

/// The default command: the interactive explorer. Until the full-screen UI lands this is a
/// line-based chat on the model, with the first letter of each reply line shown.
struct Explore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explore", abstract: "Interactive exploration of a model (the default command).")
    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @Option(help: "System message (default: the model's own).") var system: String?

    func run() throws {
        guard isatty(STDIN_FILENO) != 0 && isatty(STDOUT_FILENO) != 0 else {
            note("hellotune: the explorer needs a terminal. For scripts use `hellotune chat --prompt ...` (see `hellotune --help`).")
            throw ExitCode(2)
        }
        let m = try model.load()
        let generator = Generator(model: m)
        print("hellotune — \(URL(fileURLWithPath: m.path).lastPathComponent) (\(m.model.config.architecture), \(m.template.kind.rawValue)). Empty line or Ctrl-D quits.")
        while true {
            FileHandle.standardOutput.write(Data("\n> ".utf8))
            guard let line = readLine(), !line.trimmingCharacters(in: .whitespaces).isEmpty else { break }
            let ids = m.encode(LocalModel.conversation(system: system, user: line))
            let r = try generator.generate(prompt: ids, options: sampling.options) { _, piece in
                FileHandle.standardOutput.write(Data(piece.utf8))
                return true
            }
            let initials = r.text.split(separator: "\n").compactMap { $0.first(where: { $0.isLetter }) }.map { String($0).uppercased() }
            print("\n[initials: \(initials.joined(separator: " "))  \(r.tokens.count) tokens, \(String(format: "%.1f", r.decodeTokensPerSecond)) tok/s]")
        }
    }
}
