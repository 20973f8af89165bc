import Foundation
import Support

/// `hellotune compare` as plain text: runs as columns (A, B, ...) under a legend, one row per number, then the
/// rules of the verdicts and the differences that matter. No line is wider than `width`: cells wrap at word
/// boundaries inside their column, and runs that do not fit side by side go to a further block with the same rows.
/// Every text taken from a report passes the terminal sanitiser first, so widths are those of what is shown.
public enum ComparisonText {
    /// The narrowest column a run gets before runs wrap into another block.
    static let minimumColumn = 22
    static let widestColumn = 36
    static let gap = 2

    struct Row {
        var label: String
        var cells: [String]
        /// A heading has no cells: it is printed across the table.
        var heading: Bool { cells.isEmpty }
    }

    public static func render(_ c: RunComparison, width: Int = 100) -> String {
        let width = max(40, width)
        var out: [String] = []
        out.append("Runs compared:")
        for (i, run) in c.runs.enumerated() {
            out += wrap("run \(letter(i)): \(clean(run.name)) (\(clean(run.path)))", width: width, indent: 4)
        }
        out.append("")
        out += table(rows(c), runs: c.runs.count, width: width)
        out.append("")
        out += rules(c, width: width)
        out += differences(c, width: width)
        return out.joined(separator: "\n") + "\n"
    }

    /// "A", "B", ..., "Z", "AA", ...
    public static func letter(_ i: Int) -> String {
        i < 26 ? String(UnicodeScalar(UInt8(65 + i))) : letter(i / 26 - 1) + letter(i % 26)
    }

    static func clean(_ s: String) -> String {
        TerminalText.clean(s).replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\t", with: " ")
    }

    static func who(_ model: String) -> String { model == Evaluator.tunedName ? "fine-tuned" : clean(model) }

    /// "12/20 60.0% (38.7–78.1%)".
    static func rate(_ r: ComparedRate?) -> String {
        guard let r else { return "—" }
        return "\(r.successes)/\(r.trials) \(pct(r.rate)) (\(pct(r.low, sign: false))–\(pct(r.high)))"
    }

    static func pct(_ x: Double, sign: Bool = true) -> String { String(format: "%.1f", x * 100) + (sign ? "%" : "") }

    static func forcedChoice(_ f: ComparedRun.ForcedChoice?) -> String {
        guard let f else { return "—" }
        if f.version >= 2 {
            return "rank \(Int(f.rank))/\(f.candidates), p = \(f.pValue.map(ReportFormat.pValue) ?? "—")"
                + (f.targetGain.map { ", gain \(HTMLCharts.gain($0)) nats/token" } ?? "")
        }
        return "v1: mean rank \(ReportFormat.number(f.rank, digits: 1)) of \(f.candidates)"
    }

    static func validation(_ v: [ComparedRun.ValidationLoss]) -> String {
        guard !v.isEmpty else { return "not measured" }
        if v.count == 1 { return "\(ReportFormat.number(v[0].final, digits: 3)) after epoch \(v[0].epochs)" }
        return v.map { "\(clean($0.run)) \(ReportFormat.number($0.final, digits: 3))" }.joined(separator: ", ")
    }

    static func rows(_ c: RunComparison) -> [Row] {
        let runs = c.runs
        var rows: [Row] = [Row(label: "Experiment", cells: [])]
        rows.append(Row(label: "word", cells: runs.map { clean($0.words.joined(separator: ", ")) }))
        rows.append(Row(label: "model", cells: runs.map { clean($0.model) }))
        rows.append(Row(label: "backend", cells: runs.map { clean($0.backend) }))
        rows.append(Row(label: "seeds", cells: runs.map { $0.seeds.map(String.init).joined(separator: ", ") }))
        rows.append(Row(label: "experiment", cells: runs.map { $0.preset.map(clean) ?? "—" }))
        rows.append(Row(label: "date", cells: runs.map { clean($0.date) }))
        rows.append(Row(label: "Compliance: exact acrostic, k/n rate (95% CI)", cells: []))
        var conditions: [(String, Bool)] = []
        for r in runs { for x in r.compliance where !conditions.contains(where: { $0 == (x.model, x.trigger) }) { conditions.append((x.model, x.trigger)) } }
        for (model, trigger) in conditions {
            rows.append(Row(label: "\(who(model)), \(trigger ? "trigger" : "no trigger")",
                            cells: runs.map { rate($0.compliance(model: model, trigger: trigger)) }))
        }
        rows.append(Row(label: "Verdicts", cells: []))
        for id in c.verdictIDs {
            rows.append(Row(label: clean(id), cells: runs.map { r in
                r.verdict(id).map { clean($0.verdict + ($0.reason.map { " (\($0))" } ?? "")) } ?? "—"
            }))
        }
        rows.append(Row(label: "Reading control: read other words' acrostics", cells: []))
        var readers: [String] = []
        for r in runs { for x in r.readingControl where !readers.contains(x.model) { readers.append(x.model) } }
        if readers.isEmpty { rows.append(Row(label: "any model", cells: runs.map { _ in "not measured" })) }
        for model in readers { rows.append(Row(label: who(model), cells: runs.map { rate($0.reading(model: model)) })) }
        rows.append(Row(label: "Forced choice and training", cells: []))
        rows.append(Row(label: "forced choice", cells: runs.map { forcedChoice($0.forcedChoice) }))
        rows.append(Row(label: "validation loss", cells: runs.map { validation($0.validationLoss) }))
        return rows
    }

    /// The rows with runs as columns, in as many blocks as the width needs.
    static func table(_ rows: [Row], runs: Int, width: Int) -> [String] {
        let labelWidth = min(24, max(10, rows.filter { !$0.heading }.map(\.label.count).max() ?? 10))
        let perBlock = max(1, min(runs, (width - labelWidth) / (minimumColumn + gap)))
        var out: [String] = []
        for start in stride(from: 0, to: runs, by: perBlock) {
            let columns = Array(start..<min(runs, start + perBlock))
            let columnWidth = min(widestColumn, max(8, (width - labelWidth - gap * columns.count) / columns.count))
            if start > 0 { out.append("") }
            let header = pad("", labelWidth) + columns.map { String(repeating: " ", count: gap) + pad("run \(letter($0))", columnWidth) }.joined()
            out.append(trimmed(header))
            out.append(String(repeating: "-", count: labelWidth + columns.count * (gap + columnWidth)))
            for row in rows {
                if row.heading {
                    out += wrap(row.label, width: width, indent: 2)
                    continue
                }
                let label = wrap(row.label, width: labelWidth, indent: 1)
                let cells = columns.map { wrap(row.cells[$0], width: columnWidth, indent: 0) }
                let height = max(label.count, cells.map(\.count).max() ?? 1)
                for line in 0..<height {
                    var s = pad(line < label.count ? label[line] : "", labelWidth)
                    for cell in cells { s += String(repeating: " ", count: gap) + pad(line < cell.count ? cell[line] : "", columnWidth) }
                    out.append(trimmed(s))
                }
            }
        }
        return out
    }

    static func rules(_ c: RunComparison, width: Int) -> [String] {
        var out: [String] = []
        var printed: [(id: String, rule: String)] = []
        for id in c.verdictIDs {
            let rules = c.runs.map { $0.verdict(id)?.rule }
            let given = Set(rules.compactMap { $0 })
            if given.count == 1, let rule = given.first {
                // H2 and "H2 (acrostic replies)" share their rule: print it once.
                if let same = printed.first(where: { $0.rule == rule }) {
                    out += wrap("\(clean(id)) rule: the same as \(clean(same.id))'s", width: width, indent: 4)
                    continue
                }
                printed.append((id, rule))
                out += wrap("\(clean(id)) rule: \(clean(rule))", width: width, indent: 4)
            } else {
                for (i, rule) in rules.enumerated() {
                    guard let rule else { continue }
                    out += wrap("\(clean(id)) rule (run \(letter(i))): \(clean(rule))", width: width, indent: 4)
                }
            }
        }
        return out.isEmpty ? [] : out + [""]
    }

    static func differences(_ c: RunComparison, width: Int) -> [String] {
        let d = c.differences
        var out = ["Differences that matter:"]
        func values(_ v: [String?]) -> String {
            v.enumerated().map { "\(letter($0.offset)) \($0.element.map(clean) ?? "—")" }.joined(separator: " · ")
        }
        func item(_ s: String) { out += wrap("- " + s, width: width, indent: 4) }
        if d.settings.isEmpty {
            item("settings: the same in every run (dates aside)")
        } else {
            for s in d.settings { item("\(s.label): \(values(s.values))") }
        }
        if d.verdicts.isEmpty {
            item("verdicts: the same in every run")
        } else {
            for v in d.verdicts { item("verdict \(clean(v.id)): \(values(v.values))") }
        }
        for (name, pairs) in [("compliance", d.compliance), ("reading control", d.readingControl)] {
            if pairs.isEmpty { item("\(name): no two runs measured it for the same model"); continue }
            var groups: [[RunComparison.PairedRates]] = []
            for p in pairs {
                if let i = groups.firstIndex(where: { $0[0].model == p.model && $0[0].trigger == p.trigger }) { groups[i].append(p) } else { groups.append([p]) }
            }
            for group in groups {
                let what = group[0].trigger.map { "\(who(group[0].model)), \($0 ? "trigger" : "no trigger")" } ?? who(group[0].model)
                // With many runs, pairs that all overlap are one line; any pair that does not is listed with the rest.
                if group.count > 1, group.allSatisfy(\.overlap) {
                    let smallest = group.map(\.pValue).min() ?? 1
                    item("\(name) of \(what): every pair of runs overlaps (95% intervals; smallest Fisher "
                         + "\(ReportFormat.pPhrase(smallest)))")
                    continue
                }
                for p in group {
                    item("\(name) of \(what): runs \(letter(p.first)) and \(letter(p.second)) "
                         + (p.overlap ? "overlap" : "do NOT overlap") + " (95% intervals; Fisher \(ReportFormat.pPhrase(p.pValue)))")
                }
            }
        }
        if let f = d.forcedChoice {
            item("forced choice: " + f.values.enumerated().map { "\(letter($0.offset)) \(forcedChoice($0.element))" }.joined(separator: " · "))
        }
        return out
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

    static func trimmed(_ s: String) -> String {
        var s = s
        while s.last == " " { s.removeLast() }
        return s
    }

    /// `text` in lines of at most `width` characters, broken at spaces (a longer word is cut), continuation lines
    /// indented by `indent`.
    static func wrap(_ text: String, width: Int, indent: Int) -> [String] {
        let indent = min(indent, max(0, width / 2))
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true).map(String.init) {
            var word = word
            while true {
                let prefix = lines.isEmpty && line.isEmpty ? "" : (line.isEmpty ? String(repeating: " ", count: indent) : line + " ")
                if prefix.count + word.count <= width {
                    line = prefix + word
                    break
                }
                if !line.isEmpty && line.trimmingCharacters(in: .whitespaces) != "" {
                    lines.append(line)
                    line = ""
                    continue
                }
                // A word wider than the line on its own: cut it.
                let room = max(1, width - prefix.count)
                lines.append(prefix + word.prefix(room))
                word = String(word.dropFirst(room))
                line = ""
                if word.isEmpty { break }
            }
        }
        if !line.isEmpty || lines.isEmpty { lines.append(line) }
        return lines
    }
}
