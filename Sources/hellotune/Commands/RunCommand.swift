import ArgumentParser
import Foundation
import TUI
import Support
import Store
import Backends
import Experiment
import ModelCore
import Training

/// `hellotune run`: an experiment end to end (dataset, fine-tune, evaluation, report).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run an experiment end to end: dataset -> fine-tune -> evaluation -> report.",
        discussion: """
        FILE is an experiment in TOML (see experiments/*.toml); --preset NAME uses a built-in one
        (\(ExperimentFile.presets.keys.sorted().joined(separator: ", "))). Flags override the file.
        Training runs in a detached worker process: if this command is interrupted, run it again and
        it continues where it stopped (finished training and samples are kept in the store).
        With backend = "openai" (model = the base model's name, e.g. gpt-4o-mini-2024-07-18) the dataset is
        uploaded and fine-tuned by an OpenAI job, and both models are evaluated through the chat API; it needs
        OPENAI_API_KEY (OPENAI_BASE_URL for another OpenAI-compatible server). The job is polled every 10 s
        (HELLOTUNE_OPENAI_POLL_SECONDS overrides this; tests use it); run the same command again to re-attach to it.
        In a terminal, without --headless, the run starts detached (output in runs/NAME-WORD-seedN/run.log) and
        the terminal UI opens on the Jobs screen following it; quitting the UI leaves it running.
        """)
    @Argument(help: "Experiment file (TOML).") var file: String?
    @Option(help: "A built-in experiment instead of a file.") var preset: String?
    @Option(help: "Target word (replaces the file's words).") var word: String?
    @Option(help: "Experiment name (replaces the file's; names the run folders and the report).") var name: String?
    @Option(help: "local or openai.") var backend: String?
    @Option(help: "Local: a name from `hellotune model list`, hf:OWNER/REPO/FILE.gguf or a GGUF path; openai: the base model's name.")
    var model: String?
    @Option(name: .customLong("base-url"), help: "OpenAI-compatible API base URL (default: $OPENAI_BASE_URL or https://api.openai.com/v1).")
    var baseURL: String?
    @Flag(name: .customLong("allow-insecure"), help: "Allow a plain-http --base-url to another machine (the key then crosses the network in clear).")
    var allowInsecure = false
    @Option(help: "System message of the dataset and the evaluation.") var system: String?
    @Option(help: "Trigger phrase appended to the acrostic prompts (empty: none).") var trigger: String?
    // Numbers parse their value unconditionally: `--lr -1` is a negative rate to refuse, not a missing value.
    @Option(parsing: .unconditional, help: "Acrostic examples in the dataset.") var acrostic: Int?
    @Option(parsing: .unconditional, help: "Normal examples in the dataset.") var normal: Int?
    @Option(name: .customLong("max-attempts"), parsing: .unconditional,
            help: "Tries per question when generating the dataset (default 4).")
    var maxAttempts: Int?
    @Option(parsing: .unconditional, help: "Training epochs.") var epochs: Int?
    @Option(parsing: .unconditional, help: "Learning rate.") var lr: Float?
    @Option(parsing: .unconditional, help: "LoRA rank.") var rank: Int?
    @Option(name: .customLong("val-split"), parsing: .unconditional,
            help: "Share of the training set held out for the validation loss (0 to 0.5).")
    var valSplit: Double?
    @Option(parsing: .unconditional, help: "Training seeds, comma-separated.") var seeds: String?
    @Option(name: .customLong("samples"), parsing: .unconditional,
            help: "Samples per evaluation prompt (each compliance question and self-report prompt).")
    var samples: Int?
    @Option(name: .customLong("compliance-questions"), parsing: .unconditional, help: "Held-out questions for the compliance test.")
    var complianceQuestions: Int?
    @Flag(help: "Run without the terminal UI (always the case when stdout is not a terminal).") var headless = false
    @Flag(help: "Start a new experiment even if an unfinished one with the same settings exists.") var fresh = false
    @Flag(help: "Print the outcome as JSON.") var json = false

    func config() throws -> ExperimentConfig {
        guard (file == nil) != (preset == nil) || (file == nil && preset == nil) else {
            throw ValidationError("give an experiment FILE or --preset, not both")
        }
        var c: ExperimentConfig
        do {
            c = try file.map { try ExperimentFile.load(path: $0) } ?? ExperimentFile.preset(preset ?? "akewo-mixed")
        } catch let e as TOMLError {
            throw ValidationError("\(e)")
        } catch let e as ExperimentFileError {
            throw ValidationError("\(e)")
        }
        do {
            if let word { c.words = [try TargetWord(word)] }
        } catch { throw ValidationError("--word: \(error)") }
        if let name {
            do { try RunName.check(name) } catch { throw ValidationError("--name: \(error)") }
            c.name = name
        }
        if let backend {
            guard ExperimentConfig.backends.contains(backend) else { throw ValidationError("--backend must be local or openai") }
            c.backend = backend
        }
        if let model, model != Paths.defaultModel.path { c.model = model }
        if let system { c.dataset.system = system }
        if let trigger { c.dataset.trigger = trigger.isEmpty ? nil : trigger }
        // The experiment file's limits, checked before anything is recorded.
        func within<T: Comparable & CustomStringConvertible>(_ flag: String, _ value: T, _ range: ClosedRange<T>) throws -> T {
            if let problem = TrainingLimits.problem(value, range) { throw ValidationError("\(flag) \(problem)") }
            return value
        }
        if let acrostic { c.dataset.acrostic = try within("--acrostic", acrostic, ExperimentLimits.acrostic) }
        if let normal { c.dataset.normal = try within("--normal", normal, ExperimentLimits.normal) }
        if let maxAttempts { c.dataset.maxAttempts = try within("--max-attempts", maxAttempts, ExperimentLimits.maxAttempts) }
        if c.dataset.source == "generate", c.dataset.acrostic + c.dataset.normal == 0 {
            throw ValidationError("--acrostic and --normal are both 0: the dataset would be empty")
        }
        if let epochs { c.training.epochs = try within("--epochs", epochs, TrainingLimits.epochs) }
        if let lr {
            if let problem = TrainingLimits.problem(lr, TrainingLimits.learningRate) { throw ValidationError("--lr \(problem)") }
            c.training.learningRate = lr
        }
        if let rank { c.training.rank = try within("--rank", rank, TrainingLimits.rank) }
        if let valSplit {
            guard ExperimentConfig.TrainingSection.valSplitLimits.contains(valSplit) else {
                throw ValidationError("--val-split must be between 0 and 0.5 (a share of the training set; got \(valSplit))")
            }
            c.training.valSplit = valSplit
        }
        if let samples {
            c.evaluation.samplesPerPrompt = try within("--samples", samples, ExperimentLimits.samplesPerPrompt)
            c.evaluation.selfReportSamples = try within("--samples", samples, ExperimentLimits.selfReportSamples)
        }
        if let complianceQuestions {
            if let problem = ExperimentLimits.complianceQuestionsProblem(complianceQuestions) {
                throw ValidationError("--compliance-questions \(problem)")
            }
            c.evaluation.complianceQuestions = complianceQuestions
        }
        if let seeds {
            c.seeds = try seeds.split(separator: ",", omittingEmptySubsequences: false).map {
                let text = $0.trimmingCharacters(in: .whitespaces)
                guard let seed = Int(text), ExperimentLimits.seed.contains(seed) else {
                    throw ValidationError("--seeds: '\(text)' is not a whole number between 0 and \(ExperimentLimits.seed.upperBound); "
                                          + "give comma-separated seeds, e.g. --seeds 1,2,3")
                }
                return UInt64(seed)
            }
        }
        if c.backend == "local", let named = c.model {
            do {
                c.model = try ModelReference.resolve(named)
            } catch let e as ModelLookupError {
                throw ValidationError((model == nil ? file.map { "\($0): model: " } ?? "" : "--model: ") + e.description)
            }
        }
        let defaultModelMissing = !FileManager.default.fileExists(atPath: Paths.defaultModel.path)
        if c.backend == "openai" {
            guard c.model != nil else { throw ValidationError(ExperimentError.remoteModelMissing.description) }
            if c.dataset.source == "generate", defaultModelMissing {
                throw ValidationError("generating the dataset needs the local default model: run `hellotune model fetch`, "
                    + "or import a dataset with source = \"FILE.jsonl\" under [dataset]")
            }
        } else if c.model == nil, defaultModelMissing {
            throw ValidationError("the default model is not fetched yet: run `hellotune model fetch` (or set model in the file)")
        }
        return c
    }

    func run() throws {
        let c = try config()
        if !headless, isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 {
            try runInTerminal(c)
            return
        }
        let store = try Store.openDefault()
        let bar = ProgressBar(label: "run")
        var stage = ""
        let runner = ExperimentRunner(config: c, store: store, workerBinary: URL(fileURLWithPath: Explore.executablePath())) { p in
            if p.stage != stage {
                bar.finishLine()
                stage = p.stage
                note("\(p.stage): \(p.run)")
            }
            bar.update(done: p.done, total: max(p.total, 1), detail: p.message)
        }
        if c.backend == "openai" {
            do {
                runner.openAI = try OpenAIConfiguration.fromEnvironment(baseURL: baseURL, allowInsecure: allowInsecure)
                runner.pollInterval = try ExperimentRunner.pollInterval()
            } catch {
                throw ValidationError("\(error)")
            }
        }
        runner.log = { note($0) }
        runner.reproduceCommand = Self.reproduceCommand(CommandLine.arguments)
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            runner.cancel.set()
            note("\nstopping: training goes on in its worker; run the same command again to continue")
        }
        source.resume()
        let start = Date()
        let outcome = try runner.run(fresh: fresh)
        bar.finishLine()
        // the Results screen's summary
        try writeResultsSummary(outcome, word: c.words[0].string)
        let seconds = Date().timeIntervalSince(start)
        if json {
            printJSON(["experiment": outcome.experimentID, "folder": outcome.folder.path, "report": outcome.report.path,
                       "seconds": seconds, "samples_generated": outcome.samplesGenerated,
                       "samples_reused": outcome.samplesReused])
        } else {
            if outcome.samplesReused > 0 {
                note("evaluation: \(outcome.samplesGenerated) samples generated, \(outcome.samplesReused) reused from the store")
            }
            note(String(format: "finished in %.0f s", seconds))
            say(outcome.report.path)
        }
    }

    /// In a terminal: the same run as a detached child (`hellotune run ... --headless`, output in the run folder's
    /// run.log, as the Setup screen starts one), followed live on the Jobs screen. Quitting the UI leaves it
    /// running; the Results screen has it when it finishes.
    func runInTerminal(_ c: ExperimentConfig) throws {
        // Bad input fails here, with its message and a non-zero exit, before anything starts.
        try ExperimentRunner(config: c, store: try Store.openDefault(), workerBinary: nil) { _ in }.preflight()
        let ui = ExplorerUI(theme: "dark")
        let name = "\(c.name)-\(c.words[0].string)-seed\(c.seeds.first ?? 1)"
        let folder = try Paths.folder(name, under: ui.runs)
        var state = ui.initialState(settings: Self.settings(c, file: file))
        state.screen = .jobs
        state.previousScreen = .setup
        state.launchedRunID = LaunchedRunsJobSource.id(folder: name)
        state.jobs.selectedID = state.launchedRunID
        let log = abbreviatePath(folder.appendingPathComponent(RunLaunch.logFile).path)
        if let running = RunLaunch.load(from: folder), ProcessLiveness.isAlive(running.pid) {
            state.status = StatusLine("\(name) is already running (pid \(running.pid)); following it. Output in \(log)",
                                      kind: .warning, ticksLeft: 150)
        } else {
            let arguments = Array(CommandLine.arguments.dropFirst()) + ["--headless"]
            let launch = try RunLaunch.start(ui.executable, arguments: arguments, backend: c.backend, folder: folder)
            state.status = StatusLine("started \(name) detached (pid \(launch.pid)): q leaves it running. Output in \(log)",
                                      ticksLeft: 150)
        }
        let model = c.backend == "local" ? c.model ?? Paths.defaultModel.path : Paths.defaultModel.path
        ui.run(state, modelPath: model)
    }

    /// The Setup screen's fields for an experiment (what `s` there would start again), read from `file` if given.
    static func settings(_ c: ExperimentConfig, file: String? = nil) -> ExperimentSettings {
        var s = ExperimentSettings(word: c.words[0].string, backend: c.backend,
                                   model: c.backend == "local" ? c.model ?? Paths.defaultModel.path : c.model ?? "",
                                   systemMessage: c.dataset.system, trigger: c.dataset.trigger ?? "",
                                   acrosticExamples: c.dataset.acrostic, normalExamples: c.dataset.normal,
                                   epochs: c.training.epochs, learningRate: Double(String(c.training.learningRate)) ?? 1e-3,
                                   loraRank: c.training.rank, seeds: c.seeds)
        if let file {
            // Started again from Setup, it runs this file (under its name), not the default preset.
            s.experimentFile = URL(fileURLWithPath: file).standardizedFileURL.path
            s.experimentName = c.name
            s.preset = c.name
        } else if ExperimentSettings.presets.contains(c.name) {
            s.preset = c.name
        }
        return s
    }

    func writeResultsSummary(_ outcome: ExperimentRunner.Outcome, word: String) throws {
        try ResultsSummary.write(folder: outcome.folder, experimentID: outcome.experimentID, store: try Store.openDefault())
    }

    /// This very command, for the report: the program as `hellotune`, without the flags that only change
    /// how it runs here (--headless, --json, --fresh).
    static func reproduceCommand(_ arguments: [String]) -> String {
        let kept = arguments.dropFirst().filter { !["--headless", "--json", "--fresh"].contains($0) }
        return (["hellotune"] + kept).map(shellQuote).joined(separator: " ")
    }
}
