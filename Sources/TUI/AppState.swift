import Foundation
import ModelCore
import Experiment

public enum Screen: Int, CaseIterable, Equatable, Sendable {
    case setup, jobs, playground, results

    public var title: String {
        switch self {
        case .setup: return "Setup"
        case .jobs: return "Jobs"
        case .playground: return "Playground"
        case .results: return "Results"
        }
    }
}

/// A one-line text editor: the text and a cursor (in Characters).
public struct TextField: Equatable, Sendable {
    public var text: String
    public var cursor: Int

    public init(_ text: String = "") {
        self.text = text
        cursor = text.count
    }

    public mutating func insert(_ c: Character) {
        var chars = Array(text)
        chars.insert(c, at: cursor)
        text = String(chars)
        cursor += 1
    }

    public mutating func backspace() {
        guard cursor > 0 else { return }
        var chars = Array(text)
        chars.remove(at: cursor - 1)
        text = String(chars)
        cursor -= 1
    }

    public mutating func deleteForward() {
        var chars = Array(text)
        guard cursor < chars.count else { return }
        chars.remove(at: cursor)
        text = String(chars)
    }

    public mutating func set(_ s: String) {
        text = s
        cursor = s.count
    }

    /// Moves, deletes and clears for the keys every field shares; true when the key was one of them.
    public mutating func handleEditingKey(_ key: Key) -> Bool {
        switch key {
        case .backspace, .ctrl("h"): backspace()
        case .delete, .ctrl("d"): deleteForward()
        case .left, .ctrl("b"): cursor = max(0, cursor - 1)
        case .right, .ctrl("f"): cursor = min(text.count, cursor + 1)
        case .home, .ctrl("a"): cursor = 0
        case .end, .ctrl("e"): cursor = text.count
        case .ctrl("u"): set("")
        case .ctrl("k"): text = String(text.prefix(cursor))
        default: return false
        }
        return true
    }
}

public enum SetupField: Int, CaseIterable, Equatable, Sendable {
    case word, preset, backend, model, system, trigger, acrostic, normal, epochs, learningRate, rank, seeds, start

    public var label: String {
        switch self {
        case .word: return "Target word"
        case .preset: return "Preset"
        case .backend: return "Backend"
        case .model: return "Model"
        case .system: return "System message"
        case .trigger: return "Trigger phrase"
        case .acrostic: return "Acrostic examples"
        case .normal: return "Normal examples"
        case .epochs: return "Epochs"
        case .learningRate: return "Learning rate"
        case .rank: return "LoRA rank"
        case .seeds: return "Seeds"
        case .start: return "Start"
        }
    }

    public var isChoice: Bool { self == .preset || self == .backend }
}

public struct SetupState: Equatable, Sendable {
    public var settings: ExperimentSettings
    public var focus: SetupField = .word
    /// The field being typed into, when one is.
    public var editor: TextField?
    public var launching = false
    public var launch: LaunchOutcome?
    /// The named models that are fetched (their files), which ←/→ on the model field offer on the local backend.
    /// The CLI fills it; the TUI does not look at the disk.
    public var modelChoices: [String] = []

    public init(settings: ExperimentSettings) { self.settings = settings }

    /// What ←/→ cycle through on the model field: the fetched models, and the current one when it is another file.
    public var modelCycle: [String] {
        modelChoices.contains(settings.model) ? modelChoices : [settings.model] + modelChoices
    }
}

public struct JobsState: Equatable, Sendable {
    public var jobs: [JobSummary] = []
    public var loaded = false
    public var error: String?
    public var selectedID: String?
    public var filter = TextField()
    public var filtering = false
    public var events: [JobEvent] = []
    public var eventsFor: String?

    public init() {}

    public var visibleJobs: [JobSummary] {
        let f = filter.text.lowercased()
        guard !f.isEmpty else { return jobs }
        return jobs.filter {
            $0.name.lowercased().contains(f) || statusLabel($0.status).contains(f) || ($0.backend ?? "").contains(f)
                || ($0.kind ?? "").contains(f)
        }
    }

    public var selectedIndex: Int? {
        let v = visibleJobs
        guard !v.isEmpty else { return nil }
        return v.firstIndex { $0.id == selectedID } ?? 0
    }

    public var selectedJob: JobSummary? { selectedIndex.map { visibleJobs[$0] } }
}

public enum PaneStatus: Equatable, Sendable {
    case idle
    case waiting(String)
    case streaming
    case done(tokens: Int, tokensPerSecond: Double, reason: String)
    case failed(String)
}

public struct PaneState: Equatable, Sendable {
    public var text = ""
    public var status: PaneStatus = .idle
    public init(text: String = "", status: PaneStatus = .idle) {
        self.text = text
        self.status = status
    }
}

public enum PlaygroundInput: Equatable, Sendable {
    case prompt, system
}

public struct PlaygroundState: Equatable, Sendable {
    public var prompt = TextField()
    /// The field being typed into, when one is.
    public var editing: PlaygroundInput?
    public var systemEditor = TextField()
    public var history: [String] = []
    /// Position while browsing the history with up/down (nil: the draft).
    public var historyIndex: Int?
    public var draft = ""
    public var system: String
    public var trigger = false
    /// Adapter folder for the right pane.
    public var adapter: String?
    public var sampling: SamplingParameters
    public var maxTokens: Int
    public var panes = [PaneState(), PaneState()]
    /// The prompt as sent (with the trigger phrase when it was on).
    public var lastPrompt: String?
    public var requestID = 0
    /// The base model's file name, for the pane titles.
    public var modelName = ""
    /// The pane `c` copies.
    public var focusedPane = 1
    public var scroll = 0

    public init(system: String, sampling: SamplingParameters = .greedy, maxTokens: Int = 256, adapter: String? = nil) {
        self.system = system
        self.sampling = sampling
        self.maxTokens = maxTokens
        self.adapter = adapter
    }

    public var isGenerating: Bool {
        panes.contains { if case .streaming = $0.status { return true }; if case .waiting = $0.status { return true }; return false }
    }
}

public enum ScoreFilter: String, CaseIterable, Equatable, Sendable {
    case all, exact, partial, none
}

public struct ResultsState: Equatable, Sendable {
    public var entries: [ResultsEntry] = []
    public var loaded = false
    public var error: String?
    public var runIndex = 0
    public var selectedSample = 0
    public var conditionFilter: String?
    public var scoreFilter: ScoreFilter = .all
    public var filter = TextField()
    public var filtering = false

    public init() {}

    public var current: ResultsEntry? { entries.indices.contains(runIndex) ? entries[runIndex] : nil }

    /// Samples passing the filters, with their index in the summary.
    public var visibleSamples: [(index: Int, sample: ResultsSummary.Sample)] {
        guard let summary = current?.summary else { return [] }
        let word = try? TargetWord(summary.word)
        let text = filter.text.lowercased()
        return summary.samples.enumerated().filter { _, s in
            if let c = conditionFilter, s.condition != c { return false }
            if !text.isEmpty, !(s.reply.lowercased().contains(text) || s.prompt.lowercased().contains(text)
                || s.category.lowercased().contains(text)) { return false }
            if scoreFilter != .all {
                guard let word else { return false }
                let score = Acrostic.score(s.reply, word: word)
                switch scoreFilter {
                case .exact: return score.exact
                case .partial: return !score.exact && score.matches > 0
                case .none: return score.matches == 0
                case .all: return true
                }
            }
            return true
        }.map { (index: $0.offset, sample: $0.element) }
    }
}

public struct StatusLine: Equatable, Sendable {
    public var text: String
    public var kind: StatusKind
    /// Ticks (tenths of a second) until it disappears.
    public var ticksLeft: Int
    public init(_ text: String, kind: StatusKind = .info, ticksLeft: Int = 60) {
        self.text = text
        self.kind = kind
        self.ticksLeft = ticksLeft
    }
}

/// Everything the UI shows. A value: `update` changes it, `render` draws it.
public struct AppState: Equatable, Sendable {
    public var screen: Screen = .setup
    /// Where Esc goes back to.
    public var previousScreen: Screen = .setup
    public var size: Size
    public var showHelp = false
    public var shouldQuit = false
    public var status: StatusLine?
    public var themeName: String
    public var themeNames: [String]
    /// Advances on ticks only while something animates (a spinner).
    public var animationFrame = 0
    public var setup: SetupState
    public var jobs = JobsState()
    public var playground: PlaygroundState
    public var results = ResultsState()
    /// How the runs folder is named in messages ("~/.cache/hellotune/runs").
    public var runsDescription: String
    /// The job id of the `hellotune run` this UI was opened for (it runs detached: quitting leaves it running).
    public var launchedRunID: String?

    public init(size: Size = Size(width: 80, height: 24), settings: ExperimentSettings = ExperimentSettings(),
                sampling: SamplingParameters = .greedy, maxTokens: Int = 256, adapter: String? = nil,
                systemMessage: String? = nil, modelName: String? = nil, themeName: String = "dark", themeNames: [String] = Theme.builtinNames,
                runsDescription: String = "$HELLOTUNE_HOME/runs") {
        self.size = size
        setup = SetupState(settings: settings)
        playground = PlaygroundState(system: systemMessage ?? settings.systemMessage, sampling: sampling,
                                     maxTokens: maxTokens, adapter: adapter)
        playground.modelName = modelName ?? URL(fileURLWithPath: settings.model).lastPathComponent
        self.themeName = themeName
        self.themeNames = themeNames
        self.runsDescription = runsDescription
    }

    /// A text field has the keyboard: `q`, digits and letters type instead of acting.
    public var isTyping: Bool {
        setup.editor != nil || jobs.filtering || playground.editing != nil || results.filtering
    }

    /// The target word the playground and results highlight against.
    public var targetWord: TargetWord? { try? TargetWord(setup.settings.word) }
}
