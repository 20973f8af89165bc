import ArgumentParser
import Engine
import Foundation
import TUI

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
        let home = Paths.home
        let runs = home.appendingPathComponent("runs")
        let dirs = Theme.searchDirectories(home: home)
        var themeNames = Theme.availableNames(in: dirs)
        let (startTheme, themeWarning) = Theme.loadOrDefault(theme, searchDirectories: dirs)
        if let themeWarning { note("hellotune: \(themeWarning)") }
        let themeName = themeWarning == nil ? theme : "dark"
        if !themeNames.contains(themeName) { themeNames.append(themeName) }

        var settings = ExperimentSettings(model: model.path)
        if let system { settings.systemMessage = system }
        let executable = Self.executablePath()
        var state = AppState(settings: settings, sampling: sampling.options.sampling, maxTokens: sampling.maxTokens,
                             adapter: model.adapter.map { URL(fileURLWithPath: $0).standardizedFileURL.path },
                             systemMessage: system ?? settings.systemMessage, themeName: themeName, themeNames: themeNames,
                             runsDescription: abbreviatePath(runs.path))
        if let themeWarning { state.status = StatusLine(themeWarning, kind: .error, ticksLeft: 150) }
        if model.model == nil, !FileManager.default.fileExists(atPath: model.path) {
            state.status = StatusLine("the default model is not fetched yet: run `hellotune model fetch` (or pass --model PATH)",
                                      kind: .warning, ticksLeft: 200)
        }

        let services = AppServices(
            replies: LocalReplyGenerator(modelPath: model.path, template: model.template, contextLength: model.context),
            jobs: LocalRunsJobSource(runsDirectory: runs, executable: executable),
            results: LocalResultsSource(runsDirectory: runs),
            launcher: CLIExperimentLauncher(executable: executable, runsDirectory: runs,
                                            hasRunCommand: Self.hasRunCommand),
            loadTheme: { name in
                do { return .success(try Theme.load(name, searchDirectories: dirs)) } catch {
                    return .failure(ThemeLoadError("theme \(name): \(error); keeping the current theme"))
                }
            },
            clipboardFile: home.appendingPathComponent("clipboard.txt"))
        let noColor = !(ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
        let terminal = Terminal(theme: startTheme, noColor: noColor)
        defer { terminal.stop() }
        state.size = terminal.size
        let app = App(state: state, terminal: terminal, services: services)
        app.runLoop()
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

    func runArguments(_ s: ExperimentSettings) -> [String] {
        ["run", "--preset", s.preset, "--word", s.word, "--backend", s.backend, "--model", s.model,
         "--system", s.systemMessage, "--trigger", s.trigger, "--acrostic", String(s.acrosticExamples),
         "--normal", String(s.normalExamples), "--epochs", String(s.epochs), "--lr", formatNumber(s.learningRate),
         "--rank", String(s.loraRank), "--seeds", s.seeds.map(String.init).joined(separator: ","), "--headless"]
    }

    func spawnRun(_ s: ExperimentSettings) throws -> LaunchOutcome {
        let folder = runsDirectory.appendingPathComponent(s.runName(seed: s.seeds[0]))
        try Paths.ensureDirectory(folder)
        let logURL = folder.appendingPathComponent("run.log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil, attributes: [.posixPermissions: 0o600])
        let log = try FileHandle(forWritingTo: logURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = runArguments(s)
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let command = (["hellotune"] + runArguments(s)).map(shellQuote).joined(separator: " ")
        return LaunchOutcome(kind: .started,
                             message: "started \(s.word) (pid \(process.processIdentifier)); follow it on Jobs (2), output in \(abbreviatePath(logURL.path))",
                             commands: [command])
    }
}
