import ArgumentParser
import Foundation
import Glibc
import Support
import Experiment

/// `hellotune compare RUN RUN...`: runs side by side, read from their report.json files.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Put two or more runs side by side: rates with intervals, verdicts, controls, and the differences that matter.",
        discussion: """
        Each RUN is an experiment id, a folder name under $HELLOTUNE_HOME/runs, or a folder path, as for \
        `hellotune report`; each is read from its report.json. The table fits --width columns (default: the \
        terminal's width, at most 100); --json prints every number (keys in README, "hellotune compare"); \
        --html FILE writes a self-contained page.
        """)
    @Argument(help: ArgumentHelp("Two or more experiment ids, run folder names or paths.", valueName: "RUN")) var targets: [String] = []
    @Flag(help: "Print the comparison as JSON instead of the table.") var json = false
    @Option(help: ArgumentHelp("Write the comparison as a self-contained web page to FILE and print its path.", valueName: "FILE"))
    var html: String?
    @Option(help: "Wrap the table at this many columns (40-1000).") var width: Int?

    func validate() throws {
        if targets.count < 2 {
            throw ValidationError("give at least two runs to compare (got \(targets.count)); see `hellotune jobs` for their names.")
        }
        if json, html != nil { throw ValidationError("give --json (print JSON) or --html FILE (write a page), not both") }
        if let width, !(40...1000).contains(width) { throw ValidationError("--width \(width) is outside 40...1000") }
        if let html, html.isEmpty { throw ValidationError("--html needs a file name, e.g. --html compare.html") }
    }

    func run() throws {
        // Where the page goes is checked before any run is read, so a wrong --html fails first and fast.
        let page = try html.map(Self.pageFile)
        var folders: [URL] = []
        for target in targets {
            let folder = try ReportCommand.locate(target).standardizedFileURL
            if let i = folders.firstIndex(where: { $0.resolvingSymlinksInPath().path == folder.resolvingSymlinksInPath().path }) {
                throw ValidationError("'\(target)' is the same run as '\(targets[i])' (\(folder.path)): give each run once.")
            }
            folders.append(folder)
        }
        let runs: [ComparedRun]
        do { runs = try folders.map(RunComparison.load(folder:)) } catch let error as RunComparison.LoadError {
            throw ValidationError(error.description)
        }
        let comparison = RunComparison(runs: runs)
        if let page {
            try AtomicFile.write(Data(ComparisonHTML.render(comparison).utf8), to: page)
            return say(page.path)
        }
        if json {
            FileHandle.standardOutput.write(Data((terminalSafeJSON(String(decoding: try comparison.json(), as: UTF8.self)) + "\n").utf8))
            return
        }
        FileHandle.standardOutput.write(Data(TerminalText.clean(ComparisonText.render(comparison, width: width ?? Self.terminalWidth())).utf8))
    }

    /// The file --html names, refused when it is a folder or its folder does not exist.
    static func pageFile(_ path: String) throws -> URL {
        let file = URL(fileURLWithPath: path).standardizedFileURL
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: file.path, isDirectory: &isDir), isDir.boolValue {
            throw ValidationError("--html \(path) is a folder: give a file name, e.g. \(file.appendingPathComponent("compare.html").path)")
        }
        let parent = file.deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: parent.path, isDirectory: &isDir), isDir.boolValue else {
            throw ValidationError("--html \(path): the folder \(parent.path) does not exist; create it first.")
        }
        return file
    }

    /// The terminal's width when stdout is one, at most 100; 100 otherwise.
    static func terminalWidth() -> Int {
        var size = winsize()
        guard isatty(STDOUT_FILENO) != 0, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col >= 40 else { return 100 }
        return min(100, Int(size.ws_col))
    }
}
