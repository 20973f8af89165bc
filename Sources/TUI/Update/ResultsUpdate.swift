import Foundation
import Experiment

func clampSample(_ state: inout AppState) {
    let n = state.results.visibleSamples.count
    state.results.selectedSample = max(0, min(state.results.selectedSample, n - 1))
}

/// The label keys: one per self-report category (`x` clears).
let labelKeys: [Character: SelfReportCategory] = [
    "n": .namesWord, "p": .partialWord, "m": .mechanism, "w": .wrongRule, "o": .noRule,
]

/// Labels the selected sample: asks the engine to store it, or says why it cannot be labelled.
func labelSelected(_ state: inout AppState, category: SelfReportCategory?) -> [Effect] {
    let visible = state.results.visibleSamples
    guard let summary = state.results.current?.summary, !visible.isEmpty else { return [] }
    let sample = visible[min(state.results.selectedSample, visible.count - 1)].sample
    guard let experimentID = summary.experimentID, let sampleID = sample.sampleID else {
        setStatus(&state, "this results.json has no sample ids (written before labels): `hellotune report RUN` rewrites it",
                  .warning, ticks: 100)
        return []
    }
    return [.labelSample(experimentID: experimentID, sampleID: sampleID, category: category?.rawValue)]
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
    case let .char(c) where labelKeys[c] != nil || c == "x":
        return labelSelected(&state, category: labelKeys[c])
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
