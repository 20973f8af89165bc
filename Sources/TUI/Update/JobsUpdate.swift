import Foundation
import Experiment

func jobsKey(_ state: inout AppState, _ key: Key) -> [Effect] {
    let visible = state.jobs.visibleJobs
    let index = state.jobs.selectedIndex
    func select(_ i: Int) -> [Effect] {
        guard !visible.isEmpty else { return [] }
        let j = max(0, min(visible.count - 1, i))
        guard visible[j].id != state.jobs.selectedID else { return [] }
        state.jobs.selectedID = visible[j].id
        state.jobs.events = []
        state.jobs.eventsFor = nil
        return [.loadJobEvents(visible[j].id)]
    }
    switch key {
    case .up, .char("k"): return select((index ?? 0) - 1)
    case .down, .char("j"): return select((index ?? -1) + 1)
    case .home, .char("g"): return select(0)
    case .end, .char("G"): return select(visible.count - 1)
    case .pageUp: return select((index ?? 0) - 10)
    case .pageDown: return select((index ?? 0) + 10)
    case .char("/"):
        state.jobs.filtering = true
        return []
    case .escape:
        if !state.jobs.filter.text.isEmpty { state.jobs.filter.set(""); return [] }
        return switchScreen(&state, .to(state.previousScreen))
    case .char("x"):
        guard let job = state.jobs.selectedJob else { return [] }
        guard job.status == .running || job.status == .paused else {
            setStatus(&state, "\(job.name) is \(statusLabel(job.status)), not running", .warning)
            return []
        }
        return [.cancelJob(job.id)]
    case .char("r"):
        guard let job = state.jobs.selectedJob else { return [] }
        guard job.status == .interrupted || job.status == .paused || job.status == .cancelled || job.status == .failed else {
            setStatus(&state, "\(job.name) is \(statusLabel(job.status)); only stopped or cancelled runs resume", .warning)
            return []
        }
        return [.resumeJob(job.id)]
    case .char("p"), .enter:
        guard let job = state.jobs.selectedJob else { return [] }
        guard let adapter = job.adapterPath else {
            setStatus(&state, "\(job.name) has no adapter yet (it is written when training finishes)", .warning)
            return []
        }
        state.playground.adapter = adapter
        state.playground.panes[1] = PaneState()
        setStatus(&state, "playground: fine-tuned pane uses \(job.name)", .info)
        return switchScreen(&state, .to(.playground))
    case .char("R"), .ctrl("r"):
        return [.loadJobs]
    default:
        return []
    }
}
