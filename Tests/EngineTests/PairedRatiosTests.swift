import XCTest
import Experiment

/// The summary of paired speed ratios that `bench … --anchor` prints. Expected values are scipy's
/// (`scipy.stats.t.ppf(0.975, df)` and `scipy.stats.gmean`), worked once outside the repository.
final class PairedRatiosTests: XCTestCase {
    func testGeometricMeanAndIntervalOnTheLogScale() throws {
        let p = PairedRatios([1.06, 1.09, 1.05, 1.19, 1.01, 0.81])
        XCTAssertEqual(p.median, 1.055, accuracy: 1e-12)        // even count: the mean of the middle two
        XCTAssertEqual(p.geometricMean, 1.02812, accuracy: 1e-5)
        let i = try XCTUnwrap(p.interval95)
        XCTAssertEqual(i.lowerBound, 0.89785, accuracy: 1e-4)
        XCTAssertEqual(i.upperBound, 1.17731, accuracy: 1e-4)
        XCTAssertEqual(p.reaching(1.0), 5)
        // 1.0x is inside the interval: the pairs show neither that the bar is met nor that it is missed.
        XCTAssertEqual(p.finding(bar: 1.0), .notShown)
        XCTAssertEqual(p.finding(bar: 0.85), .met)
        XCTAssertEqual(p.finding(bar: 1.2), .missed)
    }

    func testSlowerAndFasterWeighTheSame() {
        // 2x faster once and 2x slower once is level, not 1.25x faster.
        let p = PairedRatios([2.0, 0.5])
        XCTAssertEqual(p.geometricMean, 1.0, accuracy: 1e-12)
        XCTAssertEqual(p.median, 1.25, accuracy: 1e-12)
    }

    func testOnePairHasNoIntervalAndShowsNothing() {
        let p = PairedRatios([1.5])
        XCTAssertNil(p.interval95)
        XCTAssertEqual(p.finding(bar: 1.0), .notShown)
        XCTAssertEqual(p.reaching(1.0), 1)
    }

    func testStudentQuantiles() {
        XCTAssertEqual(PairedRatios.t975(degreesOfFreedom: 1), 12.7062, accuracy: 1e-4)
        XCTAssertEqual(PairedRatios.t975(degreesOfFreedom: 5), 2.5706, accuracy: 1e-4)
        XCTAssertEqual(PairedRatios.t975(degreesOfFreedom: 30), 2.0423, accuracy: 1e-4)
        // Beyond the table: the expansion against scipy.
        XCTAssertEqual(PairedRatios.t975(degreesOfFreedom: 31), 2.039513, accuracy: 1e-4)
        XCTAssertEqual(PairedRatios.t975(degreesOfFreedom: 60), 2.000298, accuracy: 1e-4)
        XCTAssertEqual(PairedRatios.t975(degreesOfFreedom: 1000), 1.962339, accuracy: 1e-4)
    }
}
