import Support

/// What every TOML error must satisfy: it names the file it was given and a place inside the text
/// (line 1 to the number of lines, column 1 or more).
public func checkTOMLError(_ error: Error, text: String, file: String) {
    guard let e = error as? TOMLError else {
        fuzzCheck(false, "not a TOMLError: \(type(of: error)) \(error)")
        return
    }
    fuzzCheck(e.file == file, "error names \(e.file ?? "no file"), not \(file): \(e)")
    fuzzCheck((1...lineCount(text)).contains(e.line) && e.column >= 1, "error outside the text: \(e)")
    fuzzCheck("\(e)".hasPrefix("\(file):\(e.line):\(e.column): "), "error text: \(e)")
}

/// Lines as the TOML reader counts them: "\\n" ends one ("\\r\\n" too).
public func lineCount(_ text: String) -> Int {
    text.utf8.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
}
