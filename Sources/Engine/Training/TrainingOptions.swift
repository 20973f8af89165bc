import Foundation
import ModelCore

/// Everything that decides a training run's result. Stored in each checkpoint: a resume must use
/// the same options, or its loss trajectory would not match an uninterrupted run.
public struct TrainingOptions: Codable, Sendable, Equatable {
    public var epochs: Int = 3
    public var learningRate: Float = 1e-3
    public var batchSize: Int = 1
    public var seed: UInt64 = 1
    public var lora = LoRAConfig()
    public var warmupSteps: Int = 0
    public var schedule: LearningRateSchedule.Decay = .constant
    /// Global gradient-norm clip (0: off).
    public var maxGradNorm: Float = 1.0
    public var weightDecay: Float = 0.01
    /// Shuffle the examples each epoch (deterministically from the seed).
    public var shuffle = true
    /// Save a checkpoint every N steps (0: only at the end of each epoch).
    public var checkpointEvery: Int = 10
    /// Share of the examples held out of training, whose loss is measured after every epoch (at least one example
    /// when above 0). nil reads as 0: checkpoints and job specs written before the held-out set existed.
    public var validationShare: Double? = TrainingOptions.defaultValidationShare

    public static let defaultValidationShare = 0.1
    public static let validationShareLimits: ClosedRange<Double> = 0...0.5

    public init() {}

    /// Whether a checkpoint written with `self` continues a run with `other`: the same options, a missing share
    /// (a checkpoint from before the held-out set) counting as 0.
    public func resumes(as other: TrainingOptions) -> Bool {
        var a = self, b = other
        a.validationShare = a.validationShare ?? 0
        b.validationShare = b.validationShare ?? 0
        return a == b
    }

    /// Every value against `TrainingLimits`, the table the experiment file and `run` check too.
    public func validate() throws {
        func check(_ field: String, _ problem: String?) throws {
            if let problem { throw TrainingError.invalidOption(field: field, reason: problem) }
        }
        try check("epochs", TrainingLimits.problem(epochs, TrainingLimits.epochs))
        try check("lr", TrainingLimits.problem(learningRate, TrainingLimits.learningRate))
        try check("batch-size", TrainingLimits.problem(batchSize, TrainingLimits.batchSize))
        try check("rank", TrainingLimits.problem(lora.rank, TrainingLimits.rank))
        try check("alpha", TrainingLimits.problem(lora.alpha, TrainingLimits.alpha))
        try check("dropout", TrainingLimits.problem(lora.dropout, TrainingLimits.dropout))
        if lora.targets.isEmpty {
            throw TrainingError.invalidOption(field: "targets", reason: "name at least one of q, k, v, o, gate, up, down")
        }
        try check("warmup", TrainingLimits.problem(warmupSteps, TrainingLimits.warmup))
        try check("max-grad-norm", TrainingLimits.problem(maxGradNorm, TrainingLimits.maxGradNorm))
        try check("weight-decay", TrainingLimits.problem(weightDecay, TrainingLimits.weightDecay))
        try check("checkpoint-every", TrainingLimits.problem(checkpointEvery, TrainingLimits.checkpointEvery))
        if let share = validationShare, !Self.validationShareLimits.contains(share) {
            throw TrainingError.invalidOption(field: "val-split", reason: "must be between 0 and 0.5 (a share of the examples; got \(share))")
        }
    }
}

public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case invalidOption(field: String, reason: String)
    case checkpointMismatch(path: String, reason: String)
    case corruptCheckpoint(path: String, reason: String)
    case nothingToResume(path: String)
    case outputNotWritable(path: String, reason: String)
    case nonFiniteLoss(step: Int)
    /// Writing a checkpoint failed (disk full, file size limit, ...); the one before it is untouched.
    case checkpointNotSaved(step: Int, reason: String)
    /// Another training run holds the output folder's lock.
    case outputInUse(path: String, pid: Int32?)
    /// The output folder holds the adapter of a finished run, which a new run would overwrite.
    case finishedAdapterExists(path: String)

    public var description: String {
        switch self {
        case let .invalidOption(field, reason):
            return "--\(field) \(reason)."
        case let .checkpointMismatch(path, reason):
            return "cannot resume from \(path): \(reason). Resume with the same data and options, or train into a new --out folder."
        case let .corruptCheckpoint(path, reason):
            return "checkpoint \(path) is unreadable (\(reason)). Delete it to start over."
        case let .nothingToResume(path):
            return "--resume was given but \(path) holds no checkpoint. Drop --resume to start a new run."
        case let .outputNotWritable(path, reason):
            return "cannot write to the output folder \(path): \(reason). Choose a writable --out folder."
        case let .nonFiniteLoss(step):
            return "the loss became NaN or infinite at step \(step). Lower --lr or raise --max-grad-norm clipping."
        case let .checkpointNotSaved(step, reason):
            return "training stopped at step \(step): \(reason) Once that is fixed, resume from the last saved "
                + "checkpoint (hellotune train --resume, or run the experiment again)."
        case let .outputInUse(path, pid):
            return "another training run\(pid.map { " (pid \($0))" } ?? "") is writing to \(path). Wait for it to finish "
                + "(or stop it), or choose another --out folder."
        case let .finishedAdapterExists(path):
            return "\(path) already holds the adapter of a finished training run. Pass --resume to continue from its "
                + "checkpoint, --force to train again and replace it, or choose another --out folder."
        }
    }
}

/// One optimizer step's numbers, as streamed to the CLI, the TUI and the job store.
public struct TrainingStep: Codable, Sendable, Equatable {
    public var step: Int            // 1-based
    public var totalSteps: Int
    public var epoch: Int           // 1-based
    public var loss: Double         // mean over the step's labelled tokens
    public var learningRate: Float
    public var gradNorm: Float
    public var tokens: Int          // tokens processed in this step
    public var tokensPerSecond: Double
    public var etaSeconds: Double
}

public enum TrainingEvent: Sendable {
    case started(totalSteps: Int, startStep: Int, examples: Int, tokensPerEpoch: Int)
    case step(TrainingStep)
    case epochEnded(epoch: Int, meanLoss: Double, tokensPerSecond: Double)
    case checkpointSaved(step: Int, path: String)
    /// The held-out examples' mean loss per labelled token after an epoch (no gradient, no dropout).
    case validated(epoch: Int, loss: Double, examples: Int)
    case finished(TrainingSummary)
}

public struct TrainingSummary: Codable, Sendable, Equatable {
    public var steps: Int
    public var epochs: Int
    public var finalLoss: Double
    public var epochLosses: [Double]
    public var epochTokensPerSecond: [Double]
    /// Held-out loss after each epoch; nil when nothing was held out (or the summary predates it).
    public var validationLosses: [Double]?
    public var seconds: Double
    public var cancelled: Bool
    public var adapterPath: String
}
