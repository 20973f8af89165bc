import Foundation

/// One event of a job's log (`hellotune train --json` lines, `TrainingEvent.jsonObject`).
public enum JobEvent: Equatable, Sendable {
    case started(totalSteps: Int, startStep: Int, examples: Int, tokensPerEpoch: Int)
    case step(step: Int, totalSteps: Int, epoch: Int, loss: Double, tokensPerSecond: Double, etaSeconds: Double)
    case epoch(epoch: Int, meanLoss: Double, tokensPerSecond: Double)
    /// The held-out examples' loss after an epoch.
    case validation(epoch: Int, loss: Double, examples: Int)
    case checkpoint(step: Int, path: String)
    case finished(steps: Int, finalLoss: Double, seconds: Double, cancelled: Bool, adapter: String?)
    case message(String)

    /// Reads one log line; nil for blank lines, `.message` for lines that are not known events.
    public static func parse(jsonLine line: String) -> JobEvent? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        guard let obj = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any],
              let kind = obj["event"] as? String else { return .message(trimmed) }
        func int(_ k: String) -> Int { (obj[k] as? NSNumber)?.intValue ?? 0 }
        func dbl(_ k: String) -> Double { (obj[k] as? NSNumber)?.doubleValue ?? 0 }
        switch kind {
        case "started":
            return .started(totalSteps: int("total_steps"), startStep: int("start_step"), examples: int("examples"),
                            tokensPerEpoch: int("tokens_per_epoch"))
        case "step":
            return .step(step: int("step"), totalSteps: int("total_steps"), epoch: int("epoch"), loss: dbl("loss"),
                         tokensPerSecond: dbl("tok_s"), etaSeconds: dbl("eta_s"))
        case "epoch":
            return .epoch(epoch: int("epoch"), meanLoss: dbl("mean_loss"), tokensPerSecond: dbl("tok_s"))
        case "validation":
            return .validation(epoch: int("epoch"), loss: dbl("val_loss"), examples: int("examples"))
        case "checkpoint":
            return .checkpoint(step: int("step"), path: obj["path"] as? String ?? "")
        case "finished":
            return .finished(steps: int("steps"), finalLoss: dbl("final_loss"), seconds: dbl("seconds"),
                             cancelled: (obj["cancelled"] as? Bool) ?? false, adapter: obj["adapter"] as? String)
        default:
            return .message(trimmed)
        }
    }

    /// One line for the detail pane's event list.
    public var summary: String {
        switch self {
        case let .started(total, start, n, tokens):
            return "started: \(n) examples, \(tokens) tokens/epoch, \(total) steps" + (start > 0 ? ", resumed after \(start)" : "")
        case let .step(s, total, epoch, loss, tps, _):
            return String(format: "step %d/%d  epoch %d  loss %.4f  %.0f tok/s", s, total, epoch, loss, tps)
        case let .epoch(e, loss, tps):
            return String(format: "epoch %d done: mean loss %.4f, %.0f tok/s", e, loss, tps)
        case let .validation(e, loss, n):
            return String(format: "epoch %d: validation loss %.4f (%d held out)", e, loss, n)
        case let .checkpoint(step, path):
            return "checkpoint at step \(step): \(URL(fileURLWithPath: path).lastPathComponent)"
        case let .finished(steps, loss, seconds, cancelled, _):
            return cancelled ? String(format: "cancelled after %d steps (%.0f s)", steps, seconds)
                : String(format: "finished: %d steps, final loss %.4f, %.0f s", steps, loss, seconds)
        case let .message(m):
            return m
        }
    }
}
