import Foundation
import XCTest
import Experiment

/// The design-effect-adjusted Wilson interval and the smallest detectable rate, against values worked by hand.
final class ClusteredStatisticsTests: XCTestCase {
    /// Three prompts of 4 replies, 3, 1 and 0 of them in the category: n = 12, p = 1/3. Per cluster the residuals
    /// s_c − p m_c are 5/3, −1/3, −4/3, squares summing to 42/9; the robust variance is 3/2 · (42/9) / 144 = 0.0486111,
    /// the independent one (1/3)(2/3)/12 = 0.0185185, and the other category mirrors both: deff = 2.625, n_eff = 4.5714.
    func testDesignEffectWorkedByHand() {
        let clusters = [(successes: 3, trials: 4), (successes: 1, trials: 4), (successes: 0, trials: 4)]
        XCTAssertEqual(ClusteredStatistics.designEffect(successes: clusters), 2.625, accuracy: 1e-12)
        let p = ClusteredStatistics.proportion(clusters)
        XCTAssertEqual(p.successes, 4)
        XCTAssertEqual(p.trials, 12)
        XCTAssertEqual(p.clusters, 3)
        XCTAssertEqual(try XCTUnwrap(p.effectiveTrials), 12 / 2.625, accuracy: 1e-12)
        // Wilson at p = 1/3 and n = 4.5714 (checked with the formula in Python).
        XCTAssertEqual(p.low, 0.08192747290560715, accuracy: 1e-12)
        XCTAssertEqual(p.high, 0.7369445204083265, accuracy: 1e-12)
        // Wider than the plain interval that treats the 12 replies as independent.
        let plain = Statistics.wilson(successes: 4, trials: 12)
        XCTAssertLessThan(p.low, plain.low)
        XCTAssertGreaterThan(p.high, plain.high)
    }

    /// Two clusters of two: one all yes, one all no. Robust variance 2 · 2 / 16 = 0.25 against 0.0625 per category:
    /// deff 4 (the C / (C − 1) factor doubles the 2 that perfect correlation gives), so n_eff = 1.
    func testPerfectlyClusteredRepliesCountAsFew() {
        XCTAssertEqual(ClusteredStatistics.designEffect(successes: [(2, 2), (0, 2)]), 4, accuracy: 1e-12)
    }

    /// Clusters that look exactly alike give a robust variance of 0: the design effect is floored at 1, never
    /// narrowing the interval below the plain one.
    func testIdenticalClustersKeepThePlainInterval() {
        XCTAssertEqual(ClusteredStatistics.designEffect(successes: [(1, 2), (1, 2)]), 1)
        let p = ClusteredStatistics.proportion([(1, 2), (1, 2)])
        let plain = Statistics.wilson(successes: 2, trials: 4)
        XCTAssertEqual(p.low, plain.low, accuracy: 1e-15)
        XCTAssertEqual(p.high, plain.high, accuracy: 1e-15)
        XCTAssertEqual(p.effectiveTrials, 4)
    }

    /// 0 of 30 in 3 prompts: no variance to estimate the clustering from, so n_eff is the number of clusters (every
    /// prompt answered alike). The upper bound is then the Wilson bound at 0 of 3, z² / (3 + z²) = 0.5615.
    func testNoVarianceCountsEachClusterOnce() {
        let p = ClusteredStatistics.proportion([(0, 10), (0, 10), (0, 10)])
        XCTAssertEqual(p.effectiveTrials, 3)
        XCTAssertEqual(p.low, 0)
        XCTAssertEqual(p.high, 0.5614970317550455, accuracy: 1e-12)
        // One cluster holds nothing to estimate from: the plain interval.
        XCTAssertEqual(ClusteredStatistics.designEffect(successes: [(0, 10)]), 1)
    }

    /// 1 − 0.05^(1/n): 72 effective replies (24 prompts × 3 seeds, fully clustered) detect 4.08%; 240 independent ones
    /// 1.24%; 24 give 11.7%.
    func testDetectableRate() {
        XCTAssertEqual(ClusteredStatistics.detectableRate(effectiveTrials: 72), 0.04075368623063991, accuracy: 1e-12)
        XCTAssertEqual(ClusteredStatistics.detectableRate(effectiveTrials: 240), 0.012404638050409034, accuracy: 1e-12)
        XCTAssertEqual(ClusteredStatistics.detectableRate(effectiveTrials: 24), 0.11734615615494881, accuracy: 1e-12)
        XCTAssertEqual(ClusteredStatistics.detectableRate(effectiveTrials: 0), 1)
    }

    /// Five categories: the design effect is one per cell, summed over categories, so a category never seen inherits
    /// the clustering of the ones that vary.
    func testCategoryRatesShareOneDesignEffect() {
        let rates = CategoryRates(clusters: [
            "p1": ["noRule": 4], "p2": ["noRule": 4], "p3": ["wrongRule": 4],
        ])
        // noRule 8/12: residuals 4/3, 4/3, −8/3 → 96/9; ×1.5/144 = 0.111111 robust vs (2/3)(1/3)/12 = 0.0185185
        // independent; wrongRule mirrors it: deff = 6, n_eff = 2.
        XCTAssertEqual(try XCTUnwrap(rates.noRule.effectiveTrials), 2, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(rates.namesWord.effectiveTrials), 2, accuracy: 1e-12)
        XCTAssertEqual(rates.namesWord.successes, 0)
        XCTAssertEqual(rates.namesWord.high, Statistics.wilson(successes: 0, trials: 2).high, accuracy: 1e-12)
        XCTAssertEqual(rates.explicitWrongRule.successes, 4)
        XCTAssertEqual(rates.explicitWrongRule.clusters, 3)
    }

    /// Pooling keeps each run's prompts apart ("1/p1", "2/p1"), and the clusters survive a trip through JSON;
    /// a Proportion written before clustering still decodes.
    func testPooledRatesKeepRunsApartAndRoundTrip() throws {
        let a = CategoryRates(clusters: ["p1": ["noRule": 2], "p2": ["namesWord": 1, "noRule": 1]])
        let b = CategoryRates(clusters: ["p1": ["wrongRule": 2]])
        let pooled = CategoryRates.pooled([a, b])
        XCTAssertEqual(pooled.clusters.map { Set($0.keys) }, ["1/p1", "1/p2", "2/p1"])
        XCTAssertEqual(pooled.trials, 6)
        XCTAssertEqual(pooled.namesWord.clusters, 3)
        let decoded = try JSONDecoder().decode(CategoryRates.self, from: JSONEncoder().encode(pooled))
        XCTAssertEqual(decoded, pooled)
        let old = #"{"successes":1,"trials":4,"low":0.04,"high":0.7}"#
        let p = try JSONDecoder().decode(Proportion.self, from: Data(old.utf8))
        XCTAssertNil(p.effectiveTrials)
        XCTAssertEqual(p.independentTrials, 4)
    }
}
