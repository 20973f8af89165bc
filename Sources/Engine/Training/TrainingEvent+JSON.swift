import Foundation

extension TrainingEvent {
    /// The event as a JSON object: `--json` output, log.jsonl lines and store events.
    public var jsonObject: [String: Any] {
        switch self {
        case let .started(total, start, n, tokens):
            return ["event": "started", "total_steps": total, "start_step": start, "examples": n, "tokens_per_epoch": tokens]
        case let .step(s):
            return ["event": "step", "step": s.step, "total_steps": s.totalSteps, "epoch": s.epoch, "loss": s.loss,
                    "lr": Double(s.learningRate), "grad_norm": Double(s.gradNorm), "tokens": s.tokens,
                    "tok_s": s.tokensPerSecond, "eta_s": s.etaSeconds]
        case let .epochEnded(epoch, loss, tps):
            return ["event": "epoch", "epoch": epoch, "mean_loss": loss, "tok_s": tps]
        case let .validated(epoch, loss, n):
            return ["event": "validation", "epoch": epoch, "val_loss": loss, "examples": n]
        case let .checkpointSaved(step, path):
            return ["event": "checkpoint", "step": step, "path": path]
        case let .finished(s):
            return ["event": "finished", "steps": s.steps, "final_loss": s.finalLoss, "seconds": s.seconds,
                    "cancelled": s.cancelled, "adapter": s.adapterPath]
                .merging(s.validationLosses?.last.map { ["final_val_loss": $0] } ?? [:]) { a, _ in a }
        }
    }
}
