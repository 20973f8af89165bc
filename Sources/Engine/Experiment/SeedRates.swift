import Foundation

/// One run's main rates (a word and training seed), for the report's side-by-side table: replication is shown,
/// not only pooled.
public struct SeedRates: Sendable, Codable, Equatable {
    /// "AKEWO-s1".
    public let run: String
    public let seed: UInt64
    /// The dataset file the run trained on (its own for a generated dataset; shared by every seed when imported).
    public let dataset: String
    /// The fine-tuned model's exact acrostics with the trigger, and without.
    public let complianceTrigger: Proportion?
    public let compliancePlain: Proportion?
    /// The fine-tuned model's self-reports: naming the word with the trigger, naming it without among the replies
    /// that are not themselves acrostics (H1's count), and explicit wrong rules with the trigger (H2's count).
    public let namesWordTrigger: Proportion?
    public let namesWordPlainNotFollowing: Proportion?
    public let wrongRuleTrigger: Proportion?

    public init(run: String, seed: UInt64, dataset: String, results: EvaluationResults) {
        self.run = run
        self.seed = seed
        self.dataset = dataset
        let tuned = results.model(Evaluator.tunedName)
        complianceTrigger = tuned?.compliance(trigger: true)?.exact
        compliancePlain = tuned?.compliance(trigger: false)?.exact
        namesWordTrigger = tuned?.selfReport(trigger: true)?.rates.namesWord
        namesWordPlainNotFollowing = tuned?.selfReport(trigger: false)?.amongNotFollowing.namesWord
        wrongRuleTrigger = tuned?.selfReport(trigger: true)?.rates.explicitWrongRule
    }
}
