import Training

/// What each experiment setting may be, in one place: the experiment file's keys and `run`'s flags are both
/// checked against this table (the training ones are `TrainingLimits`, which `train` checks too).
public enum ExperimentLimits {
    public static let acrostic = 0...10_000
    public static let normal = 0...10_000
    /// Tries per question when generating the dataset.
    public static let maxAttempts = 1...100
    /// Seeds are sent to the OpenAI API, which takes 0...2^31 - 1.
    public static let seed = 0...Int(Int32.max)
    public static let learningRateMultiplier: ClosedRange<Double> = 1e-6...100
    public static let complianceQuestions = 1...10_000
    public static let samplesPerPrompt = 1...1000
    public static let selfReportSamples = 1...1000
    public static let temperature: ClosedRange<Double> = 0...5
    public static let maxTokens = 8...4096

    /// The held-out questions the compliance test can ask (the bundled bank's evaluation split): asking for more
    /// is refused, not cut down to these. nil when the bank cannot be read (the run then fails saying so).
    public static let heldOutQuestions: Int? = try? QuestionBank.bundled().split().evaluation.count

    /// Why `count` compliance questions cannot be asked, or nil.
    public static func complianceQuestionsProblem(_ count: Int) -> String? {
        if let problem = TrainingLimits.problem(count, complianceQuestions) { return problem }
        if let available = heldOutQuestions, count > available {
            return "asks for \(count) questions, but the question bank holds \(available) held-out ones; ask for at most \(available)"
        }
        return nil
    }
}
