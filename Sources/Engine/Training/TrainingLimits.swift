/// The one table of what a training setting may be: `TrainingOptions.validate` (the `train` flags and the worker),
/// the experiment file's [training] keys and `run`'s flags all check against it, so no way in is wider than another.
public enum TrainingLimits {
    public static let epochs = 1...1000
    public static let learningRate: ClosedRange<Double> = 1e-8...1
    public static let rank = 1...1024
    /// Far above any useful scale (alpha / rank); 1e308 would make every LoRA update infinite.
    public static let alpha: ClosedRange<Double> = 1e-6...1e6
    public static let batchSize = 1...1024
    public static let warmup = 0...1_000_000
    public static let dropout: ClosedRange<Double> = 0...0.99
    public static let maxGradNorm: ClosedRange<Double> = 0...1e6
    public static let weightDecay: ClosedRange<Double> = 0...1
    public static let checkpointEvery = 0...1_000_000

    /// "must be between 1 and 1000, not 1000000", or nil when `value` is in `range`.
    public static func problem<T: Comparable & CustomStringConvertible>(_ value: T, _ range: ClosedRange<T>) -> String? {
        range.contains(value) ? nil : "must be between \(range.lowerBound) and \(range.upperBound), not \(value)"
    }

    /// The same for a floating-point value, which must also be a number (not nan or infinite).
    public static func problem(_ value: Double, _ range: ClosedRange<Double>) -> String? {
        value.isFinite && range.contains(value) ? nil : "must be between \(range.lowerBound) and \(range.upperBound), not \(value)"
    }

    /// The same for a Float setting, against the range's bounds as Floats (0.99 as a Float is a little above 0.99).
    public static func problem(_ value: Float, _ range: ClosedRange<Double>) -> String? {
        let bounds = Float(range.lowerBound)...Float(range.upperBound)
        return value.isFinite && bounds.contains(value) ? nil : "must be between \(range.lowerBound) and \(range.upperBound), not \(value)"
    }
}
