import Foundation

/// Speed ratios of paired measurements (ours over an anchor's, each pair taken in the same minutes) and what
/// they show together. A shared machine's speed drifts from minute to minute, so one pair proves little; the
/// ratios of many pairs are summarised on the log scale, where "1.1x faster" and "1.1x slower" weigh the same:
/// the geometric mean, and a 95% t-interval for it.
public struct PairedRatios: Sendable, Equatable {
    public let ratios: [Double]

    /// `ratios` must be positive and finite (tokens/s over tokens/s).
    public init(_ ratios: [Double]) {
        precondition(!ratios.isEmpty && ratios.allSatisfy { $0 > 0 && $0.isFinite }, "ratios must be positive and finite")
        self.ratios = ratios
    }

    public var count: Int { ratios.count }

    public var median: Double {
        let s = ratios.sorted(), n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }

    public var geometricMean: Double { exp(logs.reduce(0, +) / Double(count)) }

    /// The 95% interval of the geometric mean (Student's t on the log ratios); nil for a single pair.
    public var interval95: ClosedRange<Double>? {
        guard count >= 2 else { return nil }
        let n = Double(count), mean = logs.reduce(0, +) / n
        let sd = sqrt(logs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1))
        let half = Self.t975(degreesOfFreedom: count - 1) * sd / n.squareRoot()
        return exp(mean - half)...exp(mean + half)
    }

    /// How many pairs reached at least `bar`.
    public func reaching(_ bar: Double) -> Int { ratios.filter { $0 >= bar }.count }

    /// What the pairs show about "ours is at least `bar` times the anchor". A bar inside the interval is not
    /// evidence against it: the pairs cannot tell.
    public enum Finding: Equatable, Sendable {
        case met        // the interval lies at or above the bar
        case missed     // the interval lies below the bar
        case notShown   // the bar is inside the interval, or there is one pair only
    }

    public func finding(bar: Double) -> Finding {
        guard let i = interval95 else { return .notShown }
        if i.lowerBound >= bar { return .met }
        if i.upperBound < bar { return .missed }
        return .notShown
    }

    private var logs: [Double] { ratios.map { log($0) } }

    /// The 0.975 quantile of Student's t: the table to 30 degrees of freedom, then the Cornish-Fisher expansion
    /// around the normal quantile (within 1e-4 of the exact value from 31 on).
    public static func t975(degreesOfFreedom df: Int) -> Double {
        precondition(df >= 1)
        let table = [12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
                     2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
                     2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423]
        if df <= table.count { return table[df - 1] }
        let z = Statistics.z95, v = Double(df)
        let z3 = z * z * z, z5 = z3 * z * z
        return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v)
    }
}
