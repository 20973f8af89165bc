import Foundation
import Support
import ModelCore

/// Runs a LoRA fine-tuning job: deterministic for a seed, checkpointed, resumable, cancellable.
///
/// The data order of every epoch and the dropout masks of every step derive from (seed, epoch,
/// step) alone, so a run resumed from a checkpoint replays exactly what the uninterrupted run
/// would have done.
public final class Trainer: @unchecked Sendable {
    public let model: TrainableModel
    /// The examples trained on: the data less the held-out ones, in file order.
    public let examples: [TrainingExample]
    /// The held-out examples (`options.validationShare`), whose loss is measured after each epoch.
    public let validationExamples: [TrainingExample]
    public let options: TrainingOptions
    public let outputDirectory: URL
    public let datasetDigest: String
    public let baseModelName: String
    /// Recorded in checkpoints (see `Checkpoint.Header.modelPath`).
    public let modelPath: String?
    private let cancelFlag = CancellationFlag()

    public init(model: TrainableModel, examples: [TrainingExample], options: TrainingOptions, outputDirectory: URL,
                baseModelName: String, modelPath: String? = nil) throws {
        try options.validate()
        guard !examples.isEmpty else { throw TrainingError.invalidOption(field: "data", reason: "holds no examples") }
        let held = try Self.heldOutIndices(count: examples.count, share: options.validationShare ?? 0, seed: options.seed)
        self.model = model
        self.examples = examples.indices.filter { !held.contains($0) }.map { examples[$0] }
        validationExamples = held.sorted().map { examples[$0] }
        self.options = options
        self.outputDirectory = outputDirectory
        self.baseModelName = baseModelName
        self.modelPath = modelPath.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        datasetDigest = Self.digest(examples)
    }

    /// Training on the GGUF at `modelPath`: the adapter names its file as the base model.
    public convenience init(model: TrainableModel, examples: [TrainingExample], options: TrainingOptions,
                            outputDirectory: URL, modelPath: String) throws {
        try self.init(model: model, examples: examples, options: options, outputDirectory: outputDirectory,
                      baseModelName: URL(fileURLWithPath: modelPath).lastPathComponent, modelPath: modelPath)
    }

    public var stepsPerEpoch: Int { (examples.count + options.batchSize - 1) / options.batchSize }
    public var totalSteps: Int { stepsPerEpoch * options.epochs }
    public var checkpointURL: URL { outputDirectory.appendingPathComponent(Checkpoint.fileName) }

    /// Asks a running job to stop after its current step (a checkpoint is saved first).
    public func cancel() { cancelFlag.set() }

    /// The job as a stream of events, on its own thread.
    public func events(resume: Bool) -> AsyncThrowingStream<TrainingEvent, Error> {
        AsyncThrowingStream { continuation in
            continuation.onTermination = { [weak self] reason in
                if case .cancelled = reason { self?.cancel() }
            }
            let thread = Thread { [self] in
                do {
                    _ = try run(resume: resume) { continuation.yield($0) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Runs the job to the end (or until cancelled), calling `onEvent` from this thread. The output folder is
    /// locked against other runs meanwhile; a new run (not `resume`) into a folder that holds a finished adapter is
    /// refused unless `replacingAdapter`, and then the old adapter and summary go first, so that the folder never
    /// shows the old result beside the new run's checkpoints.
    @discardableResult
    public func run(resume: Bool, replacingAdapter: Bool = false,
                    onEvent: (TrainingEvent) -> Void = { _ in }) throws -> TrainingSummary {
        try prepareOutput()
        // Held to the end of this call; checked under it, so two runs cannot both find the folder free.
        let lock = try OutputFolderLock(folder: outputDirectory)
        defer { withExtendedLifetime(lock) {} }
        if !resume, Self.hasFinishedAdapter(in: outputDirectory) {
            guard replacingAdapter else { throw TrainingError.finishedAdapterExists(path: outputDirectory.path) }
            for name in Self.finishedFiles { try? FileManager.default.removeItem(at: outputDirectory.appendingPathComponent(name)) }
        }
        let c = model.config
        let lora = LoRAParameters(config: options.lora, modelConfig: c)
        var adam = AdamW(parameterCount: lora.count, weightDecay: options.weightDecay)
        var state = Checkpoint.Header(options: options, step: 0, adamStep: 0, datasetDigest: datasetDigest,
                                      parameterCount: lora.count, epochLosses: [], epochTokensPerSecond: [],
                                      epochLossSum: 0, epochLabelled: 0, elapsedSeconds: 0, modelPath: modelPath,
                                      validationLosses: validationExamples.isEmpty ? nil : [])
        if resume {
            let ck = try Checkpoint.read(from: checkpointURL)
            guard ck.header.datasetDigest == datasetDigest else {
                throw TrainingError.checkpointMismatch(path: checkpointURL.path, reason: "the training data differs")
            }
            guard ck.header.options.resumes(as: options) else {
                throw TrainingError.checkpointMismatch(path: checkpointURL.path, reason: "the training options differ")
            }
            guard ck.header.parameterCount == lora.count else {
                throw TrainingError.checkpointMismatch(path: checkpointURL.path, reason: "the model differs")
            }
            state = ck.header
            state.modelPath = state.modelPath ?? modelPath
            lora.values = ck.lora
            adam.m = ck.m
            adam.v = ck.v
            adam.step = ck.header.adamStep
        } else {
            lora.initialise(seed: options.seed)
        }

        let schedule = LearningRateSchedule(peak: options.learningRate, warmupSteps: options.warmupSteps,
                                            totalSteps: totalSteps, decay: options.schedule)
        let tokensPerEpoch = examples.reduce(0) { $0 + $1.tokens.count }
        onEvent(.started(totalSteps: totalSteps, startStep: state.step, examples: examples.count, tokensPerEpoch: tokensPerEpoch))
        let grads = FloatBuffer(lora.count)
        let startStep = state.step
        let runStart = Date()
        let elapsedBefore = state.elapsedSeconds
        var epochStart = Date()
        var epochTokens = 0
        var cancelled = false

        func save() throws {
            state.adamStep = adam.step
            state.elapsedSeconds = elapsedBefore + Date().timeIntervalSince(runStart)
            do {
                try Checkpoint(header: state, lora: lora.values, m: adam.m, v: adam.v).write(to: checkpointURL)
            } catch {
                throw TrainingError.checkpointNotSaved(step: state.step, reason: "\(error)")
            }
            onEvent(.checkpointSaved(step: state.step, path: checkpointURL.path))
        }

        while state.step < totalSteps {
            if cancelFlag.isSet { cancelled = true; break }
            let step = state.step
            let epoch = step / stepsPerEpoch
            let order = epochOrder(epoch)
            let first = (step % stepsPerEpoch) * options.batchSize
            let batch = order[first..<min(first + options.batchSize, order.count)].map { examples[$0] }
            let labelled = batch.reduce(0) { $0 + $1.labelledCount }
            let stepStart = Date()
            grads.zero()
            var lossSum = 0.0
            var tokens = 0
            for (j, ex) in batch.enumerated() {
                let (loss, _) = try model.lossAndGradients(
                    tokens: ex.tokens, targets: ex.targets, lora: lora, grads: grads.pointer,
                    lossScale: 1 / Float(max(1, labelled)), dropoutSeed: options.seed &* 0x9E37_79B9 &+ UInt64(step * 1024 + j))
                lossSum += loss
                tokens += ex.tokens.count
            }
            let meanLoss = lossSum / Double(max(1, labelled))
            guard meanLoss.isFinite else { throw TrainingError.nonFiniteLoss(step: step + 1) }
            let norm = clipGradients(grads.pointer, count: lora.count, maxNorm: options.maxGradNorm)
            let lr = schedule.rate(at: step)
            adam.update(&lora.values, grads: grads.pointer, lr: lr)
            state.step += 1
            state.epochLossSum += lossSum
            state.epochLabelled += labelled
            epochTokens += tokens

            let seconds = Date().timeIntervalSince(stepStart)
            let doneThisRun = state.step - startStep
            let rate = Double(tokens) / max(seconds, 1e-9)
            let elapsed = Date().timeIntervalSince(runStart)
            let eta = elapsed / Double(max(1, doneThisRun)) * Double(totalSteps - state.step)
            onEvent(.step(TrainingStep(step: state.step, totalSteps: totalSteps, epoch: epoch + 1, loss: meanLoss,
                                       learningRate: lr, gradNorm: norm, tokens: tokens, tokensPerSecond: rate,
                                       etaSeconds: eta)))

            let epochDone = state.step % stepsPerEpoch == 0
            if epochDone {
                let mean = state.epochLossSum / Double(max(1, state.epochLabelled))
                let tps = Double(epochTokens) / max(Date().timeIntervalSince(epochStart), 1e-9)
                state.epochLosses.append(mean)
                state.epochTokensPerSecond.append(tps)
                state.epochLossSum = 0
                state.epochLabelled = 0
                onEvent(.epochEnded(epoch: epoch + 1, meanLoss: mean, tokensPerSecond: tps))
                if !validationExamples.isEmpty {
                    let loss = try validationLoss(lora)
                    state.validationLosses = (state.validationLosses ?? []) + [loss]
                    onEvent(.validated(epoch: epoch + 1, loss: loss, examples: validationExamples.count))
                }
                epochStart = Date()
                epochTokens = 0
            }
            if epochDone || (options.checkpointEvery > 0 && state.step % options.checkpointEvery == 0) {
                try save()
            }
        }
        if cancelled { try save() }

        if !cancelled {
            try AdapterIO.write(lora, modelConfig: c, baseModelName: baseModelName, to: outputDirectory)
        }
        let summary = TrainingSummary(
            steps: state.step, epochs: options.epochs, finalLoss: state.epochLosses.last ?? 0,
            epochLosses: state.epochLosses, epochTokensPerSecond: state.epochTokensPerSecond,
            validationLosses: state.validationLosses, seconds: elapsedBefore + Date().timeIntervalSince(runStart), cancelled: cancelled,
            adapterPath: outputDirectory.path)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(summary), to: outputDirectory.appendingPathComponent("training.json"))
        onEvent(.finished(summary))
        return summary
    }

    /// Mean loss per labelled token over the held-out examples, with the adapter as it stands.
    func validationLoss(_ lora: LoRAParameters) throws -> Double {
        var sum = 0.0
        var labelled = 0
        for ex in validationExamples {
            let (loss, count) = try model.loss(tokens: ex.tokens, targets: ex.targets, lora: lora)
            sum += loss
            labelled += count
        }
        return sum / Double(max(1, labelled))
    }

    /// Which examples are held out: round(share x count), at least one when share > 0, drawn by a shuffle seeded
    /// from the seed alone, so the same data and seed always hold out the same examples. With share 0 nothing is
    /// drawn and the training set is the data as before.
    public static func heldOutIndices(count: Int, share: Double, seed: UInt64) throws -> Set<Int> {
        guard share > 0 else { return [] }
        let n = max(1, Int((Double(count) * share).rounded()))
        guard n < count else {
            throw TrainingError.invalidOption(
                field: "val-split", reason: "\(share) would hold out all \(count) example\(count == 1 ? "" : "s") "
                    + "and leave none to train on; give more data or --val-split 0")
        }
        var order = Array(0..<count)
        var rng = SeededRandom(seed: seed ^ 0x7A11_D47E)
        order.shuffle(using: &rng)
        return Set(order.prefix(n))
    }

    /// Example indices of an epoch: file order, or a shuffle seeded by (seed, epoch).
    public func epochOrder(_ epoch: Int) -> [Int] {
        var order = Array(examples.indices)
        guard options.shuffle else { return order }
        var rng = SeededRandom(seed: options.seed &+ 0x5EED &* UInt64(epoch + 1))
        order.shuffle(using: &rng)
        return order
    }

    /// What a finished run leaves: its adapter in every format, then its summary.
    static let finishedFiles = [AdapterIO.peftWeightsFile, AdapterIO.peftConfigFile, AdapterIO.ggufFile, "training.json"]

    /// Only a run that reached its end writes adapter files (a cancelled one leaves its checkpoint and summary).
    public static func hasFinishedAdapter(in folder: URL) -> Bool {
        [AdapterIO.peftWeightsFile, AdapterIO.ggufFile].contains {
            FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path)
        }
    }

    private func prepareOutput() throws {
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: outputDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw TrainingError.outputNotWritable(path: outputDirectory.path, reason: error.localizedDescription)
        }
        guard fm.isWritableFile(atPath: outputDirectory.path) else {
            throw TrainingError.outputNotWritable(path: outputDirectory.path, reason: "permission denied")
        }
    }

    /// A fingerprint of the encoded data (FNV-1a over tokens and targets), stored in checkpoints.
    static func digest(_ examples: [TrainingExample]) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ v: Int) {
            var x = UInt64(bitPattern: Int64(v))
            for _ in 0..<8 {
                h ^= x & 0xFF
                h = h &* 0x100_0000_01B3
                x >>= 8
            }
        }
        for ex in examples {
            mix(ex.tokens.count)
            ex.tokens.forEach(mix)
            ex.targets.forEach(mix)
        }
        return String(h, radix: 16)
    }
}
