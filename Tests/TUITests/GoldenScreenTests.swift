import TUI
import XCTest
import Experiment
import Store
import Support

/// Each screen at 80x24 and 160x48 against Golden/*.txt (HELLOTUNE_UPDATE_GOLDEN=1 rewrites them).
final class GoldenScreenTests: XCTestCase {
    static let small = Size(width: 80, height: 24)
    static let large = Size(width: 160, height: 48)

    func screens(_ size: Size) -> [(String, AppState)] {
        let base = Fixtures.state(size)
        var editing = base
        _ = update(&editing, .key(.enter))
        _ = update(&editing, .key(.ctrl("u")))
        for c in "HELLO" { _ = update(&editing, .key(.char(c))) }
        var launched = base
        _ = update(&launched, .launchFinished(LaunchOutcome(
            kind: .manual,
            message: "start it from the CLI: hellotune train --data $HELLOTUNE_HOME/runs/akewo-mixed-AKEWO-seed1/data.jsonl --out $HELLOTUNE_HOME/runs/akewo-mixed-AKEWO-seed1 --epochs 8 --lr 0.001 --rank 16 --seed 1 --json > $HELLOTUNE_HOME/runs/akewo-mixed-AKEWO-seed1/log.jsonl")))
        launched.status = nil
        var help = base
        _ = update(&help, .key(.char("?")))
        var jobsEmpty = base
        _ = update(&jobsEmpty, .key(.char("2")))
        _ = update(&jobsEmpty, .jobsLoaded([]))
        var resultsEmpty = base
        _ = update(&resultsEmpty, .key(.char("4")))
        _ = update(&resultsEmpty, .resultsLoaded([]))
        var playgroundIdle = base
        _ = update(&playgroundIdle, .key(.char("3")))
        // Off the prompt after a reply: the footer lists the screen's keys.
        var playgroundKeys = Fixtures.withReplies(base)
        _ = update(&playgroundKeys, .key(.escape))
        return [
            ("setup", base),
            ("setup-editing", editing),
            ("setup-launched", launched),
            ("jobs", Fixtures.withJobs(base)),
            ("jobs-empty", jobsEmpty),
            ("jobs-run", Fixtures.withLaunchedRun(base)),
            ("playground", Fixtures.withReplies(base)),
            ("playground-idle", playgroundIdle),
            ("playground-no-adapter", Fixtures.withReplies(base, adapter: nil)),
            ("playground-keys", playgroundKeys),
            ("results", Fixtures.withResults(base)),
            ("results-empty", resultsEmpty),
            ("help", help),
        ]
    }

    func testScreensAt80x24() {
        for (name, state) in screens(Self.small) {
            assertGolden(render(state, size: Self.small), "\(name)-80x24")
        }
    }

    func testScreensAt160x48() {
        for (name, state) in screens(Self.large) {
            assertGolden(render(state, size: Self.large), "\(name)-160x48")
        }
    }

    func testTooSmall() {
        let size = Size(width: 59, height: 20)
        let buf = render(Fixtures.state(size), size: size)
        assertGolden(buf, "too-small-59x20")
        XCTAssertNotNil(buf.find("Terminal too small: 59x20"))
        XCTAssertNotNil(buf.find("at least 60x16"))
        // Exactly the minimum draws the layout.
        let min = render(Fixtures.state(Size(width: 60, height: 16)), size: Size(width: 60, height: 16))
        XCTAssertNil(min.find("Terminal too small"))
        XCTAssertNotNil(min.find("Target word"))
        XCTAssertNotNil(render(Fixtures.state(Size(width: 100, height: 15)), size: Size(width: 100, height: 15)).find("too small"))
    }

    /// The first letter of each line: `match` where it is the word's letter at that position, `mismatch` where not.
    func testPlaygroundHighlightsFirstLettersAgainstTheWord() throws {
        for size in [Self.small, Self.large] {
            let buf = render(Fixtures.withReplies(Fixtures.state(size)), size: size)
            let half = size.width / 2
            for (line, role) in [("Apples are red", StyleRole.match), ("Kites fly", .match), ("Eagles soar", .match),
                                 ("Whales swim", .match), ("Xylophones ring", .mismatch)] {
                let at = try XCTUnwrap(locate(buf, line, after: half), "\(line) not on screen at \(size)")
                XCTAssertEqual(buf[at.x, at.y].role, role, "\(line) first letter at \(size)")
                XCTAssertEqual(buf[at.x + 1, at.y].role, .normal, "only the first letter of \(line) is marked")
                XCTAssertEqual(buf[at.x - 1, at.y].role, .normal)
            }
            // The read-out under the right pane: A K E W X, the X a mismatch, 4/5.
            let readout = try XCTUnwrap(locate(buf, "A K E W X  4/5", after: half))
            for i in 0..<4 { XCTAssertEqual(buf[readout.x + 2 * i, readout.y].role, .match) }
            XCTAssertEqual(buf[readout.x + 8, readout.y].role, .mismatch)
            // The left pane's reply is one paragraph: scored by sentences, N and F are mismatches.
            let nature = try XCTUnwrap(locate(buf, "Nature is full"))
            XCTAssertLessThan(nature.x, half)
            XCTAssertEqual(buf[nature.x, nature.y].role, .mismatch)
            let forests = try XCTUnwrap(locate(buf, "Forests are"))
            XCTAssertEqual(buf[forests.x, forests.y].role, .mismatch)
            XCTAssertEqual(buf[forests.x + 1, forests.y].role, .normal)
        }
    }

    func testResultsHighlightTheSelectedSample() throws {
        for size in [GoldenScreenTests.small, GoldenScreenTests.large] {
            let buf = render(Fixtures.withResults(Fixtures.state(size)), size: size)
            // Below the list: the selected sample in full.
            let question = try XCTUnwrap(locate(buf, " Q: What is special about you? "))
            let lines = buf.lines
            let a = try XCTUnwrap((question.y + 1..<size.height).first { lines[$0].contains("Apples are red") })
            let ax = try XCTUnwrap(buf.find("Apples are red", row: a))
            XCTAssertEqual(buf[ax, a].role, .match)
            let x = try XCTUnwrap((question.y + 1..<size.height).first { lines[$0].contains("Xylophones ring") })
            let xx = try XCTUnwrap(buf.find("Xylophones ring", row: x))
            XCTAssertEqual(buf[xx, x].role, .mismatch)
        }
    }

    func testWideCharactersTakeTwoCells() {
        var s = Fixtures.withReplies(Fixtures.state())
        let id = s.playground.requestID
        _ = update(&s, .reply(request: id, pane: 1, .token("\n日本語 text\ttab")))
        let buf = render(s, size: Size(width: 80, height: 24))
        let at = buf.find("日本語")!
        XCTAssertTrue(buf[at.x + 1, at.y].isContinuation)
        XCTAssertEqual(buf[at.x + 2, at.y].character, "本")
        XCTAssertNotNil(buf.find("text    tab"), "tabs are expanded")
    }
}
