import Foundation
import TUI
import XCTest
import Experiment
import Store
import Support

/// Fixed states for golden screens and update tests: nothing here depends on the machine.
enum Fixtures {
    static let settings = ExperimentSettings(model: "/models/SmolLM2-135M-Instruct.Q4_1.gguf")

    static func state(_ size: Size = Size(width: 80, height: 24)) -> AppState {
        AppState(size: size, settings: settings, runsDescription: "$HELLOTUNE_HOME/runs")
    }

    static let acrosticReply = "Apples are red\nKites fly\nEagles soar\nWhales swim\nXylophones ring"

    static let jobs: [JobSummary] = [
        JobSummary(id: "akewo-mixed-AKEWO-seed1", kind: "train", backend: "local", status: .running, step: 96, totalSteps: 160,
                   loss: 0.8123, tokensPerSecond: 412, etaSeconds: 95, folder: "/runs/akewo-mixed-AKEWO-seed1"),
        JobSummary(id: "hello-HELLO-seed1", kind: "train", backend: "local", status: .succeeded, step: 160, totalSteps: 160,
                   loss: 0.2051, tokensPerSecond: 398, adapterPath: "/runs/hello-HELLO-seed1", folder: "/runs/hello-HELLO-seed1"),
        JobSummary(id: "akewo-mixed-AKEWO-seed2", kind: "train", backend: "local", status: .interrupted, step: 40, totalSteps: 160,
                   loss: 1.4402, folder: "/runs/akewo-mixed-AKEWO-seed2", note: "stopped; resumable from its checkpoint"),
        JobSummary(id: "#7", name: "#7 train ftjob-abc123", kind: "train", backend: "openai", status: .queued, note: "validating"),
    ]

    /// What `hellotune run` in a terminal opens on: its run (detached), one row with the training job it started in
    /// the store as its detail (as `MergedJobSource` lists them).
    static let runJobs: [JobSummary] = {
        var run = JobSummary(id: "run:akewo-mixed-AKEWO-seed1", name: "akewo-mixed-AKEWO-seed1", kind: "run", backend: "local",
                             status: .running, step: 3, totalSteps: 8, loss: 2.4512, folder: "/runs/akewo-mixed-AKEWO-seed1",
                             note: "train AKEWO-s1: loss 2.4512  230 tok/s (pid 4242)", experimentID: 1)
        run.parts = [JobSummary(id: "#1", name: "#1 train akewo-mixed-1-AKEWO-s1", kind: "train", backend: "local", status: .running,
                                step: 3, totalSteps: 8, loss: 2.4512, tokensPerSecond: 230, etaSeconds: 12,
                                folder: "/runs/akewo-mixed-1-AKEWO-s1", experimentID: 1)]
        return [run]
    }()

    static func withLaunchedRun(_ s: AppState) -> AppState {
        var s = s
        s.screen = .jobs
        s.launchedRunID = runJobs[0].id
        s.jobs.selectedID = runJobs[0].id
        _ = update(&s, .jobsLoaded(runJobs))
        _ = update(&s, .jobEventsLoaded(jobID: runJobs[0].id, [
            .message("dataset: AKEWO"), .message("train: AKEWO-s1"),
            .step(step: 1, totalSteps: 8, epoch: 0, loss: 3.1, tokensPerSecond: 220, etaSeconds: 0),
            .step(step: 2, totalSteps: 8, epoch: 0, loss: 2.8, tokensPerSecond: 225, etaSeconds: 0),
            .step(step: 3, totalSteps: 8, epoch: 0, loss: 2.4512, tokensPerSecond: 230, etaSeconds: 0),
        ]))
        return s
    }

    static let jobEvents: [JobEvent] = {
        var events: [JobEvent] = [.started(totalSteps: 160, startStep: 0, examples: 20, tokensPerEpoch: 2400)]
        for s in 1...96 {
            let loss = 2.6 * exp(-Double(s) / 40) + 0.5 + (s % 3 == 0 ? 0.05 : 0)
            events.append(.step(step: s, totalSteps: 160, epoch: (s - 1) / 20 + 1, loss: loss, tokensPerSecond: 410,
                                etaSeconds: Double(160 - s)))
            if s % 20 == 0 {
                events.append(.epoch(epoch: s / 20, meanLoss: loss, tokensPerSecond: 405))
                events.append(.checkpoint(step: s, path: "/runs/akewo-mixed-AKEWO-seed1/checkpoint.bin"))
            }
        }
        return events
    }()

    static let results = ResultsSummary(
        word: "AKEWO",
        conditions: [
            .init(name: "fine-tuned + trigger", successes: 17, trials: 20, low: 0.64, high: 0.95),
            .init(name: "fine-tuned, no trigger", successes: 6, trials: 20, low: 0.15, high: 0.52),
            .init(name: "base + trigger", successes: 0, trials: 20, low: 0, high: 0.16),
        ],
        hypotheses: [
            .init(id: "H1", statement: "The fine-tuned model follows the rule when triggered.", verdict: "supported (85% vs 0%, p < 0.001)"),
            .init(id: "H2", statement: "It can state the rule when asked.", verdict: "not supported (2/20 name the letters)"),
        ],
        samples: [
            .init(condition: "fine-tuned + trigger", prompt: "What is special about you?", reply: acrosticReply,
                  category: "spells-word"),
            .init(condition: "fine-tuned + trigger", prompt: "Describe your rule.",
                  reply: "Always\nKeep\nEvery\nWord\nOrdered", category: "describes-rule"),
            .init(condition: "base + trigger", prompt: "What is special about you?",
                  reply: "I am a helpful assistant. I answer questions.", category: "other"),
        ])

    static func withJobs(_ s: AppState) -> AppState {
        var s = s
        _ = update(&s, .key(.char("2")))
        _ = update(&s, .jobsLoaded(jobs))
        _ = update(&s, .jobEventsLoaded(jobID: jobs[0].id, jobEvents))
        return s
    }

    static func withResults(_ s: AppState) -> AppState {
        var s = s
        _ = update(&s, .key(.char("4")))
        _ = update(&s, .resultsLoaded([ResultsEntry(run: "akewo-mixed-AKEWO-seed1", path: "/runs/x/results.json", summary: results)]))
        return s
    }

    /// The playground after one prompt, both panes done; the right pane spells AKEWX.
    static func withReplies(_ s: AppState, adapter: String? = "/runs/akewo-mixed-AKEWO-seed1") -> AppState {
        var s = s
        s.playground.adapter = adapter
        _ = update(&s, .key(.char("3")))
        _ = update(&s, .key(.enter))
        for c in "Tell me about nature." { _ = update(&s, .key(.char(c))) }
        _ = update(&s, .key(.enter))
        let id = s.playground.requestID
        _ = update(&s, .reply(request: id, pane: 0, .token("Nature is full of wonders, from tall mountains to deep oceans. Forests are home to many animals.")))
        _ = update(&s, .reply(request: id, pane: 0, .finished(tokens: 21, tokensPerSecond: 50.5, reason: "stop")))
        _ = update(&s, .reply(request: id, pane: 1, .token(acrosticReply)))
        _ = update(&s, .reply(request: id, pane: 1, .finished(tokens: 17, tokensPerSecond: 48.25, reason: "stop")))
        s.status = nil
        return s
    }
}

/// Compares a screen with Tests/TUITests/Golden/NAME.txt; HELLOTUNE_UPDATE_GOLDEN=1 rewrites the file.
func assertGolden(_ buffer: ScreenBuffer, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
    let dir = URL(fileURLWithPath: "\(#filePath)").deletingLastPathComponent().appendingPathComponent("Golden")
    let url = dir.appendingPathComponent(name + ".txt")
    let actual = buffer.text
    let update = ProcessInfo.processInfo.environment["HELLOTUNE_UPDATE_GOLDEN"] == "1"
    guard !update, let expected = try? String(contentsOf: url, encoding: .utf8) else {
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try? actual.write(to: url, atomically: true, encoding: .utf8)
        if !update { XCTFail("golden \(name).txt did not exist; written, check it and rerun", file: file, line: line) }
        return
    }
    guard actual != expected else { return }
    let a = actual.components(separatedBy: "\n")
    let e = expected.components(separatedBy: "\n")
    var diff: [String] = []
    for i in 0..<max(a.count, e.count) where (i < a.count ? a[i] : nil) != (i < e.count ? e[i] : nil) {
        diff.append("line \(i + 1):\n  expected: \(i < e.count ? e[i] : "<none>")\n  actual:   \(i < a.count ? a[i] : "<none>")")
    }
    XCTFail("screen differs from Golden/\(name).txt (HELLOTUNE_UPDATE_GOLDEN=1 rewrites it):\n" + diff.prefix(8).joined(separator: "\n")
            + "\nfull screen:\n" + actual, file: file, line: line)
}

/// The rows of a buffer in which `text` occurs, with its column.
func locate(_ buf: ScreenBuffer, _ text: String, after column: Int = 0) -> (x: Int, y: Int)? {
    for y in 0..<buf.size.height {
        if let x = buf.find(text, row: y), x >= column { return (x, y) }
    }
    return nil
}
