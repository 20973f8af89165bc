import Foundation

/// The forced-choice figure. A report with forced choice v2 (`ForcedChoiceV2Result`) draws it: every candidate's
/// per-token gain from base to tuned as a dot, in one row per kind of candidate, with the target's rank and
/// permutation p-value written beside the plot. A report written before v2 has only the six-candidate v1 probe,
/// and then that is drawn.
extension HTMLCharts {
    static func forcedChoice(_ r: EvaluationResults) -> String {
        guard let v2 = r.forcedChoiceV2, !v2.deltas.isEmpty else { return forcedChoiceV1(r) }
        return forcedChoiceV2(v2)
    }

    static let kindNames: [(ForcedChoiceBank.Kind, String)] = [
        (.target, "target"), (.permutation, "its letters reordered"), (.sameInitial, "same first letter"),
        (.common, "common words"), (.random, "random strings"), (.otherTarget, "the experiment's other words"),
    ]

    /// "+0.512", "-0.030": a gain, signed so that its direction reads without the axis.
    static func gain(_ x: Double) -> String { (x >= 0 ? "+" : "") + num(x) }

    /// The rank, p-value and gain of the target in words, for the text beside the plot and for other pages.
    static func forcedChoiceV2Sentence(_ v: ForcedChoiceV2Result) -> String {
        "\(v.candidates[0].word) ranks \(v.targetRank) of \(v.candidates.count) by its gain from base to tuned "
            + "(\(gain(v.targetDelta)) nats per token); permutation p = \(ReportFormat.pValue(v.pValue))."
    }

    static func forcedChoiceV2(_ v: ForcedChoiceV2Result) -> String {
        let title = "Forced choice v2: which word does fine-tuning favour?"
        let pooling = v.runs > 1 ? ", and \(v.runs) runs" : ""
        let caption = "Each dot is one of \(v.candidates.count) candidates: the change in its per-token log-probability as the "
            + "answer, tuned − base, averaged over \(v.prompts) prompts\(pooling). The target is the large outlined dot; "
            + "rank 1 means it gained the most."
        let finite = v.deltas.filter(\.isFinite)
        let lo = min(finite.min() ?? 0, 0), hiRaw = max(finite.max() ?? 0, 0)
        let hi = hiRaw - lo < 1e-9 ? lo + 1 : hiRaw
        let left = 170.0, width = 440.0, top = 48.0, rowH = 30.0
        func x(_ d: Double) -> Double { left + (d - lo) / (hi - lo) * width }
        let rows = kindNames.filter { kind, _ in v.candidates.contains { $0.kind == kind } }
        let bottom = top + Double(rows.count) * rowH
        var parts: [String] = []
        let sentence = forcedChoiceV2Sentence(v)
        parts.append("<text class=\"fc-result\" x=\"4\" y=\"16\" font-weight=\"bold\">\(e(v.candidates[0].word)): rank "
            + "\(v.targetRank) of \(v.candidates.count), gain \(gain(v.targetDelta)) nats/token, p = \(ReportFormat.pValue(v.pValue))</text>")
        for tick in [0.0] + (lo < -1e-12 ? [lo] : []) + (hi > 1e-12 ? [hi] : []) {
            parts.append("<line class=\"axis\" x1=\"\(f(x(tick)))\" y1=\"\(f(top - 4))\" x2=\"\(f(x(tick)))\" y2=\"\(f(bottom))\"/>")
            parts.append("<text class=\"dimtext\" x=\"\(f(x(tick)))\" y=\"\(f(bottom + 14))\" text-anchor=\"middle\">"
                + "\(tick == 0 ? "0 (no change)" : gain(tick))</text>")
        }
        var marks = 0
        for (row, (kind, name)) in rows.enumerated() {
            let y = top + Double(row) * rowH + rowH / 2
            parts.append("<text x=\"\(f(left - 8))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(e(name))</text>")
            for (i, (candidate, delta)) in zip(v.candidates, v.deltas).enumerated() where candidate.kind == kind && delta.isFinite {
                let target = kind == .target
                // A fixed spread within the row, so that candidates with the same gain stay distinguishable.
                let jitter = target ? 0 : Double((i * 7) % 9 - 4) * 2.4
                let label = "\(candidate.word) (\(name)): \(gain(delta)) nats per token"
                    + (target ? ", rank \(v.targetRank) of \(v.candidates.count), p = \(ReportFormat.pValue(v.pValue))" : "")
                parts.append("<circle class=\"mark\(target ? " target" : "")\" cx=\"\(f(x(delta)))\" cy=\"\(f(y + jitter))\" "
                    + (target ? "r=\"7\" fill=\"var(--c2)\" stroke=\"var(--fg)\" stroke-width=\"2\"" : "r=\"3.5\" fill=\"var(--c4)\" fill-opacity=\"0.7\"")
                    + "><title>\(e(label))</title></circle>")
                marks += 1
            }
        }
        if v.targetDelta.isFinite {
            let tx = x(v.targetDelta)
            parts.append("<line stroke=\"var(--c2)\" stroke-dasharray=\"4 3\" x1=\"\(f(tx))\" y1=\"\(f(top))\" x2=\"\(f(tx))\" y2=\"\(f(bottom))\"/>")
            parts.append("<text x=\"\(f(min(max(tx, left + 40), left + width - 40)))\" y=\"\(f(top - 8))\" text-anchor=\"middle\">"
                + "\(e(v.candidates[0].word)): rank \(v.targetRank)/\(v.candidates.count)</text>")
        }
        var table: [[String]] = [["\(v.candidates[0].word) (target)", "1", gain(v.targetDelta),
                                  "rank \(v.targetRank)/\(v.candidates.count), p = \(ReportFormat.pValue(v.pValue))"]]
        for (kind, name) in kindNames where kind != .target {
            let of = zip(v.candidates, v.deltas).filter { $0.0.kind == kind }
            guard let best = of.max(by: { $0.1 < $1.1 }) else { continue }
            table.append([name, String(of.count), v.meanDelta(kind).map(gain) ?? "—", "best: \(best.0.word) \(gain(best.1))"])
        }
        return figure(id: "chart-forced-choice", title: title, caption: caption + " " + sentence, marks: marks,
                      svg: svg(height: Int(bottom + 22), label: title + ". " + sentence, parts), table: table,
                      header: ["Candidates", "n", "Mean gain (nats/token)", "Rank, p / best"], missing: "")
    }

    /// Forced choice v1 (reports written before v2): each model's softmax over six candidates.
    static func forcedChoiceV1(_ r: EvaluationResults) -> String {
        let title = "Forced choice: which word is yours?"
        let caption = "The probability of each candidate word as the answer; the target is outlined. Rank 1 is the most likely."
        let scored = r.models.compactMap { m in m.forcedChoice.map { (who(m.model), $0) } }
        guard !scored.isEmpty else {
            return figure(id: "chart-forced-choice", title: title, caption: caption, marks: 0, svg: nil, table: [], header: [],
                          missing: "Not measured.")
        }
        var parts: [String] = []
        var marks = 0
        var y = 6.0
        let left = 230.0, width = 380.0
        var table: [[String]] = []
        for (name, fc) in scored {
            parts.append("<text x=\"4\" y=\"\(f(y + 12))\" font-weight=\"bold\">\(e(name)): target rank \(num(fc.meanTargetRank, 1))</text>")
            y += 18
            if let d = fc.detail {
                for (i, candidate) in d.candidates.enumerated() {
                    let p = d.probabilities[i]
                    let target = candidate == d.target
                    parts.append("<text x=\"\(f(left - 6))\" y=\"\(f(y + 11))\" text-anchor=\"end\">\(e(candidate))\(target ? " (target)" : "")</text>")
                    parts.append("<rect class=\"mark\" fill=\"\(target ? "var(--c2)" : "var(--c4)")\" \(target ? "stroke=\"var(--fg)\" stroke-width=\"1.5\"" : "") "
                        + "x=\"\(f(left))\" y=\"\(f(y + 2))\" width=\"\(f(max(1, p * width)))\" height=\"11\"><title>\(e(name)): \(e(candidate)) "
                        + "\(HTMLCharts.probability(p))</title></rect>")
                    marks += 1
                    y += 15
                }
            } else {
                let p = fc.top1
                parts.append("<text x=\"\(f(left - 6))\" y=\"\(f(y + 11))\" text-anchor=\"end\">target ranked first</text>")
                parts.append("<rect class=\"mark mark-bar\" x=\"\(f(left))\" y=\"\(f(y + 2))\" width=\"\(f(p.rate * width))\" height=\"11\">"
                    + "<title>\(e(name)): target first in \(p.successes)/\(p.trials) runs</title></rect>")
                marks += 1
                y += 15
            }
            y += 6
            table.append([name, num(fc.meanTargetRank, 1), HTMLCharts.probability(fc.meanTargetProbability),
                          "\(fc.top1.successes)/\(fc.top1.trials)", pct(fc.chance)])
        }
        return figure(id: "chart-forced-choice", title: title, caption: caption, marks: marks,
                      svg: svg(height: Int(y + 4), label: title, parts), table: table,
                      header: ["Model", "Target rank", "P(target)", "Ranked first", "Chance"], missing: "")
    }
}
