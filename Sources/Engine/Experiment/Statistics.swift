import Foundation

/// A success rate with its Wilson score interval (95% unless another z was asked for).
public struct Proportion: Sendable, Codable, Equatable {
    public let successes: Int
    public let trials: Int
    /// successes / trials; 0 when there were no trials.
    public var rate: Double { trials == 0 ? 0 : Double(successes) / Double(trials) }
    public let low: Double
    public let high: Double
    /// For a clustered rate (`ClusteredStatistics`): the trials the interval was computed at, n / design effect,
    /// and the number of clusters (prompts × seeds). nil for a plain Wilson interval over independent trials.
    public let effectiveTrials: Double?
    public let clusters: Int?

    public init(successes: Int, trials: Int, low: Double, high: Double, effectiveTrials: Double? = nil, clusters: Int? = nil) {
        self.successes = successes
        self.trials = trials
        self.low = low
        self.high = high
        self.effectiveTrials = effectiveTrials
        self.clusters = clusters
    }

    /// The trials the interval stands for: the effective ones when clustered, else all of them.
    public var independentTrials: Double { effectiveTrials ?? Double(trials) }
}

/// The few tests the experiment reports: rates with intervals, pooled rates, and whether two conditions differ.
public enum Statistics {
    /// z for a two-sided 95% interval.
    public static let z95 = 1.959963984540054

    /// Wilson score interval. It stays inside [0, 1] and is sensible at 0/n and n/n, where the normal
    /// approximation collapses to a zero-width interval, which matters with 10-50 samples per condition.
    /// With no trials the interval is [0, 1]: nothing is known.
    public static func wilson(successes: Int, trials: Int, z: Double = z95) -> Proportion {
        precondition(trials >= 0 && successes >= 0 && successes <= trials,
                     "Statistics.wilson: need 0 <= successes (\(successes)) <= trials (\(trials))")
        guard trials > 0 else { return Proportion(successes: 0, trials: 0, low: 0, high: 1) }
        let n = Double(trials)
        let p = Double(successes) / n
        let z2 = z * z
        let denominator = 1 + z2 / n
        let center = (p + z2 / (2 * n)) / denominator
        let half = z / denominator * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        // The bounds are exactly 0 and 1 at the extremes; rounding must not leave 1e-17 there.
        let low = successes == 0 ? 0 : max(0, center - half)
        let high = successes == trials ? 1 : min(1, center + half)
        return Proportion(successes: successes, trials: trials, low: low, high: high)
    }

    /// Fisher's exact test on the 2x2 table [[a, b], [c, d]], as `scipy.stats.fisher_exact`: the two-sided p
    /// is the total probability of the tables with the same margins that are no more likely than the one
    /// observed, and the odds ratio is the sample one, a*d / (b*c) (infinite when b or c is 0). A row or column
    /// of zeros gives p = 1 and an odds ratio of NaN.
    ///
    /// Probabilities are computed in log space from log-gamma, so counts in the thousands neither overflow
    /// nor lose the tail. "No more likely" allows a relative 1e-7 so that tables tied in exact arithmetic are
    /// not split by rounding (R uses the same tolerance).
    public static func fisherExact(_ a: Int, _ b: Int, _ c: Int, _ d: Int) -> (pTwoSided: Double, oddsRatio: Double) {
        precondition(a >= 0 && b >= 0 && c >= 0 && d >= 0, "Statistics.fisherExact: counts must be >= 0, got \([a, b, c, d])")
        let row1 = a + b, row2 = c + d, col1 = a + c, col2 = b + d
        if row1 == 0 || row2 == 0 || col1 == 0 || col2 == 0 { return (1, .nan) }
        let oddsRatio = b > 0 && c > 0 ? Double(a) * Double(d) / (Double(b) * Double(c)) : .infinity

        let n = row1 + row2
        // log P(X = x) for X ~ Hypergeometric: the top-left cell given all margins.
        let constant = logFactorial(row1) + logFactorial(row2) + logFactorial(col1) + logFactorial(col2) - logFactorial(n)
        func logP(_ x: Int) -> Double {
            constant - logFactorial(x) - logFactorial(row1 - x) - logFactorial(col1 - x) - logFactorial(row2 - col1 + x)
        }
        let observed = logP(a)
        let threshold = observed + log1p(1e-7)
        var total = 0.0
        for x in max(0, col1 - row2)...min(row1, col1) {
            let lp = logP(x)
            if lp <= threshold { total += exp(lp) }
        }
        return (min(1, total), oddsRatio)
    }

    /// One rate over several seeds or words: the successes and trials added up, with the Wilson interval of
    /// the total (not an average of intervals, which would be too wide).
    public static func pooled(_ parts: [Proportion]) -> Proportion {
        wilson(successes: parts.reduce(0) { $0 + $1.successes }, trials: parts.reduce(0) { $0 + $1.trials })
    }

    /// Cohen's κ of two coders from their confusion matrix (`matrix[i][j]`: items coder A put in category i and coder B
    /// in category j): (p_o − p_e) / (1 − p_e), with p_o the share on the diagonal and p_e the agreement expected from
    /// the two coders' marginal shares. nil when it is undefined: no items, or p_e = 1 (both coders used one and the
    /// same category for everything, so there is no disagreement left to beat chance by).
    public static func cohenKappa(_ matrix: [[Int]]) -> Double? {
        let k = matrix.count
        precondition(matrix.allSatisfy { $0.count == k }, "Statistics.cohenKappa: the matrix must be square")
        let n = Double(matrix.reduce(0) { $0 + $1.reduce(0, +) })
        guard n > 0 else { return nil }
        let observed = Double((0..<k).reduce(0) { $0 + matrix[$1][$1] }) / n
        var expected = 0.0
        for i in 0..<k {
            let row = Double(matrix[i].reduce(0, +)) / n
            let column = Double(matrix.reduce(0) { $0 + $1[i] }) / n
            expected += row * column
        }
        guard expected < 1 - 1e-12 else { return nil }
        return (observed - expected) / (1 - expected)
    }

    private static func logFactorial(_ k: Int) -> Double { lgamma(Double(k) + 1) }
}
