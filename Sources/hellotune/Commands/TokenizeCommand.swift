import ArgumentParser
import Support

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize", abstract: "Token ids of a text (special tokens such as <|im_start|> are parsed).")
    @OptionGroup var model: ModelOptions
    @Option(help: "The text to tokenize.") var text: String
    @Flag(name: .customLong("no-special"), help: "Treat special-token text as plain text.") var noSpecial = false
    @Flag(help: "Print a JSON array of ids.") var json = false

    func run() throws {
        let m = try model.load()
        let ids = m.tokenizer.encode(text, parseSpecial: !noSpecial)
        if json { printJSON(ids); return }
        for id in ids { say("\(id)\t\(m.tokenizer.piece(id).debugDescription)") }
    }
}
