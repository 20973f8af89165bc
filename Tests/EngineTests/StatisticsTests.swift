import Foundation
import XCTest
import Experiment

/// Wilson intervals and Fisher's exact test against values computed with Python (the Wilson formula by hand,
/// Fisher with scipy 1.17 `scipy.stats.fisher_exact`).
final class StatisticsTests: XCTestCase {
    func assertClose(_ x: Double, _ y: Double, relative: Double = 1e-9, _ message: String = "",
                     file: StaticString = #filePath, line: UInt = #line) {
        if x.isNaN || y.isNaN { XCTAssertTrue(x.isNaN && y.isNaN, "\(x) vs \(y) \(message)", file: file, line: line); return }
        if x.isInfinite || y.isInfinite { XCTAssertEqual(x, y, message, file: file, line: line); return }
        XCTAssertLessThanOrEqual(abs(x - y), relative * max(abs(x), abs(y), 1e-300), "\(x) vs \(y) \(message)",
                                 file: file, line: line)
    }

    func testWilsonKnownValues() {
        let cases: [(Int, Int, Double, Double)] = [
            (0, 10, 0, 0.2775327998628892),
            (5, 10, 0.236593090512564, 0.76340690948743606),
            (10, 10, 0.72246720013711074, 1),
            (3, 20, 0.052368745896216595, 0.36041886474075696),
            (1, 1, 0.20654931437723745, 1),
            (0, 1, 0, 0.79345068562276255),
            (47, 50, 0.83782908311161819, 0.97938502965102603),
            (250, 1000, 0.2241530989836914, 0.27776028025908617),
        ]
        for (k, n, low, high) in cases {
            let p = Statistics.wilson(successes: k, trials: n)
            XCTAssertEqual(p.successes, k)
            XCTAssertEqual(p.trials, n)
            XCTAssertEqual(p.rate, Double(k) / Double(n))
            assertClose(p.low, low, "low of \(k)/\(n)")
            assertClose(p.high, high, "high of \(k)/\(n)")
        }
    }

    func testWilsonExtremesAreExactAndNoTrialsIsEverything() {
        XCTAssertEqual(Statistics.wilson(successes: 0, trials: 7).low, 0)
        XCTAssertEqual(Statistics.wilson(successes: 7, trials: 7).high, 1)
        let none = Statistics.wilson(successes: 0, trials: 0)
        XCTAssertEqual([none.rate, none.low, none.high], [0, 0, 1])
    }

    func testWilsonNarrowsWithMoreTrialsAndWidensWithZ() {
        let small = Statistics.wilson(successes: 5, trials: 10)
        let large = Statistics.wilson(successes: 500, trials: 1000)
        XCTAssertLessThan(large.high - large.low, small.high - small.low)
        let z99 = Statistics.wilson(successes: 5, trials: 10, z: 2.5758293035489004)
        XCTAssertLessThan(z99.low, small.low)
        XCTAssertGreaterThan(z99.high, small.high)
    }

    func testPooledAddsCountsBeforeTheInterval() {
        let parts = [Statistics.wilson(successes: 3, trials: 10), Statistics.wilson(successes: 7, trials: 10),
                     Statistics.wilson(successes: 0, trials: 0)]
        XCTAssertEqual(Statistics.pooled(parts), Statistics.wilson(successes: 10, trials: 20))
        XCTAssertEqual(Statistics.pooled([]), Statistics.wilson(successes: 0, trials: 0))
    }

    func testProportionRoundTripsThroughJSON() throws {
        let p = Statistics.wilson(successes: 3, trials: 20)
        let back = try JSONDecoder().decode(Proportion.self, from: JSONEncoder().encode(p))
        XCTAssertEqual(back, p)
        XCTAssertEqual(back.rate, 0.15)
    }

    func testFisherMatchesScipy() {
        // (a, b, c, d), scipy's two-sided p and odds ratio.
        let cases: [(Int, Int, Int, Int, Double, Double)] = [
            (8, 2, 1, 5, 0.034965034965034975, 20),
            (0, 10, 10, 0, 1.082508822446903e-05, 0),
            (10, 0, 0, 10, 1.082508822446903e-05, .infinity),
            (1, 9, 11, 3, 0.0027594561852200836, 0.030303030303030304),
            (3, 1, 1, 3, 0.48571428571428565, 9),
            (0, 3, 2, 5, 1, 0),
            (5, 0, 3, 2, 0.44444444444444448, .infinity),
            (2, 7, 8, 2, 0.023014137565221159, 0.07142857142857142),
            (12, 5, 29, 2, 0.080268552074104632, 0.16551724137931034),
            (3, 3, 3, 3, 1, 1),
            (0, 1, 1, 0, 1, 0),
            (20, 30, 20, 30, 1, 1),
            (1, 0, 0, 1, 1, .infinity),
            (4, 15, 2, 40, 0.069387090283699507, 5.333333333333333),
            (1, 2, 3, 4, 1, 0.6666666666666666),
            (6, 1, 1, 6, 0.02913752913752914, 36),
            (0, 20, 5, 15, 0.047124047124047129, 0),
            (100, 200, 150, 120, 9.6542184948555548e-08, 0.4),
            (500, 3, 480, 20, 0.00023044112766477633, 6.944444444444445),
            (1000, 1200, 1100, 1000, 6.2411668030803644e-06, 0.7575757575757576),
            (1500, 1500, 1400, 1600, 0.010534027832066048, 1.1428571428571428),
            (2000, 10, 1990, 25, 0.016214770653345825, 2.512562814070352),
            (5, 2995, 30, 2970, 2.1249855356817279e-05, 0.1652754590984975),
            (0, 300, 300, 0, 1.4802978791996796e-179, 0),
        ]
        for (a, b, c, d, p, odds) in cases {
            let r = Statistics.fisherExact(a, b, c, d)
            assertClose(r.pTwoSided, p, relative: 1e-8, "p of \([a, b, c, d])")
            assertClose(r.oddsRatio, odds, relative: 1e-12, "odds ratio of \([a, b, c, d])")
        }
    }

    func testFisherWithAnEmptyRowOrColumnIsUninformative() {
        for t in [(0, 0, 0, 0), (0, 5, 0, 5), (7, 0, 0, 0), (0, 0, 4, 9)] {
            let r = Statistics.fisherExact(t.0, t.1, t.2, t.3)
            XCTAssertEqual(r.pTwoSided, 1, "\(t)")
            XCTAssertTrue(r.oddsRatio.isNaN, "\(t)")
        }
    }

    func testFisherIsSymmetricUnderTransposeAndSwaps() {
        let base = Statistics.fisherExact(12, 5, 29, 2).pTwoSided
        assertClose(Statistics.fisherExact(12, 29, 5, 2).pTwoSided, base, relative: 1e-12)  // transpose
        assertClose(Statistics.fisherExact(29, 2, 12, 5).pTwoSided, base, relative: 1e-12)  // rows swapped
        assertClose(Statistics.fisherExact(5, 12, 2, 29).pTwoSided, base, relative: 1e-12)  // columns swapped
    }
}
