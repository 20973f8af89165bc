import Foundation
import Experiment
import Support

/// What the runtime calls to do the work effects ask for.
public struct AppServices: Sendable {
    public var replies: ReplyGenerator
    public var jobs: JobSource
    public var results: ResultsSource
    public var launcher: ExperimentLauncher
    /// Loads a theme by name or path; the error is the message to show.
    public var loadTheme: @Sendable (String) -> Result<Theme, ThemeLoadError>
    /// Where `c` in the playground also writes the copied text (nil: nowhere).
    public var clipboardFile: URL?
    /// Stores the Results screen's labels.
    public var labels: SampleLabelling

    public init(replies: ReplyGenerator, jobs: JobSource, results: ResultsSource, launcher: ExperimentLauncher,
                loadTheme: @escaping @Sendable (String) -> Result<Theme, ThemeLoadError>, clipboardFile: URL?,
                labels: SampleLabelling = StoreSampleLabelling()) {
        self.labels = labels
        self.replies = replies
        self.jobs = jobs
        self.results = results
        self.launcher = launcher
        self.loadTheme = loadTheme
        self.clipboardFile = clipboardFile
    }
}

public struct ThemeLoadError: Error, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// Messages posted from any thread, taken by the UI loop.
final class Mailbox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Msg] = []
    func post(_ m: Msg) { lock.lock(); items.append(m); lock.unlock() }
    func drain() -> [Msg] {
        lock.lock()
        defer { lock.unlock() }
        let out = items
        items.removeAll(keepingCapacity: true)
        return out
    }
}

/// The runtime: one UI loop, on its own thread, that owns the terminal. It reads keys with a short
/// timeout (so it never blocks on input), merges them with engine messages posted from other threads
/// and a 10 Hz tick, runs `update`, starts effects as tasks off the UI thread (generation streams
/// through `Generator.stream`), and redraws only when the state changed.
public final class App: @unchecked Sendable {
    public private(set) var state: AppState
    private let terminal: TerminalDriver
    private let services: AppServices
    private let mailbox = Mailbox()
    private var replyTasks: [Int: Task<Void, Never>] = [:]
    private var loadingJobs = false
    private let initialEffects: [Effect]
    /// Called after each frame is drawn, on the UI thread (tests watch frames through it).
    public var onFrame: ((AppState, ScreenBuffer) -> Void)?
    /// Seconds between ticks and polls.
    public var tickInterval: TimeInterval = 0.1
    public var pollInterval: TimeInterval = 2
    /// How long one wait for a key lasts when nothing else is pending (ms).
    public var inputTimeoutMs = 20
    /// Shortest time between two redraws that no key asked for (s).
    public var minFrameInterval: TimeInterval = 1.0 / 30

    public init(state: AppState, terminal: TerminalDriver, services: AppServices,
                initialEffects: [Effect] = [.loadJobs, .loadResults]) {
        self.state = state
        self.terminal = terminal
        self.services = services
        self.initialEffects = initialEffects
    }

    /// Sends a message into the loop from any thread.
    public func post(_ msg: Msg) { mailbox.post(msg) }

    /// Runs until the user quits, on a dedicated thread; returns the final state.
    @discardableResult
    public func run() async -> AppState {
        await withCheckedContinuation { (continuation: CheckedContinuation<AppState, Never>) in
            let thread = Thread { [self] in
                runLoop()
                continuation.resume(returning: state)
            }
            thread.name = "hellotune-ui"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// The loop itself, on the calling thread.
    public func runLoop() {
        var lastState: AppState?
        var lastBuffer: ScreenBuffer?
        var nextTick = Date().addingTimeInterval(tickInterval)
        var nextPoll = Date().addingTimeInterval(pollInterval)
        var lastDraw = Date.distantPast
        apply(update(&state, .resize(terminal.size)))
        apply(initialEffects)
        while !state.shouldQuit {
            var messages = mailbox.drain()
            var hadInput = false
            // Keys first: read without waiting when engine messages are pending, so typing is never
            // queued behind a stream of tokens.
            if let input = terminal.readInput(timeoutMs: messages.isEmpty ? inputTimeoutMs : 0) {
                hadInput = true
                var keys = [input]
                // A paste or key repeat: take what is already there.
                while keys.count < 256, let more = terminal.readInput(timeoutMs: 0) { keys.append(more) }
                messages = keys + messages + mailbox.drain()
            }
            let now = Date()
            if now >= nextTick {
                messages.append(.tick)
                nextTick = now.addingTimeInterval(tickInterval)
            }
            if now >= nextPoll {
                messages.append(.poll)
                nextPoll = now.addingTimeInterval(pollInterval)
            }
            for m in messages {
                apply(update(&state, m))
                if state.shouldQuit { break }
            }
            if state.shouldQuit { break }
            // A key redraws at once; engine messages (tokens) redraw at most `minFrameInterval` apart,
            // so the model keeps the CPU.
            if state != lastState, hadInput || Date().timeIntervalSince(lastDraw) >= minFrameInterval {
                lastDraw = Date()
                let buffer = render(state, size: state.size)
                if buffer != lastBuffer {
                    terminal.draw(buffer)
                    lastBuffer = buffer
                    onFrame?(state, buffer)
                }
                lastState = state
            }
        }
        for task in replyTasks.values { task.cancel() }
        replyTasks = [:]
    }

    // MARK: effects

    private func apply(_ effects: [Effect]) {
        for e in effects { execute(e) }
    }

    private func execute(_ effect: Effect) {
        let mailbox = self.mailbox
        let services = self.services
        switch effect {
        case .quit:
            state.shouldQuit = true
        case let .generate(request):
            replyTasks[request.pane]?.cancel()
            replyTasks[request.pane] = Task.detached {
                do {
                    for try await event in services.replies.stream(request) {
                        if Task.isCancelled { return }
                        let change: ReplyUpdate
                        switch event {
                        case let .status(s): change = .status(s)
                        case let .token(t): change = .token(t)
                        case let .finished(n, tps, reason): change = .finished(tokens: n, tokensPerSecond: tps, reason: reason)
                        }
                        mailbox.post(.reply(request: request.id, pane: request.pane, change))
                    }
                } catch {
                    if !Task.isCancelled {
                        mailbox.post(.reply(request: request.id, pane: request.pane, .failed("\(error)")))
                    }
                }
            }
        case .cancelReplies:
            for task in replyTasks.values { task.cancel() }
            replyTasks = [:]
        case .loadJobs:
            jobsLock.lock()
            let busy = loadingJobs
            loadingJobs = true
            jobsLock.unlock()
            if busy { return }
            Task.detached { [self] in
                do { mailbox.post(.jobsLoaded(try await services.jobs.listJobs())) } catch { mailbox.post(.jobsFailed("\(error)")) }
                self.finishedLoadingJobs()
            }
        case let .loadJobEvents(id):
            Task.detached {
                if let events = try? await services.jobs.events(of: id) { mailbox.post(.jobEventsLoaded(jobID: id, events)) }
            }
        case let .cancelJob(id):
            Task.detached {
                do { mailbox.post(.jobActionFinished(message: try await services.jobs.cancel(id), isError: false)) } catch {
                    mailbox.post(.jobActionFinished(message: "\(error)", isError: true))
                }
            }
        case let .resumeJob(id):
            Task.detached {
                do { mailbox.post(.jobActionFinished(message: try await services.jobs.resume(id), isError: false)) } catch {
                    mailbox.post(.jobActionFinished(message: "\(error)", isError: true))
                }
            }
        case .loadResults:
            Task.detached {
                do { mailbox.post(.resultsLoaded(try await services.results.loadResults())) } catch {
                    mailbox.post(.resultsFailed("\(error)"))
                }
            }
        case let .labelSample(experimentID, sampleID, category):
            Task.detached {
                do {
                    try await services.labels.label(experimentID: experimentID, sampleID: sampleID,
                                                    category: category.flatMap(SelfReportCategory.init(rawValue:)))
                    mailbox.post(.labelSaved(experimentID: experimentID, sampleID: sampleID, category: category))
                } catch {
                    mailbox.post(.status("label not saved: \(error)", .error))
                }
            }
        case let .startExperiment(settings):
            Task.detached {
                do { mailbox.post(.launchFinished(try await services.launcher.launch(settings))) } catch {
                    mailbox.post(.launchFailed("\(error)"))
                }
            }
        case let .copyToClipboard(text):
            terminal.copyToClipboard(text)
            var where_ = "the terminal clipboard (OSC 52)"
            if let file = services.clipboardFile {
                do {
                    try Paths.ensureDirectory(file.deletingLastPathComponent())
                    try AtomicFile.write(Data(text.utf8), to: file)
                    where_ += " and \(abbreviatePath(file.path))"
                } catch {
                    where_ += " (could not write \(file.path): \(error.localizedDescription))"
                }
            }
            mailbox.post(.status("copied \(text.count) characters to \(where_)", .info))
        case let .setTheme(name):
            switch services.loadTheme(name) {
            case let .success(theme):
                terminal.setTheme(theme)
                mailbox.post(.themeChanged(name: name))
            case let .failure(error):
                mailbox.post(.themeFailed(error.message))
            }
        }
    }

    private let jobsLock = NSLock()
    private func finishedLoadingJobs() {
        // Posted back through the mailbox would need a message; a flag under a lock is enough.
        jobsLock.lock()
        loadingJobs = false
        jobsLock.unlock()
    }
}
