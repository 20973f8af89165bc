/// What identifies one generated reply, so that an interrupted evaluation resumes where it stopped
/// instead of generating (and paying for) the same reply twice.
public struct SampleKey: Hashable, Codable, Sendable {
    public var experimentID: Int64
    public var condition: String
    public var model: String
    public var promptID: String
    public var sampleIndex: Int

    public init(experimentID: Int64, condition: String, model: String, promptID: String, sampleIndex: Int) {
        self.experimentID = experimentID
        self.condition = condition
        self.model = model
        self.promptID = promptID
        self.sampleIndex = sampleIndex
    }

    /// An experiment's `condition` is "RUN/CONDITION" ("AKEWO-s1/self-report-trigger"): the run ("" when there is no
    /// run part) and the condition within it.
    public var run: String { condition.firstIndex(of: "/").map { String(condition[..<$0]) } ?? "" }
    public var conditionInRun: String {
        condition.firstIndex(of: "/").map { String(condition[condition.index(after: $0)...]) } ?? condition
    }
}
