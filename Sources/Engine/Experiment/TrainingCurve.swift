import Foundation

/// One training run's losses as its worker logged them (`log.jsonl` in the run folder): the loss of every step and,
/// when part of the data was held out, the validation loss after every epoch. The report draws both.
public struct TrainingCurve: Sendable, Codable, Equatable {
    /// The run, e.g. "AKEWO-s1".
    public var run: String
    /// stepLosses[i] is the mean training loss of step i + 1.
    public var stepLosses: [Double]
    public var stepsPerEpoch: Int?
    /// Mean training loss of each epoch.
    public var epochLosses: [Double]
    /// Held-out loss after each epoch (empty when nothing was held out).
    public var validationLosses: [Double]
    public var validationExamples: Int?

    public init(run: String, stepLosses: [Double], stepsPerEpoch: Int? = nil, epochLosses: [Double] = [],
                validationLosses: [Double] = [], validationExamples: Int? = nil) {
        self.run = run
        self.stepLosses = stepLosses
        self.stepsPerEpoch = stepsPerEpoch
        self.epochLosses = epochLosses
        self.validationLosses = validationLosses
        self.validationExamples = validationExamples
    }

    /// The curve in a worker's log; nil when it logged no step. A resumed run logs the steps after its checkpoint a
    /// second time: the later record of a step (or an epoch) wins, as it is the one the adapter carries on from.
    public static func read(log url: URL, run: String) -> TrainingCurve? {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        var steps: [Int: Double] = [:]
        var epochs: [Int: Double] = [:]
        var validation: [Int: Double] = [:]
        var heldOut: Int?
        var firstEpochSteps: Set<Int> = []
        for line in text.split(separator: "\n") {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let kind = obj["event"] as? String else { continue }
            func int(_ k: String) -> Int? { (obj[k] as? NSNumber)?.intValue }
            func dbl(_ k: String) -> Double? { (obj[k] as? NSNumber)?.doubleValue }
            switch kind {
            case "step":
                guard let s = int("step"), s > 0, let loss = dbl("loss") else { continue }
                steps[s] = loss
                if int("epoch") == 1 { firstEpochSteps.insert(s) }
            case "epoch":
                if let e = int("epoch"), e > 0, let loss = dbl("mean_loss") { epochs[e] = loss }
            case "validation":
                if let e = int("epoch"), e > 0, let loss = dbl("val_loss") { validation[e] = loss }
                heldOut = int("examples") ?? heldOut
            default:
                continue
            }
        }
        guard let last = steps.keys.max() else { return nil }
        func dense(_ d: [Int: Double]) -> [Double] {
            guard let n = d.keys.max() else { return [] }
            return (1...n).compactMap { d[$0] }
        }
        // Known once the first epoch ended: where each epoch's validation point sits on the step axis.
        let perEpoch = epochs[1] != nil && !firstEpochSteps.isEmpty ? firstEpochSteps.count : nil
        return TrainingCurve(run: run, stepLosses: (1...last).compactMap { steps[$0] }, stepsPerEpoch: perEpoch,
                             epochLosses: dense(epochs), validationLosses: dense(validation), validationExamples: heldOut)
    }
}
