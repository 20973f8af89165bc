import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
import Support
import ModelCore
import Store
import Backends
import Experiment
#endif

/// `hellotune jobs`: what training, generation and evaluation jobs exist, how far they got, and cancelling one.
struct JobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List, inspect and cancel jobs recorded in the database.",
        discussion: """
        Jobs live in $HELLOTUNE_HOME/hellotune.sqlite; every subcommand takes --json. An OpenAI job keeps its remote
        id and events cursor there: with OPENAI_API_KEY set, `show` and `events` first fetch its new events and
        status from the API (the URL it was created on, or --base-url), and `cancel` cancels it remotely.
        """,
        subcommands: [List.self, Show.self, Events.self, Cancel.self, Resume.self, Checkpoints.self, Files.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "All jobs with their progress (the default).")
        @Flag(help: "Print a JSON array.") var json = false

        func run() throws {
            let store = try Store.openDefault()
            // Jobs whose worker was killed while nobody was watching would otherwise show as running forever.
            reportInterrupted(try store.markInterruptedJobs())
            // A page of jobs at a time, never all of them: memory stays flat with 100,000 jobs.
            if json {
                try JobsJSONStream.write(store)
                return
            }
            // Two passes: the column widths, then the rows, up to the last job the first pass saw.
            var widths = JobsFormat.header.map(\.count)
            var lastID: Int64?
            try store.forEachJob { job in
                for (i, cell) in JobsFormat.row(job).enumerated() { widths[i] = max(widths[i], cell.count) }
                lastID = job.id
            }
            guard let lastID else { say("no jobs yet"); return }
            say(JobsFormat.line(JobsFormat.header, widths: widths))
            try store.forEachJob(upTo: lastID) { job in say(JobsFormat.line(JobsFormat.row(job), widths: widths)) }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One job in full, with its latest events.")
        @Argument(help: ArgumentHelp(JobsFormat.referenceHelp)) var job: String
        @Option(help: "How many of the latest events to show.") var events = 10
        @Option(name: .customLong("base-url"), help: "API base URL of an OpenAI job (default: the one it was created on).")
        var baseURL: String?
        @Flag(name: .customLong("allow-insecure"), help: "Allow a plain-http --base-url to another machine (the key then crosses the network in clear).")
        var allowInsecure = false
        @Flag(help: "Print JSON: {\"job\": ..., \"events\": [...]}.") var json = false

        func run() throws {
            let store = try Store.openDefault()
            reportInterrupted(try store.markInterruptedJobs())
            let refresh = RemoteJobs.refresh(try store.job(named: self.job), store: store, baseURL: baseURL, allowInsecure: allowInsecure)
            let job = refresh.job
            let id = job.id
            let recent = try store.latestEvents(jobID: id, limit: events)
            if json {
                printJSON(["job": JobsFormat.json(job), "events": recent.map(JobsFormat.json)])
                return try refresh.finish()
            }
            say(JobsFormat.detail(job))
            if recent.isEmpty {
                say("no events yet")
            } else {
                say("latest events (all: hellotune jobs events \(id)):")
                for event in recent { say("  " + JobsFormat.line(event)) }
            }
            try refresh.finish()
        }
    }

    struct Events: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A job's events, oldest first.")
        @Argument(help: ArgumentHelp(JobsFormat.referenceHelp)) var job: String
        @Option(help: "Only events with an id above this one (to continue where an earlier call stopped).")
        var after: Int64?
        @Option(help: "Most events to print.") var limit = 1000
        @Option(name: .customLong("base-url"), help: "API base URL of an OpenAI job (default: the one it was created on).")
        var baseURL: String?
        @Flag(name: .customLong("allow-insecure"), help: "Allow a plain-http --base-url to another machine (the key then crosses the network in clear).")
        var allowInsecure = false
        @Flag(help: "Print one JSON object per line.") var json = false

        func validate() throws {
            guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
        }

        func run() throws {
            let store = try Store.openDefault()
            let job = try store.job(named: self.job)
            let id = job.id
            let refresh = RemoteJobs.refresh(job, store: store, baseURL: baseURL, allowInsecure: allowInsecure)
            for event in try store.events(jobID: id, afterID: after, limit: limit) {
                if json { printJSON(JobsFormat.json(event)) } else { say(JobsFormat.line(event)) }
            }
            try refresh.finish()
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel a job.",
            discussion: """
            A local job's worker gets SIGTERM and the job is marked cancelled. An OpenAI job is cancelled through the \
            API when OPENAI_API_KEY is set; otherwise it is marked cancel-requested, and whatever polls it next \
            (`hellotune run`, `hellotune jobs show`) cancels it there.
            """)
        @Argument(help: ArgumentHelp(JobsFormat.referenceHelp)) var job: String
        @Option(name: .customLong("base-url"), help: "API base URL of an OpenAI job (default: the one it was created on).")
        var baseURL: String?
        @Flag(name: .customLong("allow-insecure"), help: "Allow a plain-http --base-url to another machine (the key then crosses the network in clear).")
        var allowInsecure = false
        @Flag(help: "Print the job afterwards as JSON.") var json = false

        func run() throws {
            let store = try Store.openDefault()
            let stored = try store.job(named: self.job)
            let id = stored.id
            if stored.backend == "openai", let remote = try RemoteJobs.cancel(stored, store: store, baseURL: baseURL, allowInsecure: allowInsecure) {
                if let status = remote.alreadyFinal {
                    note("job \(id) already \(status); nothing to cancel")
                    if json { printJSON(JobsFormat.json(remote.job)) }
                    if status != JobStatus.cancelled.rawValue { throw ExitCode.failure }
                    return
                }
                if json { printJSON(JobsFormat.json(remote.job)) } else { say(remote.message) }
                return
            }
            let (job, outcome) = try JobCancel.cancel(jobID: id, store: store)
            let message: String
            switch outcome {
            case let .signalled(pid):
                message = "job \(id): sent SIGTERM to its worker (pid \(pid)); marked cancelled"
            case .cancelledQueued:
                message = "job \(id): had not started; marked cancelled"
            case let .workerGone(pid):
                message = "job \(id): its worker (pid \(pid)) is already gone; marked interrupted"
            case .requested:
                message = "job \(id): cancel requested; the \(job.backend) worker cancels it on its next poll "
                    + "(follow with `hellotune jobs show \(id)`; with OPENAI_API_KEY set, `hellotune jobs cancel \(id)` cancels it now)"
            case .alreadyRequested:
                message = "job \(id): cancel was already requested; waiting for the \(job.backend) worker"
            case let .final(status):
                note("job \(id) already \(status); nothing to cancel")
                if json { printJSON(JobsFormat.json(job)) }
                if status != JobStatus.cancelled.rawValue { throw ExitCode.failure }
                return
            }
            if json { printJSON(JobsFormat.json(job)) } else { say(message) }
        }
    }
}

extension JobsCommand {
    struct Resume: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a stopped local training job's worker again, or a paused OpenAI job.",
            discussion: """
            The worker (`hellotune worker --job ID`) starts detached, in a session of its own, and continues from the \
            checkpoint in the job's folder (or from the start without one); its output is appended to worker.log \
            there. Follow it with `hellotune jobs show ID`. A job whose worker still runs and a finished job are \
            refused. An OpenAI job that the API paused is resumed through the API (OPENAI_API_KEY); one whose \
            submission stopped halfway is submitted; any other OpenAI job is refused with its status.
            """)
        @Argument(help: ArgumentHelp(JobsFormat.referenceHelp)) var job: String
        @Option(name: .customLong("base-url"), help: "API base URL of an OpenAI job (default: the one it was created on).")
        var baseURL: String?
        @Flag(name: .customLong("allow-insecure"), help: "Allow a plain-http --base-url to another machine (the key then crosses the network in clear).")
        var allowInsecure = false
        @Flag(help: "Print {\"job\", \"pid\", \"log\", \"from_checkpoint\"} as JSON (an OpenAI job: the job).") var json = false

        func run() throws {
            let store = try Store.openDefault()
            reportInterrupted(try store.markInterruptedJobs())
            let job = try store.job(named: self.job)
            let id = job.id
            if job.backend == "openai" {
                let tracker = try JobsCommand.remoteTracker(id, store: store, baseURL: baseURL, allowInsecure: allowInsecure)
                let resumed: JobRecord
                if job.externalID == nil {
                    // Recorded, but its upload or create request never finished: submit it now.
                    resumed = try runBlocking { try await tracker.submit(jobID: id) }.job
                } else {
                    resumed = try runBlocking { try await tracker.resume(jobID: id) }
                }
                guard let remoteID = resumed.externalID else {
                    // A cancel was requested before it reached the API: it never will.
                    throw ValidationError("job \(id) is \(resumed.statusText); nothing was submitted")
                }
                if json {
                    printJSON(JobsFormat.json(resumed))
                } else {
                    say("job \(id): " + (job.externalID == nil ? "submitted as \(remoteID)" : "resumed \(remoteID)")
                        + " through the API (now \(resumed.statusText)); follow it with `hellotune jobs show \(id)`")
                }
                return
            }
            let started = try TrainingJobResume.start(job, executable: Explore.executablePath(), environment: ["HELLOTUNE_HOME": Paths.home.path])
            if json {
                printJSON(["job": started.jobID, "pid": Int(started.pid), "log": started.log.path,
                           "from_checkpoint": started.fromCheckpoint])
            } else {
                say(started.message + "; output in \(started.log.path); follow it with `hellotune jobs show \(id)`")
            }
        }
    }
}

private func reportInterrupted(_ jobs: [JobRecord]) {
    for job in jobs {
        let resume = job.kind == "train" && job.backend == "local"
            ? " (resume it: hellotune jobs resume \(job.id), or run its experiment again)" : ""
        note("job \(job.id): its worker (pid \(job.pid.map(String.init) ?? "?")) is gone; marked interrupted" + resume)
    }
}

/// How jobs and events are shown: aligned text for people, JSON for scripts.
enum JobsFormat {
    static let header = ["ID", "KIND", "BACKEND", "STATUS", "STEP", "LOSS", "TOK/S", "ETA", "EXP", "CREATED"]

    static func row(_ job: JobRecord) -> [String] {
        [String(job.id), job.kind, job.backend, job.statusText, steps(job),
         job.loss.map { String(format: "%.4f", $0) } ?? "-",
         job.tokensPerSecond.map { String(format: "%.1f", $0) } ?? "-",
         job.etaSeconds.map(duration) ?? "-",
         job.experimentID.map(String.init) ?? "-", minute(job.createdAt)]
    }

    /// One line of the table, each cell padded to its column's width.
    static func line(_ cells: [String], widths: [Int]) -> String {
        cells.indices.map { i in cells[i].padding(toLength: widths[i], withPad: " ", startingAt: 0) }
            .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }

    static func detail(_ job: JobRecord) -> String {
        var lines = ["job \(job.id): \(job.kind) on \(job.backend), \(job.statusText)"]
        func add(_ label: String, _ value: String?) {
            if let value { lines.append(label.padding(toLength: 12, withPad: " ", startingAt: 0) + value) }
        }
        add("experiment", job.experimentID.map(String.init))
        add("step", job.step == nil && job.totalSteps == nil ? nil : steps(job))
        add("loss", job.loss.map { String(format: "%.4f", $0) })
        add("tok/s", job.tokensPerSecond.map { String(format: "%.1f", $0) })
        add("eta", job.etaSeconds.map(duration))
        add("pid", job.pid.map { "\($0)" + (ProcessLiveness.isAlive($0) ? " (alive)" : " (gone)") })
        add("output", job.outputDir)
        add("remote id", job.externalID)
        add("error", job.error)
        if job.status == .paused, job.backend == "openai", let remote = job.externalID {
            add("paused", FineTuneJobTracker.pausedAdvice(jobID: job.id, remoteID: remote))
        }
        add("created", second(job.createdAt))
        add("updated", second(job.updatedAt))
        lines.append("config")
        lines.append(indented(job.config))
        return lines.joined(separator: "\n")
    }

    static let referenceHelp = "The job: its number (see `hellotune jobs list`), its remote id (ftjob-…) or its run's name."

    /// One event for people: its id (for `--after`), time, level, step and loss when it has them, and what happened.
    /// `--json` keeps the stored form.
    static func line(_ event: EventRecord) -> String {
        let payload = (try? JSONSerialization.jsonObject(with: Data(event.payload.utf8))) as? [String: Any]
        let level = (payload?["level"] as? String) ?? "info"
        // An OpenAI event keeps its metrics under "data"; a local one has them at the top.
        let data = payload?["data"] as? [String: Any] ?? payload ?? [:]
        let figures = stepAndLoss(step: data["step"], total: data["total_steps"], loss: data["train_loss"] ?? data["loss"])
        let message: String
        if let text = payload?["message"] as? String {
            message = text
        } else if payload?["event"] != nil, let parsed = JobEvent.parse(jsonLine: event.payload) {
            if case let .step(_, _, epoch, _, tps, _) = parsed {
                message = String(format: "epoch %d, %.0f tok/s", epoch, tps)
            } else {
                message = parsed.summary
            }
        } else {
            message = payload != nil ? event.kind : "\(event.kind): \(event.payload)"
        }
        return ["#\(event.id)", second(event.createdAt), level.padding(toLength: 5, withPad: " ", startingAt: 0),
                figures.padding(toLength: max(figures.count, 26), withPad: " ", startingAt: 0), message]
            .joined(separator: "  ")
    }

    /// "step 12/40  loss 1.2345", or what of it is known.
    static func stepAndLoss(step: Any?, total: Any?, loss: Any?) -> String {
        var parts: [String] = []
        if let step = (step as? NSNumber)?.intValue {
            parts.append("step \(step)" + ((total as? NSNumber).map { "/\($0.intValue)" } ?? ""))
        }
        if let loss = (loss as? NSNumber)?.doubleValue { parts.append(String(format: "loss %.4f", loss)) }
        return parts.joined(separator: "  ")
    }

    /// The stored JSON config as indented lines, keys sorted.
    static func indented(_ json: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return json }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
    }

    static func json(_ job: JobRecord) -> [String: Any] {
        ["id": job.id, "experimentID": orNull(job.experimentID), "kind": job.kind, "backend": job.backend,
         "status": job.statusText, "config": embedded(job.config), "outputDir": orNull(job.outputDir),
         "externalID": orNull(job.externalID), "cursor": orNull(job.cursor), "step": orNull(job.step),
         "totalSteps": orNull(job.totalSteps), "loss": number(job.loss), "tokensPerSecond": number(job.tokensPerSecond),
         "etaSeconds": number(job.etaSeconds), "pid": orNull(job.pid), "error": orNull(job.error),
         "createdAt": iso(job.createdAt), "updatedAt": iso(job.updatedAt)]
    }

    static func json(_ event: EventRecord) -> [String: Any] {
        ["id": event.id, "jobID": event.jobID, "kind": event.kind, "payload": embedded(event.payload),
         "externalID": orNull(event.externalID), "createdAt": iso(event.createdAt)]
    }

    static func steps(_ job: JobRecord) -> String {
        "\(job.step.map(String.init) ?? "-")/\(job.totalSteps.map(String.init) ?? "-")"
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "-" }
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%dh%02dm", s / 3600, s % 3600 / 60) }
        if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return "\(s)s"
    }

    private static func orNull(_ value: Any?) -> Any { value ?? NSNull() }

    /// JSON cannot hold NaN or infinity (a diverged loss), so those print as null.
    private static func number(_ value: Double?) -> Any {
        guard let value, value.isFinite else { return NSNull() }
        return value
    }

    /// Stored JSON text goes out as JSON, not as a string holding JSON.
    private static func embedded(_ text: String) -> Any {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) ?? text
    }

    // Made once: a formatter per job cost more than reading the job (100,000 jobs made 200,000 of them).
    nonisolated(unsafe) private static let isoFormatter: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
    nonisolated(unsafe) private static let minuteFormatter = formatter("yyyy-MM-dd HH:mm")
    nonisolated(unsafe) private static let secondFormatter = formatter("yyyy-MM-dd HH:mm:ss")

    private static func iso(_ date: Date) -> String { isoFormatter.string(from: date) }
    private static func minute(_ date: Date) -> String { minuteFormatter.string(from: date) }
    private static func second(_ date: Date) -> String { secondFormatter.string(from: date) }

    private static func formatter(_ pattern: String) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = pattern
        return formatter
    }
}
