import Foundation
import Support
import Experiment
import Store

func statusRole(_ s: JobStatus?) -> StyleRole {
    switch s {
    case .running?: return .accent
    case .succeeded?: return .match
    case .failed?: return .error
    case .cancelled?, .interrupted?, .paused?: return .warning
    case .queued?, .validating?, nil: return .dim
    }
}

/// The word the Jobs screen shows for a status: the store's vocabulary, with the words a user of a local run
/// expects for its two ends ("finished", "stopped": resumable from its checkpoint).
func statusLabel(_ s: JobStatus?) -> String {
    switch s {
    case .succeeded?: return "finished"
    case .interrupted?: return "stopped"
    case let s?: return s.rawValue
    case nil: return "unknown"
    }
}

func renderJobs(_ state: AppState, _ buf: inout ScreenBuffer, _ area: Rect) {
    let jobs = state.jobs
    let visible = jobs.visibleJobs
    let listHeight = min(max(5, visible.count + 3), max(5, area.height * 2 / 5))
    let list = Rect(x: area.x, y: area.y, width: area.width, height: listHeight)
    var title = "Jobs"
    if !jobs.filter.text.isEmpty || jobs.filtering { title += " — filter: \(jobs.filter.text)" + (jobs.filtering ? "▏" : "") }
    if !jobs.jobs.isEmpty { title += " (\(visible.count)/\(jobs.jobs.count))" }
    buf.box(list, title: title, role: .border)
    let inner = list.inset(1)
    let x = inner.x + 1
    let width = inner.width - 2

    guard jobs.loaded else {
        buf.put("\(spinnerFrames[state.animationFrame % spinnerFrames.count]) reading runs…", x: x, y: inner.y, role: .dim)
        return
    }
    if let error = jobs.error {
        for (i, line) in wrapParagraph("could not list jobs: \(error)", width: width).prefix(inner.height).enumerated() {
            buf.put(line, x: x, y: inner.y + i, role: .error)
        }
        return
    }
    if jobs.jobs.isEmpty {
        let text = "No jobs yet.\n\nStart an experiment from Setup (1, then s) or with `hellotune run --preset akewo-mixed`, or train by hand:\nhellotune train --data FILE --out \(state.runsDescription)/NAME --json > \(state.runsDescription)/NAME/log.jsonl\n\nJobs recorded in the store (every backend) and run folders under \(state.runsDescription) with training.json or checkpoint.bin and a log.jsonl show up here."
        buf.fill(list)
        buf.box(area, title: "Jobs", role: .border)
        for (i, line) in wrapParagraph(text, width: area.width - 4).prefix(area.height - 2).enumerated() {
            buf.put(line, x: area.x + 2, y: area.y + 1 + i, role: i == 0 ? .normal : .dim)
        }
        return
    }
    // Columns: name, backend, status, bar, step/total, loss, tok/s (when there is room; the detail pane has it too), ETA.
    let showSpeed = width >= 96
    let others = [7, 9, 9, 7] + (showSpeed ? [7] : []) + [7]
    let spare = width - others.reduce(0, +) - others.count - 1
    let rows = inner.height - 1
    let selected = jobs.selectedIndex ?? 0
    let first = max(0, min(selected - rows + 1, visible.count - rows))
    // Only the rows on screen are measured: with 100,000 jobs, measuring every name made each frame slow.
    let shown = visible.dropFirst(first).prefix(rows)
    // Names first (a run folder name is 23 characters): the bar gives way down to 8.
    let nameWidth0 = max(8, min(shown.map { displayWidth($0.name) }.max() ?? 8, spare - 8, max(23, spare * 2 / 3)))
    let barWidth = max(6, min(40, spare - nameWidth0))
    let nameWidth = max(nameWidth0, spare - barWidth)
    let header = pad("Job", nameWidth) + " " + pad("Backend", 7) + " " + pad("Status", 9) + " " + pad("Progress", barWidth) + " "
        + pad("Step", 9, right: true) + " " + pad("Loss", 7, right: true) + " " + (showSpeed ? pad("tok/s", 7, right: true) + " " : "")
        + pad("ETA", 7, right: true)
    buf.put(header, x: x, y: inner.y, role: .title, maxWidth: width)
    for (row, job) in shown.enumerated() {
        let y = inner.y + 1 + row
        let isSelected = job.id == visible[selected].id
        if isSelected { buf.fill(Rect(x: inner.x, y: y, width: inner.width, height: 1), role: .selection) }
        let base: StyleRole = isSelected ? .selection : .normal
        var cx = x
        cx += buf.put(pad(job.name, nameWidth), x: cx, y: y, role: base) + 1
        cx += buf.put(pad(job.backend ?? "—", 7), x: cx, y: y, role: isSelected ? .selection : .dim) + 1
        cx += buf.put(pad(statusLabel(job.status), 9), x: cx, y: y, role: isSelected ? .selection : statusRole(job.status)) + 1
        cx += buf.put(progressBar(job.progress, width: barWidth), x: cx, y: y, role: isSelected ? .selection : .chart) + 1
        let step = job.totalSteps > 0 ? "\(job.step)/\(job.totalSteps)" : (job.step > 0 ? "\(job.step)" : "—")
        cx += buf.put(pad(step, 9, right: true), x: cx, y: y, role: base) + 1
        cx += buf.put(pad(job.loss.map { String(format: "%.4f", $0) } ?? "—", 7, right: true), x: cx, y: y, role: base) + 1
        if showSpeed {
            cx += buf.put(pad(job.tokensPerSecond.map { String(format: "%.0f", $0) } ?? "—", 7, right: true), x: cx, y: y, role: base) + 1
        }
        buf.put(pad(job.status == .running ? formatDuration(job.etaSeconds) : "—", 7, right: true), x: cx, y: y, role: base)
    }

    let detail = Rect(x: area.x, y: list.maxY, width: area.width, height: area.maxY - list.maxY)
    if detail.height >= 3, let job = jobs.selectedJob { renderJobDetail(state, job, &buf, detail) }
}

func renderJobDetail(_ state: AppState, _ job: JobSummary, _ buf: inout ScreenBuffer, _ rect: Rect) {
    buf.box(rect, title: "\(job.name) — \(statusLabel(job.status))", role: .border)
    let inner = rect.inset(1)
    let x = inner.x + 1
    let width = inner.width - 2
    var y = inner.y
    let events = state.jobs.eventsFor == job.id ? state.jobs.events : []
    let losses = events.compactMap { e -> Double? in if case let .step(_, _, _, loss, _, _) = e { return loss }; return nil }

    func line(_ s: String, _ role: StyleRole = .normal) {
        guard y < inner.maxY else { return }
        buf.put(s, x: x, y: y, role: role, maxWidth: width)
        y += 1
    }

    // Loss chart: one row at 80x24, taller when there is room.
    let chartHeight = inner.height >= 24 ? 6 : inner.height >= 14 ? 3 : 1
    let label = "loss "
    let readout = losses.isEmpty ? "" : String(format: "  %.3f → %.3f", losses.first!, losses.last!)
    let chartWidth = max(8, width - label.count - displayWidth(readout))
    if losses.isEmpty {
        line("loss  no steps logged yet", .dim)
    } else {
        let rows = barChart(losses, width: min(chartWidth, max(losses.count, 8)), height: chartHeight)
        for (i, r) in rows.enumerated() where y < inner.maxY {
            buf.put(i == rows.count - 1 ? label : "     ", x: x, y: y, role: .dim)
            let used = buf.put(r, x: x + label.count, y: y, role: .chart)
            if i == rows.count - 1 { buf.put(readout, x: x + label.count + used, y: y, role: .normal) }
            y += 1
        }
    }
    // Validation loss, one point per epoch, on a row of its own under the training loss.
    let validation = events.compactMap { e -> Double? in if case let .validation(_, loss, _) = e { return loss }; return nil }
    if !validation.isEmpty, y < inner.maxY {
        let valLabel = "val  "
        let valReadout = String(format: "  %.3f → %.3f (per epoch)", validation.first!, validation.last!)
        let row = barChart(validation, width: min(max(8, width - valLabel.count - displayWidth(valReadout)), max(validation.count, 1)),
                           height: 1)
        buf.put(valLabel, x: x, y: y, role: .dim)
        let used = buf.put(row.first ?? "", x: x + valLabel.count, y: y, role: .chart)
        buf.put(valReadout, x: x + valLabel.count + used, y: y, role: .normal)
        y += 1
    }
    var facts = [job.kind, job.backend.map { "on " + $0 }].compactMap { $0 }.joined(separator: " ")
    facts += (facts.isEmpty ? "" : " · ") + "step \(job.step)" + (job.totalSteps > 0 ? "/\(job.totalSteps)" : "")
    if let tps = job.tokensPerSecond { facts += String(format: " · %.0f tok/s", tps) }
    if job.status == .running, job.etaSeconds != nil { facts += " · ETA " + formatDuration(job.etaSeconds) }
    facts += job.adapterPath != nil ? " · adapter ready (p: playground)" : " · no adapter yet"
    line(facts)
    if let note = job.note { line(note, .dim) }
    // A run's training jobs are its detail, not rows of their own.
    for part in job.parts {
        var text = "\(part.name): \(statusLabel(part.status)) · step \(part.step)" + (part.totalSteps > 0 ? "/\(part.totalSteps)" : "")
        if let loss = part.loss { text += String(format: " · loss %.4f", loss) }
        if let note = part.note { text += " · " + note }
        line(text, statusRole(part.status) == .error ? .error : .normal)
    }
    let checkpoints = events.compactMap { e -> Int? in if case let .checkpoint(step, _) = e { return step }; return nil }
    if !checkpoints.isEmpty {
        line("checkpoints: " + checkpoints.suffix(8).map { "step \($0)" }.joined(separator: ", ")
             + (checkpoints.count > 8 ? " (\(checkpoints.count) in all)" : ""))
    }
    if let folder = job.folder { line("folder: " + abbreviatePath(folder), .dim) }
    guard y < inner.maxY - 1 else { return }
    line("recent events", .title)
    let room = inner.maxY - y
    let notable = events.filter { if case .step = $0 { return false }; return true }
    let lastStep = events.last { if case .step = $0 { return true }; return false }
    var recent = Array(notable.suffix(room))
    if let lastStep, room > 1 { recent = Array(notable.suffix(room - 1)) + [lastStep] }
    if recent.isEmpty { line("none logged yet", .dim) }
    for e in recent { line("· " + e.summary, .normal) }
}
