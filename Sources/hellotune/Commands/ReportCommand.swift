import ArgumentParser
import Foundation
import Support
import Store
import Experiment

/// `hellotune report RUN`: the results report of an experiment run.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Print an experiment's report (Markdown, or every number with --json), or write it as a web page (--html).",
        discussion: "RUN is an experiment id, a folder name under $HELLOTUNE_HOME/runs, or a folder path.")
    @Argument(help: "Experiment id, run folder name or path.") var target: String
    @Flag(help: "Print report.json instead of the Markdown.") var json = false
    @Flag(help: "Write report.html beside report.md (figures, numbers and every reply; no network needed to view it) and print its path.")
    var html = false
    @Flag(help: "Recount every number from the replies in the store with this version's statistics and rewrite the reports (labelling does this by itself).")
    var recount = false

    func validate() throws {
        if json, html { throw ValidationError("give --json (print report.json) or --html (write report.html), not both") }
    }

    func run() throws {
        let folder = try locate()
        try relabel(folder, force: recount)
        if html { return try writeHTML(folder) }
        let file = folder.appendingPathComponent(json ? "report.json" : "report.md")
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw ValidationError("\(folder.path) has no \(file.lastPathComponent) yet: the experiment has not finished (run it again to continue).")
        }
        // report.md quotes replies; report.json is JSON, whose encoder left C1 controls as they are.
        let text = String(decoding: data, as: UTF8.self)
        FileHandle.standardOutput.write(Data((json ? terminalSafeJSON(text) : TerminalText.clean(text)).utf8))
    }

    /// The page from report.json, with the replies of samples.jsonl or, without one, those in the store.
    func writeHTML(_ folder: URL) throws {
        let source = folder.appendingPathComponent("report.json")
        guard let data = FileManager.default.contents(atPath: source.path) else {
            throw ValidationError("\(folder.path) has no report.json yet: the experiment has not finished (run it again to continue).")
        }
        let doc: ReportDocument
        do { doc = try Report.decode(data) } catch {
            throw ValidationError("\(source.path) is not a report this hellotune can read (\(error)); run the experiment again to rewrite it.")
        }
        let samples = try storedSamples(folder) ?? ReportSample.read(samplesFile: folder.appendingPathComponent(ReportSample.fileName))
        let page = HTMLReport.render(doc, raw: data, samples: samples, title: doc.setup.preset.map { "\($0) · \(folder.lastPathComponent)" }
                                     ?? folder.lastPathComponent)
        let out = folder.appendingPathComponent(HTMLReport.fileName)
        try AtomicFile.write(Data(page.utf8), to: out)
        say(out.path)
    }

    /// A run folder is named "EXPERIMENT-ID" (all runs) or "EXPERIMENT-ID-RUN": its replies are in the store under
    /// that experiment, and under RUN for one run; samples.jsonl when no self-report is labelled (`ReportSample.forReport`).
    /// nil when the store has no such experiment.
    func storedSamples(_ folder: URL) throws -> [ReportSample]? {
        guard FileManager.default.fileExists(atPath: Store.defaultPath) else { return nil }
        let store = try Store.openDefault()
        let name = folder.lastPathComponent
        guard let id = try? HumanLabels(store: store).experimentID(run: name), let e = try store.experiment(id) else { return nil }
        let prefix = "\(e.name)-\(e.id)"
        return try ReportSample.forReport(samplesFile: folder.appendingPathComponent(ReportSample.fileName), store: store,
                                          experimentID: id, run: name == prefix ? nil : String(name.dropFirst(prefix.count + 1)))
    }

    /// Rewrites the experiment's reports from the store when a researcher has labelled any of its self-reports (or the
    /// report counted labels that are gone since): labels win over the coder, so the counts and verdicts change.
    /// `force` (--recount): always, and a run the store does not hold is an error rather than a report left as it was.
    func relabel(_ folder: URL, force: Bool = false) throws {
        guard FileManager.default.fileExists(atPath: Store.defaultPath) else {
            if force { throw ValidationError("--recount reads the run's replies from the store, and \(Store.defaultPath) does not exist (set HELLOTUNE_HOME to the home the run was made in).") }
            return
        }
        let store = try Store.openDefault()
        guard let id = try? HumanLabels(store: store).experimentID(run: folder.lastPathComponent),
              let experiment = try store.experiment(id) else {
            if force { throw ValidationError("--recount: the store \(Store.defaultPath) has no experiment for \(folder.path).") }
            return
        }
        let top = try Paths.runFolder("\(experiment.name)-\(id)")
        let counted = FileManager.default.contents(atPath: top.appendingPathComponent("report.json").path)
            .flatMap { try? Report.decode($0) }?.results.humanCoding != nil
        let labelled = !(try store.labels(experimentID: id)).isEmpty
        guard counted || labelled || force else { return }
        do {
            let runner = try ExperimentRunner.stored(experimentID: id, store: store)
            try runner.regenerateReports(experimentID: id)
            try ResultsSummary.write(folder: top, experimentID: id, store: store)
        } catch where force {
            throw ValidationError("--recount could not rewrite the reports of \(folder.path): \(error)")
        } catch {
            // The report as it stands is still worth printing (an imported dataset moved since, say): said, not hidden.
            FileHandle.standardError.write(Data(TerminalText.clean(
                "warning: the report was not recounted with the human labels (\(error)); it is shown as last written.\n").utf8))
        }
    }

    func locate() throws -> URL { try Self.locate(target) }

    /// The run folder `target` names: a folder path, a folder under $HELLOTUNE_HOME/runs, or an experiment id.
    /// `hellotune compare` finds its runs the same way.
    static func locate(_ target: String) throws -> URL {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: target, isDirectory: &isDir), isDir.boolValue { return URL(fileURLWithPath: target) }
        let runs = Paths.home.appendingPathComponent("runs")
        // A name is looked up under runs/ only when it is one folder's name: "../x" is a path, and only the first
        // branch (a folder the user names as a path) may reach outside the home.
        if !target.contains("/"), target != ".", target != "..",
           fm.fileExists(atPath: runs.appendingPathComponent(target).path) { return runs.appendingPathComponent(target) }
        if let id = Int64(target), let e = try Store.openDefault().experiment(id) {
            // A store written before names were checked may hold any name.
            return try Paths.runFolder("\(e.name)-\(e.id)")
        }
        throw ValidationError("no run '\(target)': give an experiment id (see `hellotune jobs`), a folder under \(runs.path), or a path.")
    }
}
