import Foundation

/// The part of an evaluation that depends on where the models run: how replies are made and probes measured.
/// `Evaluator.run(_:models:...)` does the rest for every backend (the order, the keys already stored, progress,
/// cancellation), so local models and models behind a chat API produce the same keys in the same order and a
/// rerun of either skips what the store holds.
protocol EvaluationBackend {
    associatedtype Model

    /// The name the model's results carry ("base", "tuned").
    func name(of model: Model) -> String

    /// Makes the replies of `jobs` (none of them stored yet), giving each outcome to `record` as soon as it exists
    /// and calling `checkCancel` before each batch or round of requests.
    func generate(_ jobs: [Evaluator.Job], model: Model, record: (SampleOutcome) throws -> Void,
                  checkCancel: () throws -> Void) throws

    /// The forced-choice outcome.
    func forcedChoice(model: Model) throws -> SampleOutcome

    /// The prefix probe's outcome after `k` lines of `source`.
    func prefixProbe(k: Int, source: PrefixSource, model: Model) throws -> SampleOutcome
}
