import ArgumentParser
import Foundation
import Support
import Store

/// `hellotune report RUN`: the results report of an experiment run.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Print an experiment's report (Markdown, or every number with --json).",
        discussion: "RUN is an experiment id, a folder name under $HELLOTUNE_HOME/runs, or a folder path.")
    @Argument(help: "Experiment id, run folder name or path.") var target: String
    @Flag(help: "Print report.json instead of the Markdown.") var json = false

    func run() throws {
        let folder = try locate()
        let file = folder.appendingPathComponent(json ? "report.json" : "report.md")
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw ValidationError("\(folder.path) has no \(file.lastPathComponent) yet: the experiment has not finished (run it again to continue).")
        }
        // report.md quotes replies; report.json is JSON, whose encoder left C1 controls as they are.
        let text = String(decoding: data, as: UTF8.self)
        FileHandle.standardOutput.write(Data((json ? terminalSafeJSON(text) : TerminalText.clean(text)).utf8))
    }

    func locate() throws -> URL {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: target, isDirectory: &isDir), isDir.boolValue { return URL(fileURLWithPath: target) }
        let runs = Paths.home.appendingPathComponent("runs")
        if fm.fileExists(atPath: runs.appendingPathComponent(target).path) { return runs.appendingPathComponent(target) }
        if let id = Int64(target), let e = try Store.openDefault().experiment(id) {
            // A store written before names were checked may hold any name.
            return try Paths.runFolder("\(e.name)-\(e.id)")
        }
        throw ValidationError("no run '\(target)': give an experiment id (see `hellotune jobs`), a folder under \(runs.path), or a path.")
    }
}
