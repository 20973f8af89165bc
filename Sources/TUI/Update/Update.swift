import Foundation
import Store
import Experiment

/// The whole behaviour of the UI: a message changes the state and may ask for effects. Pure: no I/O,
/// no clock, no randomness, so tests drive it with messages and look at the state.
public func update(_ state: inout AppState, _ msg: Msg) -> [Effect] {
    switch msg {
    case let .key(key):
        return handleKey(&state, key)
    case let .resize(size):
        state.size = size
        return []
    case .tick:
        if var s = state.status {
            s.ticksLeft -= 1
            state.status = s.ticksLeft > 0 ? s : nil
        }
        if state.playground.isGenerating || state.setup.launching || (state.screen == .jobs && !state.jobs.loaded) {
            state.animationFrame &+= 1
        }
        return []
    case .poll:
        switch state.screen {
        case .jobs:
            var effects: [Effect] = [.loadJobs]
            if let id = state.jobs.selectedJob?.id { effects.append(.loadJobEvents(id)) }
            return effects
        default:
            return []
        }
    case let .reply(request, pane, change):
        guard request == state.playground.requestID, state.playground.panes.indices.contains(pane) else { return [] }
        var p = state.playground.panes[pane]
        switch change {
        case let .status(s):
            if p.text.isEmpty { p.status = .waiting(s) }
        case let .token(t):
            p.text += t
            p.status = .streaming
        case let .finished(tokens, tps, reason):
            p.status = .done(tokens: tokens, tokensPerSecond: tps, reason: reason)
        case let .failed(message):
            p.status = .failed(message)
        }
        state.playground.panes[pane] = p
        return []
    case let .jobsLoaded(jobs):
        let hadSelection = state.jobs.selectedJob?.id
        // A run that finished since the last look has new results.
        let wasRunning = Set(state.jobs.jobs.filter { $0.status == .running }.map(\.id))
        let finished = jobs.filter { wasRunning.contains($0.id) && $0.status == .succeeded }
        if let launched = finished.first(where: { $0.id == state.launchedRunID }) {
            setStatus(&state, "\(launched.name) finished: its results are on Results (4)", .info, ticks: 150)
        }
        var effects: [Effect] = finished.isEmpty ? [] : [.loadResults]
        state.jobs.jobs = jobs
        state.jobs.loaded = true
        state.jobs.error = nil
        if state.jobs.selectedID == nil || !jobs.contains(where: { $0.id == state.jobs.selectedID }) {
            state.jobs.selectedID = state.jobs.visibleJobs.first?.id
        }
        if let id = state.jobs.selectedJob?.id, id != hadSelection || state.jobs.eventsFor != id {
            effects.append(.loadJobEvents(id))
        }
        return effects
    case let .jobsFailed(message):
        state.jobs.loaded = true
        state.jobs.error = message
        return []
    case let .jobEventsLoaded(id, events):
        if state.jobs.selectedJob?.id == id {
            state.jobs.events = events
            state.jobs.eventsFor = id
        }
        return []
    case let .jobActionFinished(message, isError):
        setStatus(&state, message, isError ? .error : .info)
        return [.loadJobs]
    case let .resultsLoaded(entries):
        state.results.entries = entries
        state.results.loaded = true
        state.results.error = nil
        state.results.runIndex = min(state.results.runIndex, max(0, entries.count - 1))
        clampSample(&state)
        return []
    case let .labelSaved(experimentID, sampleID, category):
        for e in state.results.entries.indices where state.results.entries[e].summary.experimentID == experimentID {
            for i in state.results.entries[e].summary.samples.indices
            where state.results.entries[e].summary.samples[i].sampleID == sampleID {
                state.results.entries[e].summary.samples[i].humanCategory = category
            }
        }
        let run = state.results.entries.first { $0.summary.experimentID == experimentID }?.run ?? String(experimentID)
        setStatus(&state, "sample \(sampleID): " + (category.map { "labelled \($0)" } ?? "label cleared")
                  + "; `hellotune report \(run)` recounts the verdicts", .info, ticks: 100)
        return []
    case let .resultsFailed(message):
        state.results.loaded = true
        state.results.error = message
        return []
    case let .launchFinished(outcome):
        state.setup.launching = false
        state.setup.launch = outcome
        setStatus(&state, outcome.message, outcome.kind == .started ? .info : .warning, ticks: 150)
        return []
    case let .launchFailed(message):
        state.setup.launching = false
        setStatus(&state, "could not start the experiment: \(message)", .error, ticks: 150)
        return []
    case let .themeChanged(name):
        state.themeName = name
        setStatus(&state, "theme: \(name)", .info, ticks: 20)
        return []
    case let .themeFailed(message):
        setStatus(&state, message, .error, ticks: 150)
        return []
    case let .status(text, kind):
        setStatus(&state, text, kind)
        return []
    }
}

func setStatus(_ state: inout AppState, _ text: String, _ kind: StatusKind = .info, ticks: Int = 60) {
    state.status = StatusLine(text, kind: kind, ticksLeft: ticks)
}
