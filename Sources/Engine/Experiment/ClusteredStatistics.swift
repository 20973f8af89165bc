import Foundation

/// Intervals for replies that come in clusters: the K samples of one prompt, and every reply of one training seed,
/// resemble each other more than independent draws would, so a plain Wilson interval over all of them is too
/// narrow. The correction is the design effect (Kish): the ratio of the cluster-robust variance of a proportion
/// (the ratio estimator's sandwich variance, with the C / (C − 1) small-sample factor) to the variance it would
/// have under independent sampling. The interval is then the Wilson interval at the effective number of trials
/// n_eff = n / deff. `ClusteredStatistics` is what the report's "Replication" section states as its method.
public enum ClusteredStatistics {
    /// The design effect of per-cluster category counts (`clusters[c][k]`: replies of cluster c in category k), one
    /// for all categories together: Σ_k var_cluster(p_k) / Σ_k var_independent(p_k). One figure per cell, so that a
    /// category seen 0 times inherits the clustering the cell shows in the categories that do vary.
    ///
    /// - Fewer than 2 non-empty clusters: 1 (one cluster holds nothing to estimate the clustering from).
    /// - Every reply in one category (no variance at all): n / C, that is n_eff = C, as if every cluster were
    ///   answered alike (intra-cluster correlation 1): the data cannot tell, so the wider interval is taken.
    /// - Otherwise the estimate, never below 1: clustering is not allowed to narrow an interval.
    public static func designEffect(_ clusters: [[Int]]) -> Double {
        let used = clusters.filter { $0.reduce(0, +) > 0 }
        let C = used.count
        guard C >= 2 else { return 1 }
        let sizes = used.map { Double($0.reduce(0, +)) }
        let n = sizes.reduce(0, +)
        let width = used.map(\.count).max() ?? 0
        var robust = 0.0, independent = 0.0
        for k in 0..<width {
            let counts = used.map { k < $0.count ? Double($0[k]) : 0 }
            let p = counts.reduce(0, +) / n
            independent += p * (1 - p) / n
            let residuals = zip(counts, sizes).reduce(0.0) { $0 + pow($1.0 - p * $1.1, 2) }
            robust += Double(C) / Double(C - 1) * residuals / (n * n)
        }
        guard independent > 0 else { return n / Double(C) }
        return max(1, robust / independent)
    }

    /// The design effect of a yes/no outcome per cluster.
    public static func designEffect(successes: [(successes: Int, trials: Int)]) -> Double {
        designEffect(successes.map { [$0.successes, $0.trials - $0.successes] })
    }

    /// The Wilson interval of `successes` / `trials` at n_eff = trials / deff (the counts themselves are kept).
    public static func wilson(successes: Int, trials: Int, designEffect deff: Double, clusters: Int,
                              z: Double = Statistics.z95) -> Proportion {
        let plain = Statistics.wilson(successes: successes, trials: trials, z: z)
        guard trials > 0, deff > 1 else {
            return Proportion(successes: successes, trials: trials, low: plain.low, high: plain.high,
                              effectiveTrials: Double(trials), clusters: clusters)
        }
        let n = Double(trials) / deff
        let p = Double(successes) / Double(trials)
        let z2 = z * z
        let denominator = 1 + z2 / n
        let center = (p + z2 / (2 * n)) / denominator
        let half = z / denominator * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        return Proportion(successes: successes, trials: trials,
                          low: successes == 0 ? 0 : max(0, center - half), high: successes == trials ? 1 : min(1, center + half),
                          effectiveTrials: n, clusters: clusters)
    }

    /// A yes/no rate over clusters, with its design-effect-adjusted Wilson interval.
    public static func proportion(_ clusters: [(successes: Int, trials: Int)]) -> Proportion {
        wilson(successes: clusters.reduce(0) { $0 + $1.successes }, trials: clusters.reduce(0) { $0 + $1.trials },
               designEffect: designEffect(successes: clusters), clusters: clusters.filter { $0.trials > 0 }.count)
    }

    /// The smallest rate the design detects: with rate r and n_eff independent trials, P(none observed) = (1 − r)^n_eff;
    /// the r at which that falls to 5% is 1 − 0.05^(1 / n_eff), the one-sided 95% upper bound after 0 of n_eff. 1 when
    /// there were no trials.
    public static func detectableRate(effectiveTrials n: Double, alpha: Double = 0.05) -> Double {
        n <= 0 ? 1 : 1 - pow(alpha, 1 / n)
    }
}
