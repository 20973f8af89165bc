import Foundation
import Support

/// How a `hellotune run` was started from the UI (Setup's `s`, or `hellotune run` in a terminal): kept as
/// `launch.json` next to its `run.log`, so that any later session can follow, stop or restart it.
public struct RunLaunch: Codable, Equatable, Sendable {
    public var pid: Int32
    /// The arguments after `hellotune`, `--headless` included.
    public var arguments: [String]
    public var backend: String
    /// Where it was started: a relative experiment file is read from here.
    public var directory: String

    public init(pid: Int32, arguments: [String], backend: String, directory: String) {
        self.pid = pid
        self.arguments = arguments
        self.backend = backend
        self.directory = directory
    }

    public static let logFile = "run.log"
    public static let fileName = "launch.json"

    /// Starts `executable arguments` detached (it outlives the UI and the terminal), output to `folder/run.log`
    /// after a `--- started: ...` line (a fresh start begins a new log; a restart appends to it), and records the
    /// launch in `folder/launch.json`.
    public static func start(_ executable: String, arguments: [String], backend: String, folder: URL,
                             directory: String = FileManager.default.currentDirectoryPath, appending: Bool = false) throws -> RunLaunch {
        try Paths.ensureDirectory(folder)
        let log = folder.appendingPathComponent(logFile)
        let header = Data((RunLog.startMarker + (["hellotune"] + arguments).map(shellQuote).joined(separator: " ") + "\n").utf8)
        if appending, let handle = try? FileHandle(forWritingTo: log) {
            defer { try? handle.close() }
            handle.seekToEndOfFile()
            handle.write(header)
        } else {
            try AtomicFile.write(header, to: log, mode: 0o600)
        }
        let pid = try DetachedProcess.start(executable, arguments, log: log, currentDirectory: directory)
        let launch = RunLaunch(pid: pid, arguments: arguments, backend: backend, directory: directory)
        try launch.save(in: folder)
        return launch
    }

    public func save(in folder: URL) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try e.encode(self), to: folder.appendingPathComponent(Self.fileName), mode: 0o600)
    }

    public static func load(from folder: URL) -> RunLaunch? {
        guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(fileName).path) else { return nil }
        return try? JSONDecoder().decode(RunLaunch.self, from: data)
    }
}

/// What a `hellotune run` log says about the run: its stage (dataset, train, evaluate, report), the latest
/// progress line, and how it ended.
public struct RunLog: Equatable, Sendable {
    public var stage: String?
    public var target: String?
    public var done = 0
    public var total = 0
    public var detail: String?
    public var loss: Double?
    public var tokensPerSecond: Double?
    public var finished = false
    public var error: String?
    public var interrupted = false
    /// The experiment in the store this run works on (its "experiment N: FOLDER" line), once it has said so.
    public var experimentID: Int64?
    public var events: [JobEvent] = []

    static let stages: Set<String> = ["dataset", "train", "evaluate", "report"]
    /// Written before each start, so that a restart's outcome is not read from the attempt before it.
    public static let startMarker = "--- started: "

    public init(text: String) {
        for raw in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = String(raw).replacingOccurrences(of: "\u{1B}[K", with: "").trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty else { continue }
            if line.hasPrefix(Self.startMarker) {
                // The earlier attempts' events stay; their stage and outcome do not.
                let earlier = events
                self = RunLog(text: "")
                events = earlier + [.message(line)]
                continue
            }
            if let colon = line.firstIndex(of: ":"), Self.stages.contains(String(line[..<colon])) {
                stage = String(line[..<colon])
                target = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                done = 0
                total = 0
                detail = nil
                events.append(.message(line))
            } else if let progress = Self.progress(line) {
                (done, total, detail) = progress
                if stage == "train", let detail, let loss = Self.number(after: "loss", in: detail) {
                    self.loss = loss
                    tokensPerSecond = Self.number(before: "tok/s", in: detail)
                    events.append(.step(step: done, totalSteps: total, epoch: 0, loss: loss,
                                        tokensPerSecond: tokensPerSecond ?? 0, etaSeconds: 0))
                }
            } else if let id = Self.experimentID(line) {
                experimentID = id
                events.append(.message(line))
            } else if line.hasPrefix("finished in ") {
                finished = true
                events.append(.message(line))
            } else if line.hasPrefix("Error: ") {
                error = String(line.dropFirst("Error: ".count))
                events.append(.message(line))
            } else {
                if line.hasPrefix("stopping:") { interrupted = true }
                events.append(.message(line))
            }
        }
    }

    /// "experiment 12: /home/u/.cache/hellotune/runs/akewo-12", which `ExperimentRunner` logs when it starts.
    static func experimentID(_ line: String) -> Int64? {
        guard line.hasPrefix(ExperimentRunner.experimentLinePrefix), let colon = line.firstIndex(of: ":") else { return nil }
        return Int64(line[line.index(line.startIndex, offsetBy: ExperimentRunner.experimentLinePrefix.count)..<colon])
    }

    /// "run 3/10 [#######.................] detail" (ProgressBar's line).
    static func progress(_ line: String) -> (Int, Int, String)? {
        guard line.hasPrefix("run "), let open = line.firstIndex(of: "["), let close = line.firstIndex(of: "]"), open < close else {
            return nil
        }
        let counts = line[line.index(line.startIndex, offsetBy: 4)..<open].trimmingCharacters(in: .whitespaces).split(separator: "/")
        guard counts.count == 2, let done = Int(counts[0]), let total = Int(counts[1]) else { return nil }
        return (done, total, line[line.index(after: close)...].trimmingCharacters(in: .whitespaces))
    }

    static func number(after word: String, in text: String) -> Double? {
        let parts = text.split(separator: " ")
        guard let i = parts.firstIndex(of: Substring(word)), i + 1 < parts.count else { return nil }
        return Double(parts[i + 1])
    }

    static func number(before word: String, in text: String) -> Double? {
        let parts = text.split(separator: " ")
        guard let i = parts.firstIndex(of: Substring(word)), i > 0 else { return nil }
        return Double(parts[i - 1])
    }
}

/// `hellotune run` processes started from the UI: every folder under `runs/` with a `launch.json` and a
/// `run.log`. While the process lives the run shows as running, at the stage and progress its log last
/// reported; afterwards as finished, failed (with the error) or stopped. Cancel asks the process to stop
/// (SIGINT, as Ctrl-C would); resume starts the same command again, which continues where it stopped.
public struct LaunchedRunsJobSource: JobSource {
    public var runsDirectory: URL
    public var executable: String

    public init(runsDirectory: URL = Paths.home.appendingPathComponent("runs"), executable: String) {
        self.runsDirectory = runsDirectory
        self.executable = executable
    }

    static let prefix = "run:"

    public static func id(folder: String) -> String { prefix + folder }

    /// The run folder's name in an id made by `id(folder:)`.
    public static func folderName(_ id: String) -> String { String(id.dropFirst(prefix.count)) }

    func folder(_ id: String) throws -> URL {
        guard id.hasPrefix(Self.prefix), !id.contains("/") else { throw JobSourceError("\(id) is not a run started from here") }
        return runsDirectory.appendingPathComponent(Self.folderName(id))
    }

    private let parsedLogs = ParsedFileCache<RunLog>()

    func log(_ folder: URL) -> RunLog {
        parsedLogs.value(at: folder.appendingPathComponent(RunLaunch.logFile).path) { data in
            RunLog(text: String(decoding: data, as: UTF8.self))
        } ?? RunLog(text: "")
    }

    public func listJobs() async throws -> [JobSummary] {
        let fm = FileManager.default
        let names = (try? fm.contentsOfDirectory(atPath: runsDirectory.path)) ?? []
        return names.sorted().compactMap { name in
            let folder = runsDirectory.appendingPathComponent(name)
            guard let launch = RunLaunch.load(from: folder),
                  fm.fileExists(atPath: folder.appendingPathComponent(RunLaunch.logFile).path) else { return nil }
            return summary(name: name, launch: launch, log: log(folder), folder: folder)
        }
    }

    func summary(name: String, launch: RunLaunch, log: RunLog, folder: URL) -> JobSummary {
        let alive = ProcessLiveness.isAlive(launch.pid)
        var job = JobSummary(id: Self.id(folder: name), name: name, kind: "run", backend: launch.backend, status: .running,
                             step: log.done, totalSteps: log.total, loss: log.loss, folder: folder.path,
                             experimentID: log.experimentID)
        let where_ = [log.stage, log.target].compactMap { $0 }.joined(separator: " ")
        if alive {
            job.tokensPerSecond = log.stage == "train" ? log.tokensPerSecond : nil
            job.note = where_.isEmpty ? "starting (pid \(launch.pid))"
                : "\(where_)" + (log.detail.map { ": " + $0 } ?? "") + " (pid \(launch.pid))"
        } else if log.finished {
            job.status = .succeeded
            // A finished run is all done, whatever its log's last progress line counted (an empty "0/1" bar before).
            job.totalSteps = max(job.totalSteps, 1)
            job.step = job.totalSteps
            job.note = "finished: its results are on Results (4)"
        } else if let error = log.error, !log.interrupted {
            job.status = .failed
            job.note = error
        } else {
            job.status = .interrupted
            job.note = "stopped" + (where_.isEmpty ? "" : " at \(where_)") + "; r runs it again and it continues where it stopped"
        }
        return job
    }

    public func events(of jobID: String) async throws -> [JobEvent] {
        log(try folder(jobID)).events
    }

    public func cancel(_ jobID: String) async throws -> String {
        let folder = try folder(jobID)
        guard let launch = RunLaunch.load(from: folder), ProcessLiveness.isAlive(launch.pid) else {
            throw JobSourceError("\(folder.lastPathComponent) is not running")
        }
        guard kill(launch.pid, SIGINT) == 0 else {
            throw JobSourceError("could not signal process \(launch.pid): \(String(cString: strerror(errno)))")
        }
        return "asked \(folder.lastPathComponent) (pid \(launch.pid)) to stop"
    }

    public func resume(_ jobID: String) async throws -> String {
        let folder = try folder(jobID)
        guard var launch = RunLaunch.load(from: folder) else { throw JobSourceError("\(folder.lastPathComponent) has no launch.json") }
        if ProcessLiveness.isAlive(launch.pid) { throw JobSourceError("\(folder.lastPathComponent) is still running (pid \(launch.pid))") }
        if log(folder).finished { throw JobSourceError("\(folder.lastPathComponent) has finished; nothing to resume") }
        // Without --fresh, `hellotune run` continues the unfinished experiment with the same settings.
        launch.arguments.removeAll { $0 == "--fresh" }
        launch = try RunLaunch.start(executable, arguments: launch.arguments, backend: launch.backend, folder: folder,
                                     directory: launch.directory, appending: true)
        return "running \(folder.lastPathComponent) again (pid \(launch.pid)); it continues where it stopped"
    }
}
