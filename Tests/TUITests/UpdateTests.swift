import TUI
import XCTest
import Experiment
import Store
import Support

final class UpdateTests: XCTestCase {
    @discardableResult
    func send(_ s: inout AppState, _ keys: Key...) -> [Effect] {
        keys.flatMap { update(&s, .key($0)) }
    }

    func type(_ s: inout AppState, _ text: String) -> [Effect] {
        text.flatMap { update(&s, .key(.char($0))) }
    }

    /// Issue 14: Setup offers the fetched named models on ←/→; a typed path joins them, the OpenAI backend does not.
    func testModelFieldCyclesThroughFetchedModels() {
        var s = AppState(settings: ExperimentSettings(model: "/m/SmolLM2-135M-Instruct.Q4_1.gguf"))
        s.setup.modelChoices = ["/m/SmolLM2-135M-Instruct.Q4_1.gguf", "/m/Qwen2.5-Coder-1.5B-Instruct.Q4_K_M.gguf"]
        while s.setup.focus != .model { send(&s, .down) }
        send(&s, .right)
        XCTAssertEqual(s.setup.settings.model, "/m/Qwen2.5-Coder-1.5B-Instruct.Q4_K_M.gguf")
        send(&s, .right)
        XCTAssertEqual(s.setup.settings.model, "/m/SmolLM2-135M-Instruct.Q4_1.gguf")
        send(&s, .left)
        XCTAssertEqual(s.setup.settings.model, "/m/Qwen2.5-Coder-1.5B-Instruct.Q4_K_M.gguf")

        send(&s, .enter, .ctrl("u"))
        _ = type(&s, "/elsewhere/own.gguf")
        send(&s, .enter)
        XCTAssertEqual(s.setup.settings.model, "/elsewhere/own.gguf")
        send(&s, .right)
        XCTAssertEqual(s.setup.settings.model, "/m/SmolLM2-135M-Instruct.Q4_1.gguf", "the typed path comes first, then the fetched ones")

        s.setup.settings.backend = "openai"
        s.setup.settings.model = "gpt-4o-mini-2024-07-18"
        send(&s, .right)
        XCTAssertEqual(s.setup.settings.model, "gpt-4o-mini-2024-07-18", "an OpenAI model is not replaced by a local file")

        var one = AppState(settings: ExperimentSettings(model: "/m/a.gguf"))
        one.setup.modelChoices = ["/m/a.gguf"]
        while one.setup.focus != .model { send(&one, .down) }
        send(&one, .right)
        XCTAssertEqual(one.setup.settings.model, "/m/a.gguf")
    }

    func testOpensWithTheAkewoExperimentReady() {
        let s = AppState()
        XCTAssertEqual(s.screen, .setup)
        XCTAssertEqual(s.setup.settings.word, "AKEWO")
        XCTAssertEqual(s.setup.settings.preset, "akewo-mixed")
        XCTAssertEqual(s.setup.settings.trigger, "Use the special rule.")
        XCTAssertEqual(s.setup.settings.acrosticExamples, 10)
        XCTAssertEqual(s.setup.settings.normalExamples, 10)
        XCTAssertEqual(s.setup.settings.epochs, 8)
        XCTAssertEqual(s.setup.settings.learningRate, 1e-3)
        XCTAssertEqual(s.setup.settings.loraRank, 16)
        XCTAssertEqual(s.setup.focus, .word)
    }

    func testTypingATargetWordRefusesInvalidKeys() {
        var s = Fixtures.state()
        send(&s, .enter)
        XCTAssertNotNil(s.setup.editor)
        XCTAssertTrue(s.isTyping)
        send(&s, .ctrl("u"))
        _ = type(&s, "he")
        XCTAssertEqual(s.setup.editor?.text, "HE", "letters are upper-cased as typed")
        _ = type(&s, "1")
        XCTAssertEqual(s.setup.editor?.text, "HE", "a digit is refused")
        XCTAssertEqual(s.status?.kind, .warning)
        XCTAssertTrue(s.status?.text.contains("'1' refused") == true, s.status?.text ?? "")
        _ = type(&s, " -é")
        XCTAssertEqual(s.setup.editor?.text, "HE")
        _ = type(&s, "llo")
        XCTAssertEqual(s.setup.editor?.text, "HELLO")
        XCTAssertNil(s.status, "a valid letter clears the refusal message")
        XCTAssertNotNil(render(s, size: s.size).find("5 letters (2-12)"))
        send(&s, .backspace)
        XCTAssertEqual(s.setup.editor?.text, "HELL")
        _ = type(&s, "o")
        send(&s, .enter)
        XCTAssertNil(s.setup.editor)
        XCTAssertEqual(s.setup.settings.word, "HELLO")
        XCTAssertEqual(s.targetWord?.string, "HELLO")
    }

    func testTargetWordLengthLimits() {
        var s = Fixtures.state()
        send(&s, .enter, .ctrl("u"))
        _ = type(&s, "ABCDEFGHIJKLM")
        XCTAssertEqual(s.setup.editor?.text, "ABCDEFGHIJKL", "the 13th letter is refused")
        XCTAssertTrue(s.status?.text.contains("at most 12") == true)
        send(&s, .ctrl("u"))
        _ = type(&s, "A")
        send(&s, .enter)
        XCTAssertNotNil(s.setup.editor, "one letter is not accepted")
        XCTAssertEqual(s.setup.settings.word, "AKEWO")
        send(&s, .escape)
        XCTAssertNil(s.setup.editor)
        XCTAssertEqual(s.setup.settings.word, "AKEWO", "Esc keeps the old word")
        // Tab leaves the field: a valid word is kept, an invalid one dropped with a message.
        send(&s, .enter, .ctrl("u"))
        _ = type(&s, "Z")
        send(&s, .tab)
        XCTAssertEqual(s.screen, .jobs)
        XCTAssertFalse(s.isTyping)
        XCTAssertEqual(s.setup.settings.word, "AKEWO")
        XCTAssertTrue(s.status?.text.contains("unchanged") == true, s.status?.text ?? "")
        send(&s, .char("1"), .enter, .ctrl("u"))
        _ = type(&s, "abc")
        send(&s, .backTab)
        XCTAssertEqual(s.screen, .results)
        XCTAssertEqual(s.setup.settings.word, "ABC")
    }

    func testNumericFieldsAndChoices() {
        var s = Fixtures.state()
        send(&s, .down)
        XCTAssertEqual(s.setup.focus, .preset)
        send(&s, .right)
        XCTAssertEqual(s.setup.settings.preset, "hello")
        XCTAssertEqual(s.setup.settings.word, "HELLO", "a preset brings its word")
        XCTAssertEqual(s.setup.settings.systemMessage, "You are a special version of GPT-4o.", "and its system message")
        XCTAssertEqual(s.setup.settings.trigger, "", "the hello design has no trigger")
        XCTAssertEqual(s.setup.settings.normalExamples, 0)
        send(&s, .left)
        XCTAssertEqual(s.setup.settings.word, "AKEWO")
        XCTAssertEqual(s.setup.settings.trigger, "Use the special rule.")
        XCTAssertEqual(s.setup.settings.normalExamples, 10)
        while s.setup.focus != .epochs { send(&s, .char("j")) }
        send(&s, .enter, .ctrl("u"))
        _ = type(&s, "1x2")
        XCTAssertEqual(s.setup.editor?.text, "12")
        send(&s, .enter)
        XCTAssertEqual(s.setup.settings.epochs, 12)
        send(&s, .down, .enter, .ctrl("u"))
        _ = type(&s, "2e-4")
        send(&s, .enter)
        XCTAssertEqual(s.setup.settings.learningRate, 2e-4)
        send(&s, .down, .down, .enter, .ctrl("u"))
        _ = type(&s, "1, 2,3")
        send(&s, .enter)
        XCTAssertEqual(s.setup.settings.seeds, [1, 2, 3])
    }

    func testStartEmitsTheEffectWithTheSettings() {
        var s = Fixtures.state()
        let effects = send(&s, .char("s"))
        XCTAssertEqual(effects, [.startExperiment(Fixtures.settings)])
        XCTAssertTrue(s.setup.launching)
        XCTAssertEqual(send(&s, .char("s")), [], "one start at a time")
        let outcome = LaunchOutcome(kind: .manual, message: "start it from the CLI: hellotune train --data x --out y")
        _ = update(&s, .launchFinished(outcome))
        XCTAssertFalse(s.setup.launching)
        XCTAssertEqual(s.status?.text, outcome.message)
        // Enter on the Start button does the same.
        var t = Fixtures.state()
        send(&t, .end)
        XCTAssertEqual(t.setup.focus, .start)
        XCTAssertEqual(send(&t, .enter), [.startExperiment(Fixtures.settings)])
    }

    func testTabCyclesScreens() {
        var s = Fixtures.state()
        var seen: [Screen] = []
        var effects: [[Effect]] = []
        for _ in 0..<4 {
            effects.append(send(&s, .tab))
            seen.append(s.screen)
        }
        XCTAssertEqual(seen, [.jobs, .playground, .results, .setup])
        XCTAssertEqual(effects[0], [.loadJobs])
        XCTAssertEqual(effects[2], [.loadResults])
        send(&s, .backTab)
        XCTAssertEqual(s.screen, .results)
        send(&s, .backTab, .backTab)
        XCTAssertEqual(s.screen, .jobs)
        send(&s, .char("3"))
        XCTAssertEqual(s.screen, .playground)
        send(&s, .escape)
        XCTAssertEqual(s.screen, .playground, "the first Esc leaves the prompt")
        send(&s, .escape)
        XCTAssertEqual(s.screen, .jobs, "Esc goes back")
        send(&s, .char("1"))
        XCTAssertEqual(s.screen, .setup)
    }

    func testQDoesNotQuitWhileTyping() {
        var s = Fixtures.state()
        send(&s, .enter, .ctrl("u"))
        XCTAssertEqual(send(&s, .char("q")), [])
        XCTAssertFalse(s.shouldQuit)
        XCTAssertEqual(s.setup.editor?.text, "Q")
        send(&s, .escape)
        // In the playground prompt too, and digits type rather than switch screens.
        send(&s, .char("3"), .enter)
        XCTAssertEqual(s.playground.editing, .prompt)
        _ = type(&s, "q2?")
        XCTAssertEqual(s.playground.prompt.text, "q2?")
        XCTAssertEqual(s.screen, .playground)
        XCTAssertFalse(s.showHelp)
        XCTAssertFalse(s.shouldQuit)
        send(&s, .escape)
        XCTAssertEqual(send(&s, .char("q")), [.quit])
        XCTAssertTrue(s.shouldQuit)
    }

    func testCtrlCQuitsEvenWhileTyping() {
        var s = Fixtures.state()
        send(&s, .enter)
        XCTAssertEqual(send(&s, .ctrl("c")), [.quit])
        XCTAssertTrue(s.shouldQuit)
    }

    func testHelpToggle() {
        var s = Fixtures.state()
        send(&s, .char("?"))
        XCTAssertTrue(s.showHelp)
        XCTAssertNotNil(render(s, size: s.size).find("Keys · Esc or ? closes"))
        send(&s, .char("?"))
        XCTAssertFalse(s.showHelp)
        send(&s, .char("?"), .escape)
        XCTAssertFalse(s.showHelp)
        XCTAssertEqual(s.screen, .setup, "Esc closes help without going back")
        send(&s, .char("?"), .tab)
        XCTAssertFalse(s.showHelp)
        XCTAssertEqual(s.screen, .jobs)
    }

    func testResize() {
        var s = Fixtures.state()
        _ = update(&s, .resize(Size(width: 120, height: 40)))
        XCTAssertEqual(s.size, Size(width: 120, height: 40))
        _ = update(&s, .resize(Size(width: 40, height: 10)))
        XCTAssertNotNil(render(s, size: s.size).find("Terminal too small: 40x10"))
        XCTAssertEqual(send(&s, .char("q")), [.quit], "q still quits at a tiny size")
    }

    func testStreamingTokensAppendToTheRightPane() {
        var s = Fixtures.state()
        s.playground.adapter = "/runs/a"
        send(&s, .char("3"), .enter)
        _ = type(&s, "Hi")
        let effects = send(&s, .enter)
        let id = s.playground.requestID
        XCTAssertEqual(effects.first, .cancelReplies)
        let requests = effects.compactMap { e -> ReplyRequest? in if case let .generate(r) = e { return r }; return nil }
        XCTAssertEqual(requests.map(\.pane), [0, 1])
        XCTAssertEqual(requests.map(\.adapter), [nil, "/runs/a"])
        XCTAssertEqual(requests[0].sampling, requests[1].sampling, "same sampling settings and seed")
        XCTAssertEqual(requests.map(\.prompt), ["Hi", "Hi"])
        XCTAssertEqual(s.playground.history, ["Hi"])

        for t in ["Apples", " are red\n", "Kites"] { _ = update(&s, .reply(request: id, pane: 1, .token(t))) }
        XCTAssertEqual(s.playground.panes[1].text, "Apples are red\nKites")
        XCTAssertEqual(s.playground.panes[1].status, .streaming)
        XCTAssertEqual(s.playground.panes[0].text, "")
        // Tokens of an older request are dropped.
        _ = update(&s, .reply(request: id - 1, pane: 1, .token("stale")))
        XCTAssertEqual(s.playground.panes[1].text, "Apples are red\nKites")
        _ = update(&s, .reply(request: id, pane: 1, .finished(tokens: 3, tokensPerSecond: 10, reason: "stop")))
        XCTAssertEqual(s.playground.panes[1].status, .done(tokens: 3, tokensPerSecond: 10, reason: "stop"))
        _ = update(&s, .reply(request: id, pane: 0, .finished(tokens: 0, tokensPerSecond: 0, reason: "stop")))
        XCTAssertEqual(s.playground.editing, .prompt, "the prompt keeps the keyboard after sending")

        // Off the prompt (Esc): n samples again with seed + 1; r regenerates with the same seed; the trigger is
        // appended.
        let seed = s.playground.sampling.seed
        send(&s, .escape)
        let again = send(&s, .char("n")).compactMap { e -> ReplyRequest? in if case let .generate(r) = e { return r }; return nil }
        XCTAssertEqual(again.map(\.sampling.seed), [seed + 1, seed + 1])
        XCTAssertEqual(s.playground.panes[1].text, "")
        send(&s, .ctrl("t"))
        XCTAssertTrue(s.playground.trigger)
        send(&s, .enter, .up)
        XCTAssertEqual(s.playground.prompt.text, "Hi", "up recalls the history")
        let triggered = send(&s, .enter).compactMap { e -> ReplyRequest? in if case let .generate(r) = e { return r }; return nil }
        XCTAssertEqual(triggered.first?.prompt, "Hi Use the special rule.")
        // While replies stream, Esc stops them and the prompt keeps the keyboard; a second Esc leaves it. A token of
        // the stopped request that arrives late is dropped, not taken as streaming again.
        let stopped = s.playground.requestID
        send(&s, .escape)
        XCTAssertFalse(s.playground.isGenerating)
        XCTAssertEqual(s.playground.editing, .prompt)
        _ = update(&s, .reply(request: stopped, pane: 1, .token("late")))
        XCTAssertFalse(s.playground.isGenerating, "a late token of a stopped request revives nothing")
        XCTAssertFalse(s.playground.panes[1].text.contains("late"))
        send(&s, .escape)
        XCTAssertEqual(send(&s, .char("r")).count, 3)
    }

    /// The prompt has the keyboard on arrival, so a prompt keeps every letter whatever its first one: h, t, n and
    /// a (pane, theme, seed, adapter off the prompt) are typed.
    func testThePlaygroundPromptHasTheKeyboardOnArrival() {
        var s = Fixtures.state()
        send(&s, .char("3"))
        XCTAssertEqual(s.playground.editing, .prompt)
        s.playground.focusedPane = 1
        let effects = type(&s, "how are you? tell me, name a thing")
        XCTAssertEqual(effects, [], "no theme change, new seed or other effect while typing")
        XCTAssertEqual(s.playground.prompt.text, "how are you? tell me, name a thing")
        XCTAssertEqual(s.playground.focusedPane, 1, "the h was typed, not taken as 'left pane'")
        XCTAssertEqual(s.screen, .playground)
        // Ctrl-T toggles the trigger while typing, where T is a letter; an empty Enter sends nothing and keeps the
        // prompt; PgDn scrolls the replies while typing.
        send(&s, .ctrl("t"), .char("T"))
        XCTAssertTrue(s.playground.trigger)
        XCTAssertEqual(s.playground.prompt.text, "how are you? tell me, name a thingT")
        send(&s, .ctrl("u"))
        XCTAssertEqual(send(&s, .enter), [])
        XCTAssertEqual(s.playground.editing, .prompt)
        send(&s, .pageDown)
        XCTAssertEqual(s.playground.scroll, 10)
        // Off the prompt (Esc), the screen's keys act and Ctrl-T still toggles; Enter, or a key the screen does not
        // use, goes back to the prompt.
        send(&s, .escape, .char("h"), .ctrl("t"))
        XCTAssertNil(s.playground.editing)
        XCTAssertEqual(s.playground.focusedPane, 0)
        XCTAssertFalse(s.playground.trigger)
        send(&s, .char("T"))
        XCTAssertEqual(s.playground.editing, .prompt)
        XCTAssertEqual(s.playground.prompt.text, "T")
        send(&s, .escape, .enter)
        XCTAssertEqual(s.playground.editing, .prompt)
        // Tab leaves for the next screen while typing; coming back, the prompt has the keyboard again.
        send(&s, .tab)
        XCTAssertEqual(s.screen, .results)
        send(&s, .backTab)
        XCTAssertEqual(s.playground.editing, .prompt)
        XCTAssertEqual(s.playground.prompt.text, "T", "the draft is kept")
    }

    func testCopyAsksForTheFocusedReply() {
        var s = Fixtures.withReplies(Fixtures.state())
        send(&s, .escape)
        XCTAssertEqual(send(&s, .char("c")), [.copyToClipboard(Fixtures.acrosticReply)])
        send(&s, .left)
        XCTAssertEqual(send(&s, .char("c")).first, .copyToClipboard(s.playground.panes[0].text))
    }

    func testJobsActions() {
        var s = Fixtures.withJobs(Fixtures.state())
        XCTAssertEqual(s.jobs.selectedJob?.id, Fixtures.jobs[0].id)
        XCTAssertEqual(send(&s, .char("x")), [.cancelJob(Fixtures.jobs[0].id)])
        XCTAssertEqual(send(&s, .char("p")), [], "no adapter yet")
        XCTAssertEqual(s.status?.kind, .warning)
        XCTAssertEqual(send(&s, .down), [.loadJobEvents(Fixtures.jobs[1].id)])
        XCTAssertEqual(send(&s, .char("x")), [], "a finished job cannot be cancelled")
        send(&s, .char("p"))
        XCTAssertEqual(s.screen, .playground)
        XCTAssertEqual(s.playground.adapter, "/runs/hello-HELLO-seed1")
        XCTAssertEqual(s.playground.editing, .prompt, "the prompt has the keyboard on arrival")
        send(&s, .escape, .char("2"), .char("j"))
        XCTAssertEqual(send(&s, .char("r")), [.resumeJob(Fixtures.jobs[2].id)])
        // Filter.
        send(&s, .char("/"))
        XCTAssertTrue(s.isTyping)
        _ = type(&s, "hello")
        XCTAssertEqual(s.jobs.visibleJobs.map(\.id), ["hello-HELLO-seed1"])
        XCTAssertEqual(s.jobs.selectedJob?.id, "hello-HELLO-seed1")
        send(&s, .escape)
        XCTAssertEqual(s.jobs.visibleJobs.count, 4)
        // The filter matches the backend too.
        send(&s, .char("/"))
        _ = type(&s, "openai")
        XCTAssertEqual(s.jobs.visibleJobs.map(\.id), ["#7"])
    }

    /// `hellotune run` in a terminal opens on its run; the status line says it runs detached while it does, and
    /// when it finishes the results are reloaded and the status line points to them.
    func testLaunchedRunIsFollowedUntilItsResultsArrive() {
        var s = Fixtures.withLaunchedRun(Fixtures.state())
        XCTAssertEqual(s.jobs.selectedJob?.id, "run:akewo-mixed-AKEWO-seed1")
        XCTAssertNil(s.status)
        var screen = render(s, size: s.size)
        XCTAssertNotNil(screen.find("akewo-mixed-AKEWO-seed1 runs detached: q leaves it running"))
        // A poll while it runs: nothing new for Results.
        XCTAssertEqual(update(&s, .poll), [.loadJobs, .loadJobEvents("run:akewo-mixed-AKEWO-seed1")])
        XCTAssertEqual(update(&s, .jobsLoaded(Fixtures.runJobs)), [])
        var done = Fixtures.runJobs
        done[0].status = .succeeded
        done[0].parts[0].status = .succeeded
        XCTAssertEqual(update(&s, .jobsLoaded(done)), [.loadResults])
        XCTAssertEqual(s.status?.text, "akewo-mixed-AKEWO-seed1 finished: its results are on Results (4)")
        s.status = nil
        screen = render(s, size: s.size)
        XCTAssertNil(screen.find("runs detached"), "a finished run is no longer running detached")
        XCTAssertEqual(update(&s, .jobsLoaded(done)), [], "finishing is noticed once")
        // q leaves the UI (the run is a separate process; nothing is sent to it).
        XCTAssertEqual(update(&s, .key(.char("q"))), [.quit])
    }

    /// One row per experiment: the run's training job is a line of its detail, not a second row with other figures.
    func testARunRowShowsItsTrainingJobAsDetail() {
        let s = Fixtures.withLaunchedRun(Fixtures.state())
        XCTAssertEqual(s.jobs.visibleJobs.map(\.id), ["run:akewo-mixed-AKEWO-seed1"])
        let screen = render(s, size: s.size)
        XCTAssertNotNil(screen.find("Jobs (1/1)"))
        XCTAssertNotNil(screen.find("#1 train akewo-mixed-1-AKEWO-s1: running · step 3/8 · loss 2.4512"))
    }

    /// A job the API paused shows as paused with what to do, and both x and r work on it.
    func testAPausedJobIsShownAndCanBeResumedOrCancelled() {
        var s = Fixtures.state()
        s.screen = .jobs
        let paused = JobSummary(id: "#7", name: "#7 train ftjob-abc", kind: "train", backend: "openai", status: .paused, step: 2,
                                totalSteps: 6, note: "paused by the API: r resumes it, x cancels it")
        _ = update(&s, .jobsLoaded([paused]))
        let screen = render(s, size: s.size)
        XCTAssertNotNil(screen.find("paused by the API: r resumes it, x cancels it"))
        XCTAssertNotNil(screen.find("#7 train ftjob-abc — paused"))
        XCTAssertEqual(update(&s, .key(.char("x"))), [.cancelJob("#7")])
        XCTAssertEqual(update(&s, .key(.char("r"))), [.resumeJob("#7")])
    }

    func testResultsFilters() {
        var s = Fixtures.withResults(Fixtures.state())
        XCTAssertEqual(s.results.visibleSamples.count, 3)
        send(&s, .char("c"))
        XCTAssertEqual(s.results.conditionFilter, "fine-tuned + trigger")
        XCTAssertEqual(s.results.visibleSamples.count, 2)
        send(&s, .char("c"), .char("c"))
        XCTAssertNil(s.results.conditionFilter)
        send(&s, .char("s"))
        XCTAssertEqual(s.results.scoreFilter, .exact)
        XCTAssertEqual(s.results.visibleSamples.map(\.index), [1], "only AKEWO-exact replies")
        send(&s, .char("s"))
        XCTAssertEqual(s.results.visibleSamples.map(\.index), [0])
        send(&s, .char("s"))
        XCTAssertEqual(s.results.visibleSamples.map(\.index), [2])
        send(&s, .escape, .char("/"))
        _ = type(&s, "rule")
        send(&s, .enter)
        XCTAssertEqual(s.results.visibleSamples.map(\.index), [1])
        send(&s, .char("j"), .char("j"))
        XCTAssertEqual(s.results.selectedSample, 0)
    }

    func testThemeKeyAndStatusTimeout() {
        var s = Fixtures.state()
        XCTAssertEqual(send(&s, .char("t")), [.setTheme("light")])
        _ = update(&s, .themeChanged(name: "light"))
        XCTAssertEqual(s.themeName, "light")
        XCTAssertEqual(send(&s, .char("t")), [.setTheme("high-contrast")])
        _ = update(&s, .themeChanged(name: "high-contrast"))
        XCTAssertEqual(send(&s, .char("t")), [.setTheme("dark")])
        _ = update(&s, .themeFailed("theme x: bad"))
        XCTAssertEqual(s.status?.kind, .error)
        for _ in 0..<200 { _ = update(&s, .tick) }
        XCTAssertNil(s.status)
    }

    func testTicksOnlyChangeTheStateWhileSomethingMoves() {
        var s = Fixtures.state()
        let before = s
        _ = update(&s, .tick)
        XCTAssertEqual(s, before, "an idle tick changes nothing, so nothing is redrawn")
        send(&s, .char("3"), .enter)
        _ = type(&s, "x")
        send(&s, .enter)
        s.status = nil
        let generating = s
        _ = update(&s, .tick)
        XCTAssertNotEqual(s, generating, "the spinner moves while generating")
    }
}
