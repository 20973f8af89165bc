import ArgumentParser
import Foundation
import ModelCore
import Training

/// Training flags shared by `train` and `bench train`.
struct TrainingFlags: ParsableArguments {
    @Option(parsing: .unconditional, help: "Passes over the data.") var epochs: Int = 3
    @Option(parsing: .unconditional, help: "Peak learning rate (AdamW).") var lr: Float = 1e-3
    @Option(parsing: .unconditional, help: "LoRA rank.") var rank: Int = 16
    @Option(parsing: .unconditional, help: "LoRA alpha (the update is scaled by alpha / rank).") var alpha: Float = 32
    @Option(parsing: .unconditional, help: "Dropout on the LoRA input.") var dropout: Float = 0
    @Option(help: "Projections to adapt, comma-separated: q,k,v,o,gate,up,down.") var targets: String = "q,k,v,o,gate,up,down"
    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Examples per optimizer step.") var batchSize: Int = 1
    @Option(parsing: .unconditional, help: "Seed for initialisation, data order and dropout.") var seed: UInt64 = 1
    @Option(parsing: .unconditional, help: "Linear warm-up steps.") var warmup: Int = 0
    @Option(help: "Learning-rate schedule after warm-up: constant, linear or cosine.") var schedule: String = "constant"
    @Option(name: .customLong("max-grad-norm"), parsing: .unconditional, help: "Clip the global gradient norm (0: off).") var maxGradNorm: Float = 1
    @Option(name: .customLong("weight-decay"), parsing: .unconditional, help: "AdamW weight decay.") var weightDecay: Float = 0.01
    @Option(name: .customLong("checkpoint-every"), parsing: .unconditional, help: "Checkpoint every N steps (0: at epoch ends only).") var checkpointEvery: Int = 10
    @Flag(name: .customLong("no-shuffle"), help: "Keep the file's order in every epoch.") var noShuffle = false
    @Option(name: .customLong("val-split"), help: "Share of the examples held out for the validation loss (0 to 0.5; at least one example when above 0).")
    var valSplit: Double = TrainingOptions.defaultValidationShare

    // Numbers parse their value unconditionally, so `--lr -1` reaches the range check instead of reading as a
    // missing value; every range is `TrainingLimits`, which the experiment file's keys share.
    func options() throws -> TrainingOptions {
        var o = TrainingOptions()
        o.epochs = epochs
        o.learningRate = lr
        o.batchSize = batchSize
        o.seed = seed
        o.warmupSteps = warmup
        guard let decay = LearningRateSchedule.Decay(rawValue: schedule) else {
            throw ValidationError("--schedule must be constant, linear or cosine (got '\(schedule)')")
        }
        o.schedule = decay
        o.maxGradNorm = maxGradNorm
        o.weightDecay = weightDecay
        o.checkpointEvery = checkpointEvery
        o.shuffle = !noShuffle
        o.validationShare = valSplit
        var parsed: [LoRATarget] = []
        for name in targets.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let t = LoRATarget(name: name) else {
                throw ValidationError("--targets: unknown projection '\(name)'; use q, k, v, o, gate, up, down")
            }
            if !parsed.contains(t) { parsed.append(t) }
        }
        o.lora = LoRAConfig(rank: rank, alpha: alpha, dropout: dropout, targets: parsed)
        do { try o.validate() } catch { throw ValidationError("\(error)") }
        return o
    }
}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "LoRA fine-tuning on CPU from OpenAI chat JSONL; writes PEFT and GGUF adapters.",
        discussion: """
        Writes into --out: adapter_model.safetensors + adapter_config.json (PEFT), adapter.gguf (llama.cpp --lora),
        checkpoint.bin (resumable with --resume after a crash or kill), training.json (summary).
        One run at a time writes a folder: a second one into the same --out stops with an error. A folder that
        already holds a finished adapter is not overwritten without --force.
        """)
    @OptionGroup var model: ModelOptions
    @OptionGroup var flags: TrainingFlags
    @Option(help: "Training data: OpenAI chat JSONL.") var data: String
    @Option(help: "Output folder for the adapter and checkpoints.") var out: String
    @Flag(help: "Continue from the checkpoint in --out.") var resume = false
    @Flag(help: "Train from the start into an --out that holds a finished adapter, replacing it.") var force = false
    @Flag(help: "Print events as JSON lines on stdout.") var json = false

    func validate() throws {
        if resume, force { throw ValidationError("give --resume (continue the run in --out) or --force (start it again), not both") }
    }

    func run() throws {
        let options = try flags.options()
        // Refused before the model loads; the trainer checks again once it holds the folder's lock.
        let folder = URL(fileURLWithPath: out)
        if !resume, !force, Trainer.hasFinishedAdapter(in: folder) { throw TrainingError.finishedAdapterExists(path: folder.path) }
        let m = try model.load()
        let dataset = try ChatDataset.load(path: data)
        let examples = try TrainingExample.encodeAll(dataset, model: m)
        note("loading \(URL(fileURLWithPath: m.path).lastPathComponent) as float32 for training")
        let trainable = TrainableModel(base: m.model)
        let trainer = try Trainer(model: trainable, examples: examples, options: options,
                                  outputDirectory: folder, modelPath: m.path)
        let bar = ProgressBar(label: "train")
        let summary = try trainer.run(resume: resume, replacingAdapter: force) { event in
            if json { printJSON(event.jsonObject) }
            switch event {
            case let .started(total, start, n, tokens):
                note("\(n) examples, \(tokens) tokens per epoch, \(total) steps" + (start > 0 ? ", resuming after step \(start)" : ""))
            case let .step(s):
                bar.update(done: s.step, total: s.totalSteps,
                           detail: String(format: "epoch %d  loss %.4f  lr %.2e  %.0f tok/s  ETA %@", s.epoch, s.loss,
                                          s.learningRate, s.tokensPerSecond, formatDuration(s.etaSeconds)))
            case let .epochEnded(epoch, loss, tps):
                bar.finishLine()
                note(String(format: "epoch %d: mean loss %.4f, %.0f tok/s", epoch, loss, tps))
            case let .validated(epoch, loss, n):
                note(String(format: "epoch %d: validation loss %.4f (%d held-out examples)", epoch, loss, n))
            case .checkpointSaved, .finished:
                break
            }
        }
        bar.finishLine()
        note("adapter written to \(summary.adapterPath) (\(String(format: "%.1f", summary.seconds)) s)")
    }
}
