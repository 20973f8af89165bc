import Experiment
import Support

/// A key press, decoded from curses (or made by a test).
public enum Key: Equatable, Hashable, Sendable {
    case char(Character)
    case enter, tab, backTab, escape, backspace, delete
    case up, down, left, right, home, end, pageUp, pageDown
    /// Ctrl plus a letter, lower-case ("c" for Ctrl-C).
    case ctrl(Character)
    case function(Int)
    case unknown(Int)
}

/// What changed in a playground pane.
public enum ReplyUpdate: Equatable, Sendable {
    case status(String)
    case token(String)
    case finished(tokens: Int, tokensPerSecond: Double, reason: String)
    case failed(String)
}

/// Everything that can change the state: keys, terminal resizes, the clock, and engine events.
public enum Msg: Equatable, Sendable {
    case key(Key)
    case resize(Size)
    /// About 10 per second: animations and the status line's timeout.
    case tick
    /// Every couple of seconds: refresh what is on screen (jobs).
    case poll
    case reply(request: Int, pane: Int, ReplyUpdate)
    case jobsLoaded([JobSummary])
    case jobsFailed(String)
    case jobEventsLoaded(jobID: String, [JobEvent])
    case jobActionFinished(message: String, isError: Bool)
    case resultsLoaded([ResultsEntry])
    case resultsFailed(String)
    /// A label was stored (nil: cleared).
    case labelSaved(experimentID: Int64, sampleID: Int64, category: String?)
    case launchFinished(LaunchOutcome)
    case launchFailed(String)
    case themeChanged(name: String)
    case themeFailed(String)
    case status(String, StatusKind)
}

/// Work `update` asks the runtime to do; results come back as `Msg`s.
public enum Effect: Equatable, Sendable {
    case quit
    case startExperiment(ExperimentSettings)
    case generate(ReplyRequest)
    /// Stop the replies in flight (both panes).
    case cancelReplies
    case loadJobs
    case loadJobEvents(String)
    case cancelJob(String)
    case resumeJob(String)
    case loadResults
    /// Store a researcher's category for a self-report (nil clears it).
    case labelSample(experimentID: Int64, sampleID: Int64, category: String?)
    case copyToClipboard(String)
    case setTheme(String)
}

public enum StatusKind: Equatable, Sendable {
    case info, warning, error
}
