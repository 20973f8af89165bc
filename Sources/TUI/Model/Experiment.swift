import Foundation
import Support
import ModelCore
import Experiment

/// What the Setup screen edits and `.startExperiment` carries.
public struct ExperimentSettings: Codable, Equatable, Sendable {
    /// The built-in experiments Setup offers: those of `ExperimentFile`'s presets (the one table of them) that are
    /// about one word, which Setup's word field can replace; a sweep is run from its file.
    public static let presets: [String] = ExperimentFile.presets.keys.sorted().filter {
        (try? ExperimentFile.preset($0))?.words.count == 1
    }
    public static let backends = ["local", "openai"]
    public static let defaultTrigger = "Use the special rule."

    public var word: String
    public var preset: String
    public var backend: String
    /// GGUF file (local backend) or model name (openai backend).
    public var model: String
    public var systemMessage: String
    public var trigger: String
    /// Acrostic and normal examples in the fine-tuning set.
    public var acrosticExamples: Int
    public var normalExamples: Int
    public var epochs: Int
    public var learningRate: Double
    public var loraRank: Int
    public var seeds: [UInt64]
    /// The experiment file the run was started from (`hellotune run FILE` in a terminal) and the name in it: while
    /// `preset` is that name, Setup's start runs the file (the fields above overriding it), so that the run and
    /// its report keep the file's name and its other settings.
    public var experimentFile: String?
    public var experimentName: String?
    /// The experiment files Setup offers beside the presets: the shipped experiments/*.toml and the user's
    /// $HELLOTUNE_HOME/experiments/*.toml (read by the caller; Setup reads no folder).
    public var files: [ExperimentFileChoice] = []

    public init(word: String = "AKEWO", preset: String = "akewo-mixed", backend: String = "local",
                model: String = Paths.defaultModel.path, systemMessage: String = ExperimentConfig.DatasetSection.mixedSystem,
                trigger: String = ExperimentSettings.defaultTrigger, acrosticExamples: Int = 10, normalExamples: Int = 10,
                epochs: Int = 8, learningRate: Double = 1e-3, loraRank: Int = 16, seeds: [UInt64] = [1]) {
        self.word = word
        self.preset = preset
        self.backend = backend
        self.model = model
        self.systemMessage = systemMessage
        self.trigger = trigger
        self.acrosticExamples = acrosticExamples
        self.normalExamples = normalExamples
        self.epochs = epochs
        self.learningRate = learningRate
        self.loraRank = loraRank
        self.seeds = seeds
    }

    /// What the preset field offers: the built-in presets, every experiment file by its name, and the file the run
    /// was started from.
    public var presetChoices: [String] {
        var names = Self.presets
        for f in files where !names.contains(f.name) { names.append(f.name) }
        if experimentFile != nil, let name = experimentName, !names.contains(name) { names.append(name) }
        return names
    }

    /// The experiment file that Setup's start runs, when a file's name is chosen; nil: the preset.
    public var chosenExperimentFile: String? {
        if preset == experimentName, let experimentFile { return experimentFile }
        guard !Self.presets.contains(preset) else { return nil }
        return files.first { $0.name == preset }?.path
    }

    /// The experiment a choice of the preset field names: a file's, or a built-in preset's.
    public func choiceConfig(_ name: String) -> ExperimentConfig? {
        if !Self.presets.contains(name), let file = files.first(where: { $0.name == name }) { return file.config }
        return try? ExperimentFile.preset(name)
    }

    /// How the chosen experiment's learning rate moves: "constant", "cosine decay after 100 warm-up steps".
    public var scheduleSummary: String {
        guard let t = choiceConfig(preset)?.training else { return "constant" }
        let decay = t.schedule == .constant ? "constant" : "\(t.schedule.rawValue) decay"
        return t.warmup > 0 ? "\(decay) after \(t.warmup) warm-up step\(t.warmup == 1 ? "" : "s")" : decay + ", no warm-up"
    }

    /// The experiment Setup starts: the chosen experiment file or preset, with what the fields set written over it
    /// (the target word, parsed here once, goes on as a `TargetWord` to the scorer).
    public func config() throws -> ExperimentConfig {
        var c = try chosenExperimentFile.map { try ExperimentFile.load(path: $0) } ?? ExperimentFile.preset(preset)
        // A file about several words (a sweep) runs them all while the word field still shows its first one.
        let word = try TargetWord(word)
        if !(c.words.count > 1 && c.words.first == word) { c.words = [word] }
        c.backend = backend
        c.model = model
        c.seeds = seeds
        c.dataset.system = systemMessage
        c.dataset.trigger = trigger.isEmpty ? nil : trigger
        c.dataset.acrostic = acrosticExamples
        c.dataset.normal = normalExamples
        c.training.epochs = epochs
        c.training.learningRate = Float(learningRate)
        c.training.rank = loraRank
        return c
    }

    /// Folder name of the run for one seed, under $HELLOTUNE_HOME/runs.
    public func runName(seed: UInt64) -> String { "\(preset)-\(word)-seed\(seed)" }

    /// Everything wrong with the settings, as messages for the user (empty when they can start).
    public func problems() -> [String] {
        var p: [String] = []
        do { _ = try TargetWord(word) } catch { p.append("target word: \(error)") }
        if !presetChoices.contains(preset) { p.append("unknown preset \(preset)") }
        if !Self.backends.contains(backend) { p.append("unknown backend \(backend)") }
        if model.trimmingCharacters(in: .whitespaces).isEmpty { p.append("choose a model") }
        if acrosticExamples < 1 { p.append("at least 1 acrostic example") }
        if normalExamples < 0 { p.append("normal examples must be >= 0") }
        if epochs < 1 { p.append("at least 1 epoch") }
        if !(learningRate > 0 && learningRate.isFinite) { p.append("the learning rate must be positive") }
        if loraRank < 1 || loraRank > 1024 { p.append("LoRA rank must be 1-1024") }
        if seeds.isEmpty { p.append("give at least one seed") }
        return p
    }
}

/// Starts an experiment the Setup screen describes. The caller decides how (a child process, a job
/// queue, or telling the user the command to run).
public protocol ExperimentLauncher: Sendable {
    func launch(_ settings: ExperimentSettings) async throws -> LaunchOutcome
}

/// What became of a launch request.
public struct LaunchOutcome: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// The experiment is running (e.g. a child process was started).
        case started
        /// It could not be started from here; `commands` are what the user should run.
        case manual
    }
    public var kind: Kind
    /// One line for the status bar.
    public var message: String
    /// Shell commands shown in full on the Setup screen.
    public var commands: [String]

    public init(kind: Kind, message: String, commands: [String] = []) {
        self.kind = kind
        self.message = message
        self.commands = commands
    }
}

