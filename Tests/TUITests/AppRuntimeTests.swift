import Foundation
import TUI
import XCTest
import Experiment
import Store
import ModelCore

/// A terminal that takes keys from a queue and remembers what was drawn.
final class FakeTerminal: TerminalDriver, @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [Msg] = []
    private(set) var draws = 0
    private(set) var copied: [String] = []
    private(set) var themes: [String] = []
    var size: Size

    init(size: Size = Size(width: 80, height: 24)) { self.size = size }

    func push(_ msg: Msg) {
        condition.lock()
        queue.append(msg)
        condition.signal()
        condition.unlock()
    }

    func readInput(timeoutMs: Int) -> Msg? {
        condition.lock()
        defer { condition.unlock() }
        if queue.isEmpty, timeoutMs > 0 { _ = condition.wait(until: Date().addingTimeInterval(Double(timeoutMs) / 1000)) }
        return queue.isEmpty ? nil : queue.removeFirst()
    }

    func draw(_ buffer: ScreenBuffer) {
        condition.lock()
        draws += 1
        condition.unlock()
    }

    func setTheme(_ theme: Theme) {
        condition.lock()
        themes.append(theme.name)
        condition.unlock()
    }

    func copyToClipboard(_ text: String) {
        condition.lock()
        copied.append(text)
        condition.unlock()
    }
}

/// Tokens as fast as a (very fast) model: one per millisecond, until cancelled or `limit`.
struct FakeReplies: ReplyGenerator {
    var interval: UInt64 = 1_000_000
    var limit = 1_000_000
    var text = "token "

    func stream(_ request: ReplyRequest) -> AsyncThrowingStream<ReplyEvent, Error> {
        AsyncThrowingStream { continuation in
            let task = Task.detached {
                var n = 0
                while !Task.isCancelled, n < limit {
                    continuation.yield(.token(n % 20 == 19 ? "\n" : text))
                    n += 1
                    try? await Task.sleep(nanoseconds: interval)
                }
                continuation.yield(.finished(tokens: n, tokensPerSecond: 1000, reason: "length"))
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

struct NoJobs: JobSource {
    func listJobs() async throws -> [JobSummary] { [] }
    func events(of jobID: String) async throws -> [JobEvent] { [] }
    func cancel(_ jobID: String) async throws -> String { "" }
    func resume(_ jobID: String) async throws -> String { "" }
}

struct NoResults: ResultsSource {
    func loadResults() async throws -> [ResultsEntry] { [] }
}

struct RecordingLauncher: ExperimentLauncher {
    func launch(_ settings: ExperimentSettings) async throws -> LaunchOutcome {
        LaunchOutcome(kind: .manual, message: "start it from the CLI: hellotune train --seed \(settings.seeds[0])")
    }
}

/// Frames seen by the runtime, readable from the test thread.
final class FrameLog: @unchecked Sendable {
    private let lock = NSLock()
    private var frames: [(Date, AppState)] = []
    func add(_ s: AppState) { lock.lock(); frames.append((Date(), s)); lock.unlock() }
    var last: AppState? { lock.lock(); defer { lock.unlock() }; return frames.last?.1 }
    var count: Int { lock.lock(); defer { lock.unlock() }; return frames.count }
    /// Waits until a frame satisfies `predicate`; returns when it was drawn.
    func wait(timeout: TimeInterval = 10, _ predicate: (AppState) -> Bool) async -> Date? {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if let hit = first(predicate) { return hit }
            try? await Task.sleep(nanoseconds: 200_000)
        }
        return nil
    }
    func clear() { lock.lock(); frames.removeAll(); lock.unlock() }
    private func first(_ predicate: (AppState) -> Bool) -> Date? {
        lock.lock()
        defer { lock.unlock() }
        return frames.first { predicate($0.1) }?.0
    }
}

final class AppRuntimeTests: XCTestCase {
    func makeApp(_ terminal: FakeTerminal, replies: ReplyGenerator = FakeReplies(), clipboard: URL? = nil,
                 frames: FrameLog) -> App {
        let services = AppServices(
            replies: replies, jobs: NoJobs(), results: NoResults(), launcher: RecordingLauncher(),
            loadTheme: { name in
                if let t = Theme.builtin(name) { return .success(t) }
                return .failure(ThemeLoadError("theme \(name): no such theme"))
            },
            clipboardFile: clipboard)
        let app = App(state: Fixtures.state(terminal.size), terminal: terminal, services: services)
        app.onFrame = { state, _ in frames.add(state) }
        return app
    }

    /// A key pressed while tokens stream in is handled, and its frame drawn, within 100 ms.
    func testKeypressDuringGenerationIsHandledWithin100ms() async throws {
        let terminal = FakeTerminal()
        let frames = FrameLog()
        let app = makeApp(terminal, frames: frames)
        let run = Task.detached { await app.run() }

        for k in [Key.char("3"), .enter, .char("H"), .char("i"), .enter] { terminal.push(.key(k)) }
        let streaming = await frames.wait { $0.playground.panes[1].text.count > 200 && $0.playground.panes[0].text.count > 200 }
        XCTAssertNotNil(streaming, "the fake stream should be producing tokens")

        // The prompt keeps the keyboard after sending: each key is the next prompt's next letter.
        var latencies: [Double] = []
        for i in 0..<10 {
            let framesBefore = frames.count
            let pressed = Date()
            terminal.push(.key(.char("x")))
            let shown = await frames.wait {
                $0.playground.prompt.text.count == i + 1 && $0.playground.isGenerating && $0.playground.panes[1].text.count > 200
            }
            let drawn = try XCTUnwrap(shown, "the key was never handled")
            latencies.append(drawn.timeIntervalSince(pressed))
            XCTAssertGreaterThan(frames.count, framesBefore)
            frames.clear()
            // Let more tokens arrive between presses.
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        // Each awaited frame also had `isGenerating`: the tokens were still streaming when the key was handled.
        let worst = latencies.max()!
        print("keypress-to-frame latency during generation: worst \(String(format: "%.1f", worst * 1000)) ms, "
              + "mean \(String(format: "%.1f", latencies.reduce(0, +) / Double(latencies.count) * 1000)) ms")
        XCTAssertLessThan(worst, 0.1, "a keypress during generation took \(worst * 1000) ms")

        terminal.push(.key(.escape))  // stop generating
        terminal.push(.key(.escape))  // leave the prompt
        terminal.push(.key(.char("q")))
        let final = await run.value
        XCTAssertTrue(final.shouldQuit)
    }

    func testEffectsReachTheServicesAndComeBackAsMessages() async throws {
        let terminal = FakeTerminal()
        let frames = FrameLog()
        let clipboard = FileManager.default.temporaryDirectory.appendingPathComponent("hellotune-clip-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: clipboard) }
        let app = makeApp(terminal, replies: FakeReplies(interval: 100_000, limit: 12, text: "Apples "), clipboard: clipboard,
                          frames: frames)
        let run = Task.detached { await app.run() }

        // Start: the launcher's outcome reaches the status line.
        terminal.push(.key(.char("s")))
        let launched = await frames.wait { $0.setup.launch != nil }
        XCTAssertEqual(launched.flatMap { _ in frames.last?.status?.text }, "start it from the CLI: hellotune train --seed 1")

        // Theme: t loads the next theme into the terminal.
        terminal.push(.key(.char("t")))
        _ = await frames.wait { $0.themeName == "light" }
        XCTAssertEqual(terminal.themes, ["light"])

        // Playground: both panes stream to the end; c copies to the terminal and the file.
        for k in [Key.char("3"), .enter, .char("x"), .enter] { terminal.push(.key(k)) }
        let done = await frames.wait {
            $0.playground.panes.allSatisfy { if case .done = $0.status { return true }; return false }
        }
        XCTAssertNotNil(done)
        let reply = try XCTUnwrap(frames.last?.playground.panes[1].text)
        XCTAssertTrue(reply.hasPrefix("Apples Apples"), reply)
        terminal.push(.key(.escape))  // leave the prompt for the screen's keys
        terminal.push(.key(.char("c")))
        _ = await frames.wait { $0.status?.text.hasPrefix("copied") == true }
        XCTAssertEqual(terminal.copied, [reply])
        XCTAssertEqual(try String(contentsOf: clipboard, encoding: .utf8), reply)

        // A resize from the terminal reaches the state.
        terminal.size = Size(width: 100, height: 30)
        terminal.push(.resize(terminal.size))
        _ = await frames.wait { $0.size == Size(width: 100, height: 30) }
        terminal.push(.key(.char("q")))
        let final = await run.value
        XCTAssertEqual(final.size, Size(width: 100, height: 30))
    }
}
