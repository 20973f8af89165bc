import Foundation
import Experiment

func clampSample(_ state: inout AppState) {
    let n = state.results.visibleSamples.count
    state.results.selectedSample = max(0, min(state.results.selectedSample, n - 1))
}

func resultsKey(_ state: inout AppState, _ key: Key) -> [Effect] {
    switch key {
    case .up, .char("k"):
        state.results.selectedSample = max(0, state.results.selectedSample - 1)
    case .down, .char("j"):
        state.results.selectedSample += 1
        clampSample(&state)
    case .pageUp:
        state.results.selectedSample = max(0, state.results.selectedSample - 10)
    case .pageDown:
        state.results.selectedSample += 10
        clampSample(&state)
    case .home, .char("g"):
        state.results.selectedSample = 0
    case .end, .char("G"):
        state.results.selectedSample = Int.max / 2
        clampSample(&state)
    case .char("/"):
        state.results.filtering = true
    case .char("c"):
        guard let summary = state.results.current?.summary else { return [] }
        var names: [String] = []
        for s in summary.samples where !names.contains(s.condition) { names.append(s.condition) }
        let options: [String?] = [nil] + names.map { Optional($0) }
        let i = options.firstIndex(of: state.results.conditionFilter) ?? 0
        state.results.conditionFilter = options[(i + 1) % options.count]
        state.results.selectedSample = 0
    case .char("s"):
        let all = ScoreFilter.allCases
        state.results.scoreFilter = all[(all.firstIndex(of: state.results.scoreFilter)! + 1) % all.count]
        state.results.selectedSample = 0
    case .char("]"):
        guard !state.results.entries.isEmpty else { return [] }
        state.results.runIndex = (state.results.runIndex + 1) % state.results.entries.count
        state.results.selectedSample = 0
        state.results.conditionFilter = nil
    case .char("["):
        guard !state.results.entries.isEmpty else { return [] }
        let n = state.results.entries.count
        state.results.runIndex = (state.results.runIndex + n - 1) % n
        state.results.selectedSample = 0
        state.results.conditionFilter = nil
    case .char("R"), .ctrl("r"):
        return [.loadResults]
    case .escape:
        if !state.results.filter.text.isEmpty || state.results.conditionFilter != nil || state.results.scoreFilter != .all {
            state.results.filter.set("")
            state.results.conditionFilter = nil
            state.results.scoreFilter = .all
            return []
        }
        return switchScreen(&state, .to(state.previousScreen))
    default:
        break
    }
    return []
}
