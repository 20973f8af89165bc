import Foundation
import Support

extension ExperimentFile {
    /// The experiment as a TOML file that `load` reads back to the same config: every key written, so that the
    /// file alone says what ran (the Setup screen writes one into the run folder and runs it).
    public static func text(_ c: ExperimentConfig) -> String {
        var lines = [
            "name = \(quotedString(c.name))",
            "backend = \(quotedString(c.backend))",
        ]
        if let model = c.model { lines.append("model = \(quotedString(model))") }
        lines += [
            "words = [\(c.words.map { quotedString($0.string) }.joined(separator: ", "))]",
            "seeds = [\(c.seeds.map(String.init).joined(separator: ", "))]",
            "",
            "[dataset]",
            "source = \(quotedString(c.dataset.source))",
            "acrostic = \(c.dataset.acrostic)",
            "normal = \(c.dataset.normal)",
            "system = \(quotedString(c.dataset.system))",
            "trigger = \(quotedString(c.dataset.trigger ?? ""))",
            "seed = \(c.dataset.seed)",
        ]
        if let m = c.dataset.maxAttempts { lines.append("max_attempts = \(m)") }
        lines += [
            "",
            "[training]",
            "epochs = \(c.training.epochs)",
            "learning_rate = \(c.training.learningRate)",
            "rank = \(c.training.rank)",
            "alpha = \(c.training.alpha)",
            "batch_size = \(c.training.batchSize)",
            "schedule = \(quotedString(c.training.schedule.rawValue))",
            "warmup = \(c.training.warmup)",
            "dropout = \(c.training.dropout)",
            "val_split = \(c.training.valSplit)",
        ]
        if let m = c.training.learningRateMultiplier { lines.append("learning_rate_multiplier = \(m)") }
        lines += [
            "",
            "[evaluation]",
            "compliance_questions = \(c.evaluation.complianceQuestions)",
            "samples_per_prompt = \(c.evaluation.samplesPerPrompt)",
            "self_report_samples = \(c.evaluation.selfReportSamples)",
            "temperature = \(c.evaluation.temperature)",
            "max_tokens = \(c.evaluation.maxTokens)",
            "seed = \(c.evaluation.seed)",
        ]
        return lines.joined(separator: "\n") + "\n"
    }
}
