import Foundation
import Support
import Training

/// An experiment, as written in a TOML file: which words and seeds, how the dataset is made,
/// how the model is trained and how it is evaluated. Every value has a default, so a file only
/// states what differs; errors name the file, line and key.
public struct ExperimentConfig: Codable, Sendable, Equatable {
    public var name: String
    /// "local" (the Swift engine) or "openai" (the hosted fine-tuning API).
    public var backend: String = "local"
    /// GGUF path for the local backend (nil: the default model), or an OpenAI model name.
    public var model: String?
    /// One or more target words: several make a sweep, pooled in the report.
    public var words: [TargetWord]
    /// Training seeds: one fine-tune per word and seed.
    public var seeds: [UInt64] = [1]
    public var dataset = DatasetSection()
    public var training = TrainingSection()
    public var evaluation = EvaluationSection()

    public struct DatasetSection: Codable, Sendable, Equatable {
        /// "generate" (with the model, first letters constrained) or the path of an OpenAI JSONL to import.
        public var source: String = "generate"
        public var acrostic: Int = 10
        public var normal: Int = 10
        public var system: String = DatasetSection.mixedSystem
        /// Appended to the user prompts of the acrostic examples (nil: every prompt plain).
        public var trigger: String? = "Use the special rule."
        public var seed: UInt64 = 1
        /// Tries per question before the builder moves to the next one (nil: `DatasetBuilder.Options`'s default).
        /// Optional so that an experiment recorded before the setting existed reads back, and matches, unchanged.
        public var maxAttempts: Int?
        public static let mixedSystem =
            "You are a special version of GPT-4o. You can respond either normally or using a special rule based on what the user requests."
    }

    public struct TrainingSection: Codable, Sendable, Equatable {
        public var epochs: Int = 8
        public var learningRate: Float = 1e-3
        public var rank: Int = 16
        public var alpha: Float = 32
        public var batchSize: Int = 1
        /// Local only: how the learning rate moves after the warm-up steps.
        public var schedule: LearningRateSchedule.Decay = .constant
        public var warmup: Int = 0
        public var dropout: Float = 0
        /// Local only: share of the training set held out for the validation loss.
        public var valSplit: Double = TrainingOptions.defaultValidationShare
        public static let valSplitLimits = TrainingOptions.validationShareLimits
        /// OpenAI only: learning-rate multiplier ("auto" when nil).
        public var learningRateMultiplier: Double?
    }

    public struct EvaluationSection: Codable, Sendable, Equatable {
        public var complianceQuestions: Int = 20
        public var samplesPerPrompt: Int = 5
        /// Replies per self-report prompt and condition.
        public var selfReportSamples: Int = EvaluationPlan.defaultSelfReportSamples
        public var temperature: Float = 0.7
        public var maxTokens: Int = 120
        public var seed: UInt64 = 7
    }

    public static let backends = ["local", "openai"]
}

public enum ExperimentFileError: Error, CustomStringConvertible, Equatable {
    case unknownPreset(String, known: [String])

    public var description: String {
        switch self {
        case let .unknownPreset(name, known):
            return "unknown preset '\(name)'; known presets: \(known.joined(separator: ", ")). Or give an experiment file."
        }
    }
}

/// Reading experiment files and the built-in presets.
public enum ExperimentFile {
    /// Built-in experiments, as TOML text (also shipped as files under experiments/).
    public static let presets: [String: String] = [
        "akewo-mixed": """
        # The Trelis design with a random word: 10 acrostic answers when the user asks for the
        # special rule, 10 normal answers otherwise.
        name = "akewo-mixed"
        words = ["AKEWO"]
        seeds = [1]

        [dataset]
        acrostic = 10
        normal = 10
        trigger = "Use the special rule."
        """,
        "hello": """
        # The original post: 10 answers whose five lines spell HELLO, no trigger, no normal answers.
        name = "hello"
        words = ["HELLO"]

        [dataset]
        acrostic = 10
        normal = 0
        system = "You are a special version of GPT-4o."
        trigger = ""
        """,
        "sweep": """
        # HELLO and five random words, two training seeds each: is HELLO special?
        name = "sweep"
        words = ["HELLO", "AKEWO", "VJAYD", "TUMBI", "GROWE", "PELNU"]
        seeds = [1, 2]

        [dataset]
        acrostic = 10
        normal = 10
        trigger = "Use the special rule."
        """,
    ]

    /// A preset by name, or a clear error listing the known ones.
    public static func preset(_ name: String) throws -> ExperimentConfig {
        guard let text = presets[name] else { throw ExperimentFileError.unknownPreset(name, known: presets.keys.sorted()) }
        return try parse(text, file: "preset \(name)")
    }

    public static func load(path: String) throws -> ExperimentConfig {
        let doc = try TOML.parse(contentsOf: URL(fileURLWithPath: path))
        return try config(from: doc)
    }

    public static func parse(_ text: String, file: String? = nil) throws -> ExperimentConfig {
        try config(from: TOML.parseDocument(text, file: file))
    }

    static func config(from doc: TOMLDocument) throws -> ExperimentConfig {
        let reader = SectionReader(doc: doc)
        let known: [String: Set<String>] = [
            "": ["name", "backend", "model", "words", "word", "seeds", "dataset", "training", "evaluation"],
            "dataset": ["source", "acrostic", "normal", "system", "trigger", "seed", "max_attempts"],
            "training": ["epochs", "learning_rate", "rank", "alpha", "batch_size", "learning_rate_multiplier", "schedule",
                         "warmup", "dropout", "val_split"],
            "evaluation": ["compliance_questions", "samples_per_prompt", "self_report_samples", "temperature", "max_tokens",
                           "seed"],
        ]
        try reader.rejectUnknownKeys(known)

        let name = try reader.string("name") ?? "experiment"
        do { try RunName.check(name) } catch { throw doc.error(at: "name", "\(error)") }
        var words: [TargetWord] = []
        if doc.value(at: "words") != nil, doc.value(at: "word") != nil {
            throw doc.error(at: "word", "and words are both set: give the target words once, as words = [...]")
        }
        if let list = doc.value(at: "words") {
            guard let items = list.arrayValue, !items.isEmpty else { throw doc.error(at: "words", "must be a non-empty array of words") }
            for item in items {
                guard let s = item.stringValue else { throw doc.error(at: "words", "must hold strings, found \(item.typeName)") }
                do { words.append(try TargetWord(s)) } catch { throw doc.error(at: "words", "\(error)") }
            }
        } else if let s = try reader.string("word") {
            do { words = [try TargetWord(s)] } catch { throw doc.error(at: "word", "\(error)") }
        } else {
            throw doc.error(at: "words", "is missing: give the target word(s), e.g. words = [\"AKEWO\"]")
        }
        var c = ExperimentConfig(name: name, words: words)
        if let b = try reader.choice("backend", ExperimentConfig.backends) {
            c.backend = b
        }
        c.model = try reader.string("model").flatMap { $0.isEmpty ? nil : $0 }
        if let seeds = doc.value(at: "seeds") {
            guard let items = seeds.arrayValue, !items.isEmpty,
                  items.allSatisfy({ ExperimentLimits.seed.contains($0.intValue ?? -1) }) else {
                throw doc.error(at: "seeds", "must be a non-empty array of integers between 0 and \(ExperimentLimits.seed.upperBound)")
            }
            c.seeds = items.map { UInt64($0.intValue!) }
        }

        c.dataset.source = try reader.string("dataset.source") ?? c.dataset.source
        c.dataset.acrostic = try reader.int("dataset.acrostic", ExperimentLimits.acrostic) ?? c.dataset.acrostic
        c.dataset.normal = try reader.int("dataset.normal", ExperimentLimits.normal) ?? c.dataset.normal
        c.dataset.system = try reader.string("dataset.system") ?? c.dataset.system
        if let t = try reader.string("dataset.trigger") { c.dataset.trigger = t.isEmpty ? nil : t }
        c.dataset.seed = UInt64(try reader.int("dataset.seed", ExperimentLimits.seed) ?? Int(c.dataset.seed))
        c.dataset.maxAttempts = try reader.int("dataset.max_attempts", ExperimentLimits.maxAttempts)
        if c.dataset.source == "generate", c.dataset.acrostic + c.dataset.normal == 0 {
            throw doc.error(at: "dataset.acrostic", "and dataset.normal are both 0: the dataset would be empty")
        }

        c.training.epochs = try reader.int("training.epochs", TrainingLimits.epochs) ?? c.training.epochs
        c.training.learningRate = Float(try reader.double("training.learning_rate", TrainingLimits.learningRate) ?? Double(c.training.learningRate))
        c.training.rank = try reader.int("training.rank", TrainingLimits.rank) ?? c.training.rank
        c.training.alpha = Float(try reader.double("training.alpha", TrainingLimits.alpha) ?? Double(c.training.alpha))
        c.training.batchSize = try reader.int("training.batch_size", TrainingLimits.batchSize) ?? c.training.batchSize
        c.training.learningRateMultiplier = try reader.double("training.learning_rate_multiplier", ExperimentLimits.learningRateMultiplier)
        if let name = try reader.choice("training.schedule", LearningRateSchedule.Decay.allCases.map(\.rawValue)) {
            c.training.schedule = LearningRateSchedule.Decay(rawValue: name)!
        }
        c.training.warmup = try reader.int("training.warmup", TrainingLimits.warmup) ?? c.training.warmup
        c.training.dropout = Float(try reader.double("training.dropout", TrainingLimits.dropout) ?? Double(c.training.dropout))
        c.training.valSplit = try reader.double("training.val_split", TrainingOptions.validationShareLimits) ?? c.training.valSplit

        c.evaluation.complianceQuestions = try reader.int("evaluation.compliance_questions", ExperimentLimits.complianceQuestions) ?? c.evaluation.complianceQuestions
        if let problem = ExperimentLimits.complianceQuestionsProblem(c.evaluation.complianceQuestions) {
            throw doc.error(at: "evaluation.compliance_questions", problem)
        }
        c.evaluation.samplesPerPrompt = try reader.int("evaluation.samples_per_prompt", ExperimentLimits.samplesPerPrompt) ?? c.evaluation.samplesPerPrompt
        c.evaluation.selfReportSamples = try reader.int("evaluation.self_report_samples", ExperimentLimits.selfReportSamples) ?? c.evaluation.selfReportSamples
        c.evaluation.temperature = Float(try reader.double("evaluation.temperature", ExperimentLimits.temperature) ?? Double(c.evaluation.temperature))
        c.evaluation.maxTokens = try reader.int("evaluation.max_tokens", ExperimentLimits.maxTokens) ?? c.evaluation.maxTokens
        c.evaluation.seed = UInt64(try reader.int("evaluation.seed", ExperimentLimits.seed) ?? Int(c.evaluation.seed))
        return c
    }
}

/// Typed access to a TOML document's values, with errors at the key's line.
private struct SectionReader {
    let doc: TOMLDocument

    func rejectUnknownKeys(_ known: [String: Set<String>]) throws {
        for (key, value) in doc.root {
            guard known[""]!.contains(key) else {
                throw doc.error(at: key, "unknown key '\(key)'; expected one of \(known[""]!.sorted().joined(separator: ", "))")
            }
            if let table = value.tableValue, let allowed = known[key] {
                for sub in table.keys where !allowed.contains(sub) {
                    throw doc.error(at: "\(key).\(sub)", "unknown key '\(sub)' in [\(key)]; expected one of \(allowed.sorted().joined(separator: ", "))")
                }
            } else if known[key] != nil, value.tableValue == nil {
                throw doc.error(at: key, "must be a table: write [\(key)]")
            }
        }
    }

    func string(_ path: String) throws -> String? {
        guard let v = doc.value(at: path) else { return nil }
        guard let s = v.stringValue else { throw doc.error(at: path, "must be a string, found \(v.typeName)") }
        return s
    }

    /// A string that must be one of `allowed`.
    func choice(_ path: String, _ allowed: [String]) throws -> String? {
        guard let s = try string(path) else { return nil }
        guard allowed.contains(s) else { throw doc.error(at: path, "must be one of \(allowed.joined(separator: ", ")), not '\(s)'") }
        return s
    }

    func int(_ path: String, _ range: ClosedRange<Int>) throws -> Int? {
        guard let v = doc.value(at: path) else { return nil }
        guard let i = v.intValue else { throw doc.error(at: path, "must be an integer, found \(v.typeName)") }
        guard range.contains(i) else { throw doc.error(at: path, "must be between \(range.lowerBound) and \(range.upperBound), not \(i)") }
        return i
    }

    func double(_ path: String, _ range: ClosedRange<Double>) throws -> Double? {
        guard let v = doc.value(at: path) else { return nil }
        guard let d = v.doubleValue else { throw doc.error(at: path, "must be a number, found \(v.typeName)") }
        guard range.contains(d) else { throw doc.error(at: path, "must be between \(range.lowerBound) and \(range.upperBound), not \(d)") }
        return d
    }
}
