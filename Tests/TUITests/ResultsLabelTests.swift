import Foundation
import XCTest
import Experiment
import TUI

/// Labelling a self-report on the Results screen: a key per category asks the engine to store the label, the stored
/// label shows in the sample browser, and a results.json without sample ids says why it cannot be labelled.
final class ResultsLabelTests: XCTestCase {
    /// The fixture's results as a store-backed run writes them: the experiment and every sample's id.
    static func labellable(_ size: Size = Size(width: 80, height: 24)) -> AppState {
        var summary = Fixtures.results
        summary.experimentID = 5
        for i in summary.samples.indices { summary.samples[i].sampleID = Int64(11 + i) }
        var s = Fixtures.state(size)
        _ = update(&s, .key(.char("4")))
        _ = update(&s, .resultsLoaded([ResultsEntry(run: "akewo-mixed-5", path: "/runs/akewo-mixed-5/results.json", summary: summary)]))
        return s
    }

    func testEachCategoryKeyAsksTheEngineToStoreTheLabel() {
        let keys: [(Character, String?)] = [("n", "namesWord"), ("p", "partialWord"), ("m", "mechanism"), ("w", "wrongRule"),
                                            ("o", "noRule"), ("x", nil)]
        for (key, category) in keys {
            var s = Self.labellable()
            XCTAssertEqual(update(&s, .key(.char(key))), [.labelSample(experimentID: 5, sampleID: 11, category: category)], "key \(key)")
        }
        // The selected sample is the one labelled.
        var s = Self.labellable()
        _ = update(&s, .key(.down))
        XCTAssertEqual(update(&s, .key(.char("w"))), [.labelSample(experimentID: 5, sampleID: 12, category: "wrongRule")])
        // While typing a filter the letters go to the filter.
        _ = update(&s, .key(.char("/")))
        XCTAssertEqual(update(&s, .key(.char("w"))), [])
        XCTAssertEqual(s.results.filter.text, "w")
    }

    func testStoredLabelShowsInTheBrowserAndTheStatusLine() {
        var s = Self.labellable()
        XCTAssertEqual(update(&s, .labelSaved(experimentID: 5, sampleID: 12, category: "wrongRule")), [])
        XCTAssertEqual(s.results.current?.summary.samples.map(\.humanCategory), [nil, "wrongRule", nil])
        XCTAssertEqual(s.status?.text, "sample 12: labelled wrongRule; `hellotune report akewo-mixed-5` recounts the verdicts")
        assertGolden(render(s, size: s.size), "results-labelled-80x24")
        // Another experiment's sample with the same id is not touched.
        _ = update(&s, .labelSaved(experimentID: 6, sampleID: 11, category: "noRule"))
        XCTAssertNil(s.results.current?.summary.samples[0].humanCategory)
        XCTAssertEqual(s.status?.text, "sample 11: labelled noRule; `hellotune report 6` recounts the verdicts")
        _ = update(&s, .labelSaved(experimentID: 5, sampleID: 12, category: nil))
        XCTAssertEqual(s.results.current?.summary.samples.map(\.humanCategory), [nil, nil, nil])
        XCTAssertEqual(s.status?.text, "sample 12: label cleared; `hellotune report akewo-mixed-5` recounts the verdicts")
    }

    /// A results.json written before labels has no sample ids: nothing to store the label under.
    func testResultsWithoutSampleIDsSayHowToGetThem() {
        var s = Fixtures.withResults(Fixtures.state())
        XCTAssertEqual(update(&s, .key(.char("w"))), [])
        XCTAssertEqual(s.status?.kind, .warning)
        XCTAssertEqual(s.status?.text, "this results.json has no sample ids (written before labels): `hellotune report RUN` rewrites it")
    }
}
