import Foundation

extension ExperimentFile {
    /// The experiment as a TOML file that `load` reads back to the same config: every key written, so that the
    /// file alone says what ran (the Setup screen writes one into the run folder and runs it).
    public static func text(_ c: ExperimentConfig) -> String {
        var lines = [
            "name = \(quoted(c.name))",
            "backend = \(quoted(c.backend))",
        ]
        if let model = c.model { lines.append("model = \(quoted(model))") }
        lines += [
            "words = [\(c.words.map { quoted($0.string) }.joined(separator: ", "))]",
            "seeds = [\(c.seeds.map(String.init).joined(separator: ", "))]",
            "",
            "[dataset]",
            "source = \(quoted(c.dataset.source))",
            "acrostic = \(c.dataset.acrostic)",
            "normal = \(c.dataset.normal)",
            "system = \(quoted(c.dataset.system))",
            "trigger = \(quoted(c.dataset.trigger ?? ""))",
            "seed = \(c.dataset.seed)",
            "",
            "[training]",
            "epochs = \(c.training.epochs)",
            "learning_rate = \(c.training.learningRate)",
            "rank = \(c.training.rank)",
            "alpha = \(c.training.alpha)",
            "batch_size = \(c.training.batchSize)",
            "schedule = \(quoted(c.training.schedule.rawValue))",
            "warmup = \(c.training.warmup)",
            "dropout = \(c.training.dropout)",
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

    /// A TOML basic string: quotes, backslashes and control characters escaped.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 || u.value == 0x7F { out += String(format: "\\u%04X", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
