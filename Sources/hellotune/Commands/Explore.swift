import ArgumentParser
import Foundation
import Experiment
import TUI
import Support
import ModelCore

/// The default command: the full-screen explorer (Setup, Jobs, Playground, Results).
/// A synchronous command on purpose: `main.swift` calls the synchronous `Hellotune.main()`, and the UI
/// loop runs on this (main) thread anyway, while generation and file reading run as detached tasks.
struct Explore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explore", abstract: "Interactive exploration of a model (the default command).",
        discussion: """
        Opens the terminal UI: set up an acrostic experiment, watch training runs, compare base and
        fine-tuned replies side by side, and browse results. Press ? inside for every key.
        --adapter DIR puts a fine-tuned adapter in the playground's right pane.
        """)
    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @Option(help: "System message (default: the model's own).") var system: String?
    @Option(help: "Colour theme: dark, light, high-contrast, or a path to a theme .toml file (NO_COLOR turns colours off).")
    var theme: String = "dark"

    func run() throws {
        guard isatty(STDIN_FILENO) != 0 && isatty(STDOUT_FILENO) != 0 else {
            note("hellotune: the explorer needs a terminal. For scripts use `hellotune chat --prompt ...` (see `hellotune --help`).")
            throw ExitCode(2)
        }
        if let context = model.context, context < 1 { throw ValidationError("--context must be at least 1") }
        let modelPath = try model.path()
        var settings = ExperimentSettings(model: modelPath)
        if let system { settings.systemMessage = system }
        let ui = ExplorerUI(theme: theme)
        var state = ui.initialState(settings: settings, sampling: sampling.options.sampling, maxTokens: sampling.maxTokens,
                                    adapter: model.adapter.map { URL(fileURLWithPath: $0).standardizedFileURL.path },
                                    systemMessage: system ?? settings.systemMessage)
        if model.model == nil, !FileManager.default.fileExists(atPath: modelPath) {
            state.status = StatusLine("the default model is not fetched yet: run `hellotune model fetch` (or pass --model PATH)",
                                      kind: .warning, ticksLeft: 200)
        }
        ui.run(state, modelPath: modelPath, template: model.template, contextLength: model.context)
    }

    /// Whether this build has `hellotune run` (the headless experiment runner).
    static var hasRunCommand: Bool {
        Hellotune.configuration.subcommands.contains { $0.configuration.commandName == "run" }
    }

    static func executablePath() -> String {
        let arg0 = CommandLine.arguments.first ?? "hellotune"
        if arg0.contains("/") { return URL(fileURLWithPath: arg0).standardizedFileURL.path }
        if let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return link }
        return arg0
    }
}

/// The terminal UI as `hellotune` (explore) and `hellotune run` in a terminal open it: the state it starts
/// from, and the services behind it (jobs from the store and the runs folder, results, the launcher).
struct ExplorerUI {
    let home = Paths.home
    let executable = Explore.executablePath()
    let themeName: String
    let startTheme: Theme
    let themeWarning: String?
    let themeNames: [String]
    let dirs: [URL]

    var runs: URL { home.appendingPathComponent("runs") }

    init(theme: String) {
        dirs = Theme.searchDirectories(home: home)
        var names = Theme.availableNames(in: dirs)
        let (start, warning) = Theme.loadOrDefault(theme, searchDirectories: dirs)
        if let warning { note("hellotune: \(warning)") }
        startTheme = start
        themeWarning = warning
        themeName = warning == nil ? theme : "dark"
        if !names.contains(themeName) { names.append(themeName) }
        themeNames = names
    }

    func initialState(settings: ExperimentSettings, sampling: SamplingParameters = .greedy, maxTokens: Int = 256,
                      adapter: String? = nil, systemMessage: String? = nil) -> AppState {
        var state = AppState(settings: settings, sampling: sampling, maxTokens: maxTokens, adapter: adapter,
                             systemMessage: systemMessage ?? settings.systemMessage, themeName: themeName,
                             themeNames: themeNames, runsDescription: abbreviatePath(runs.path))
        if let themeWarning { state.status = StatusLine(themeWarning, kind: .error, ticksLeft: 150) }
        state.setup.modelChoices = ModelCatalogue.all.filter(\.isFetched).map(\.path.path)
        // Setup offers every experiment file: the shipped ones and the user's own.
        let shipped = ExperimentCatalogue.shippedFolder(executable: executable,
                                                        workingDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        let catalogue = ExperimentCatalogue.files(in: [shipped, home.appendingPathComponent("experiments")].compactMap { $0 })
        state.setup.settings.files = catalogue.choices
        if let problem = catalogue.problems.first, themeWarning == nil {
            state.status = StatusLine("experiment file left out of Setup: \(problem)", kind: .warning, ticksLeft: 150)
        }
        return state
    }

    /// Jobs in the store first (every backend), then runs started from the UI, then run folders the store does not know.
    static func jobSource(home: URL, executable: String) -> JobSource {
        let runs = home.appendingPathComponent("runs")
        return MergedJobSource([StoreJobSource(home: home, executable: executable),
                                LaunchedRunsJobSource(runsDirectory: runs, executable: executable),
                                LocalRunsJobSource(runsDirectory: runs, executable: executable)])
    }

    /// Runs the UI on this thread until the user quits.
    func run(_ state: AppState, modelPath: String, template: String? = nil, contextLength: Int? = nil) {
        let dirs = self.dirs
        let services = AppServices(
            replies: LocalReplyGenerator(modelPath: modelPath, template: template, contextLength: contextLength),
            jobs: Self.jobSource(home: home, executable: executable),
            results: LocalResultsSource(runsDirectory: runs),
            launcher: CLIExperimentLauncher(executable: executable, runsDirectory: runs, hasRunCommand: Explore.hasRunCommand),
            loadTheme: { name in
                do { return .success(try Theme.load(name, searchDirectories: dirs)) } catch {
                    return .failure(ThemeLoadError("theme \(name): \(error); keeping the current theme"))
                }
            },
            clipboardFile: home.appendingPathComponent("clipboard.txt"))
        let noColor = !(ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
        let terminal = Terminal(theme: startTheme, noColor: noColor)
        defer { terminal.stop() }
        var state = state
        state.size = terminal.size
        let app = App(state: state, terminal: terminal, services: services)
        app.runLoop()
    }
}

/// Starts an experiment from the Setup screen: as a child `hellotune run ... --headless` when this build
/// has that command, otherwise by telling the user the `hellotune train` command to run.
struct CLIExperimentLauncher: ExperimentLauncher {
    let executable: String
    let runsDirectory: URL
    let hasRunCommand: Bool

    func launch(_ settings: ExperimentSettings) async throws -> LaunchOutcome {
        if let problem = settings.problems().first { throw ValidationError(problem) }
        if hasRunCommand { return try spawnRun(settings) }
        let commands = settings.seeds.map { trainCommand(settings, seed: $0) }
        return LaunchOutcome(
            kind: .manual,
            message: "start it from the CLI: \(commands[0])" + (commands.count > 1 ? "  (one command per seed below)" : ""),
            commands: Array(commands.dropFirst()))
    }

    /// `hellotune train` for one seed, its data and log in the run folder (the Jobs screen reads log.jsonl).
    func trainCommand(_ s: ExperimentSettings, seed: UInt64) -> String {
        let out = runsDirectory.appendingPathComponent(s.runName(seed: seed)).path
        var args = ["hellotune", "train"]
        if s.model != Paths.defaultModel.path { args += ["--model", s.model] }
        args += ["--data", out + "/data.jsonl", "--out", out, "--epochs", String(s.epochs),
                 "--lr", formatNumber(s.learningRate), "--rank", String(s.loraRank), "--seed", String(seed), "--json"]
        return args.map(shellQuote).joined(separator: " ") + " > " + shellQuote(out + "/log.jsonl")
    }

    /// The experiment's file, written into the run folder: `hellotune run FILE` runs it, and the folder keeps it.
    static let experimentFile = "experiment.toml"

    func runArguments(file: URL) -> [String] { ["run", file.path, "--headless"] }

    func spawnRun(_ s: ExperimentSettings) throws -> LaunchOutcome {
        let folder = try Paths.folder(s.runName(seed: s.seeds[0]), under: runsDirectory)
        let config = try s.config()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let file = folder.appendingPathComponent(Self.experimentFile)
        try AtomicFile.write(Data(ExperimentFile.text(config).utf8), to: file, mode: 0o600)
        let arguments = runArguments(file: file)
        let launch = try RunLaunch.start(executable, arguments: arguments, backend: s.backend, folder: folder)
        let command = (["hellotune"] + arguments).map(shellQuote).joined(separator: " ")
        return LaunchOutcome(kind: .started,
                             message: "started \(s.word) detached (pid \(launch.pid)); follow it on Jobs (2), output in \(abbreviatePath(folder.appendingPathComponent(RunLaunch.logFile).path))",
                             commands: [command])
    }
}
