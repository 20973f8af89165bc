import ArgumentParser
import Foundation
import Support
import ModelCore
import Training

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure speed the way ../shared/anchors measures llama.cpp and PyTorch.",
        subcommands: [Generate.self, Train.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decode, prefill and batched-decode tokens/s (protocol of anchors/llama_cpp_bench.py).",
            discussion: """
            decode: 256 greedy tokens after the anchor's ChatML prompt, stop tokens ignored, median of 3 runs;
            decode_token_ms: each token's time over all runs, as percentiles (p10, p50, p90, max).
            prefill: the first 512 tokens of "The quick brown fox jumps over the lazy dog. " x 80, median of 3.
            batchN: N sequences (--batch, 16 by default) decoded together for --batch-steps steps after the same
            prompt, median of 3; reported as batchN_tok_s (batch16_tok_s by default).
            load_s: seconds to load the model; panels: whether its panel copies were repacked or mapped from the
            panel cache ($HELLOTUNE_HOME/panels; HELLOTUNE_PANEL_CACHE=off to measure without it).
            """)
        @OptionGroup var model: ModelOptions
        @Option(name: .customLong("batch-steps"), help: "Decode steps of the batch.") var batchSteps: Int = 64
        @Option(help: "Sequences decoded together in the batched measurement.") var batch: Int = 16
        @Option(help: "Runs per measurement (the median is reported).") var runs: Int = 3
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var anchor: AnchorOptions

        func validate() throws {
            guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") }
            guard runs >= 1 else { throw ValidationError("--runs must be at least 1, got \(runs)") }
            guard batchSteps >= 1 else { throw ValidationError("--batch-steps must be at least 1, got \(batchSteps)") }
            if anchor.anchor != nil {
                // Both sides must measure the same thing: the anchor takes the median of 3 runs and has no batch.
                guard runs == 3 else { throw ValidationError("--runs: the anchor takes the median of 3 runs, so --anchor needs 3, not \(runs)") }
                guard batch == 16, batchSteps == 64 else {
                    throw ValidationError("--batch and --batch-steps: the anchor has no batched measurement, so --anchor leaves them out")
                }
            }
        }

        func run() throws {
            if anchor.anchor != nil { return try compareWithAnchor() }
            let loadStart = Date()
            let m = try model.load()
            let loadSeconds = Date().timeIntervalSince(loadStart)
            let lm = m.model
            let ws = Workspace()
            let prompt = m.tokenizer.encode("<|im_start|>user\nWrite a long story about a dragon who learns to code.<|im_end|>\n<|im_start|>assistant\n")
            func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }
            func argmax(_ l: [Float]) -> Int { l.indices.max { l[$0] < l[$1] }! }

            var decode: [Double] = []
            // Each token's time as well, to tell a run slowed evenly from one slowed by a few stalls.
            var tokenMilliseconds: [Double] = []
            for run in 1...runs {
                let cache = KVCache(config: lm.config, maxPositions: prompt.count + 257)
                var logits = try lm.prefill(prompt, cache: cache, workspace: ws)
                let t = Date()
                var last = t
                for _ in 0..<256 {
                    let tok = argmax(logits)
                    logits = try lm.forward(rows: [.init(token: tok, sequence: 0, position: cache.count)], caches: [cache],
                                            logitRows: [0], workspace: ws)
                    let now = Date()
                    tokenMilliseconds.append(now.timeIntervalSince(last) * 1000)
                    last = now
                }
                decode.append(256 / last.timeIntervalSince(t))
                note("decode run \(run): \(String(format: "%.1f", decode.last!)) tok/s")
            }
            let sortedTokens = tokenMilliseconds.sorted()
            func percentile(_ p: Double) -> Double { sortedTokens[min(sortedTokens.count - 1, Int(p * Double(sortedTokens.count)))] }

            let text = Array(m.tokenizer.encode(String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 80),
                                                parseSpecial: false).prefix(512))
            var prefill: [Double] = []
            for run in 1...runs {
                let cache = KVCache(config: lm.config, maxPositions: text.count)
                let t = Date()
                _ = try lm.prefill(text, cache: cache, workspace: ws)
                prefill.append(Double(text.count) / Date().timeIntervalSince(t))
                note("prefill run \(run): \(String(format: "%.1f", prefill.last!)) tok/s")
            }

            let n = batch
            var batched: [Double] = []
            for run in 1...runs {
                let caches = (0..<n).map { _ in KVCache(config: lm.config, maxPositions: prompt.count + batchSteps + 1) }
                var tokens: [Int] = []
                for c in caches { tokens.append(argmax(try lm.prefill(prompt, cache: c, workspace: ws))) }
                let t = Date()
                for _ in 0..<batchSteps {
                    let rows = tokens.enumerated().map { LlamaModel.Row(token: $1, sequence: $0, position: caches[$0].count) }
                    let logits = try lm.forward(rows: rows, caches: caches, logitRows: Array(0..<n), workspace: ws)
                    let v = lm.config.vocabularySize
                    tokens = (0..<n).map { j in argmax(Array(logits[(j * v)..<((j + 1) * v)])) }
                }
                batched.append(Double(n * batchSteps) / Date().timeIntervalSince(t))
                note("batch\(n) run \(run): \(String(format: "%.1f", batched.last!)) tok/s")
            }
            let result: [String: Any] = ["decode_tok_s": median(decode), "prefill_tok_s": median(prefill),
                                         "decode_token_ms": ["p10": percentile(0.1), "p50": percentile(0.5),
                                                             "p90": percentile(0.9), "max": sortedTokens.last!],
                                         "batch\(n)_tok_s": median(batched), "model": m.path,
                                         "blas_kernel": BLASKernel.report, "quant_kernel": QuantizedMatrix.kernelName,
                                         "peak_rss_mb": Double(ProcessStats.peakRSSBytes()) / 1e6,
                                         // whether the panels were mapped from the panel cache (PanelCache says why it matters)
                                         "load_s": loadSeconds, "panels": lm.weights.panelSource.description]
            if json { printJSON(result) } else { printFields(result) }
        }

        /// The anchor (llama_cpp_bench.py) takes the model file and the thread count, and measures decode and
        /// prefill as above; it has no batched measurement, so the batch is left out of hellotune's side.
        private func compareWithAnchor() throws {
            let (path, modelFlags) = try model.forAnchor()
            let own = ["bench", "generate", "--model", path, "--batch", "1", "--batch-steps", "1", "--json"] + modelFlags
            try AnchorComparison(ownArguments: own, anchorArguments: [path, String(Parallel.threadCount)],
                                 rates: ["decode_tok_s", "prefill_tok_s"], shown: ["peak_rss_mb"]).run(anchor, json: json)
        }
    }

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "LoRA training tokens/s (protocol of anchors/torch_lora_bench.py).",
            discussion: """
            r=16, alpha=32 on q,k,v,o,gate,up,down; AdamW lr 1e-3; batch 1; 4 epochs in file order; no clipping;
            reports the median tokens/s of epochs 2-4 and the peak resident memory.
            """)
        @OptionGroup var model: ModelOptions
        @Option(help: "Training data: OpenAI chat JSONL.") var data: String
        @Option(help: "Epochs (the median skips the first).") var epochs: Int = 4
        @Option(help: "Train on the first K examples only (the anchor's LIMIT), for larger models.") var limit: Int?
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var anchor: AnchorOptions

        func validate() throws {
            guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
            if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit)") }
            if anchor.anchor != nil, epochs < 2 {
                throw ValidationError("--epochs: the anchor runs at least 2 epochs and skips the first, so --anchor needs 2 or more, not \(epochs)")
            }
        }

        func run() throws {
            if anchor.anchor != nil { return try compareWithAnchor() }
            let m = try model.load()
            var examples = try TrainingExample.encodeAll(ChatDataset.load(path: data), model: m)
            if let limit { examples = Array(examples.prefix(limit)) }
            var o = TrainingOptions()
            o.epochs = epochs
            o.learningRate = 1e-3
            o.batchSize = 1
            o.maxGradNorm = 0
            o.shuffle = false
            o.checkpointEvery = 0
            o.validationShare = 0    // every example trains, so the rates compare with earlier benches
            o.lora = LoRAConfig(rank: 16, alpha: 32, dropout: 0, targets: LoRATarget.allCases)
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hellotune-bench-\(getpid())")
            defer { try? FileManager.default.removeItem(at: dir) }
            let trainer = try Trainer(model: TrainableModel(base: m.model), examples: examples, options: o,
                                      outputDirectory: dir, baseModelName: "bench")
            let summary = try trainer.run(resume: false) { event in
                if case let .epochEnded(epoch, loss, tps) = event {
                    note(String(format: "epoch %d: loss %.4f, %.1f tok/s", epoch, loss, tps))
                }
            }
            let rates = Array(summary.epochTokensPerSecond.dropFirst()).sorted()
            let median = rates.isEmpty ? summary.epochTokensPerSecond[0] : rates[rates.count / 2]
            let result: [String: Any] = [
                "train_tok_s": median, "epoch_tok_s": summary.epochTokensPerSecond,
                "tokens_per_epoch": examples.reduce(0) { $0 + $1.tokens.count },
                "peak_rss_mb": Double(ProcessStats.peakRSSBytes()) / 1e6, "blas_kernel": BLASKernel.report,
            ]
            if json { printJSON(result) } else { printFields(result) }
        }

        /// The anchor (torch_lora_bench.py) takes the model file, the data and the thread count, and its epochs
        /// and example limit from EPOCHS and LIMIT.
        private func compareWithAnchor() throws {
            let (path, modelFlags) = try model.forAnchor()
            guard FileManager.default.fileExists(atPath: data) else { throw ValidationError("--data: no file at \(data)") }
            let dataPath = URL(fileURLWithPath: data).standardizedFileURL.path
            var own = ["bench", "train", "--model", path, "--data", dataPath, "--epochs", String(epochs), "--json"] + modelFlags
            var environment = ["EPOCHS": String(epochs)]
            if let limit {
                own += ["--limit", String(limit)]
                environment["LIMIT"] = String(limit)
            }
            try AnchorComparison(ownArguments: own, anchorArguments: [path, dataPath, String(Parallel.threadCount)],
                                 anchorEnvironment: environment, rates: ["train_tok_s"],
                                 shown: ["tokens_per_epoch", "peak_rss_mb"]).run(anchor, json: json)
        }
    }
}

/// A bench result as "key: value" lines, keys sorted, nested values too.
private func printFields(_ result: [String: Any]) {
    for k in result.keys.sorted() {
        if let nested = result[k] as? [String: Any] {
            say("\(k): " + nested.keys.sorted().map { "\($0) \(nested[$0]!)" }.joined(separator: ", "))
        } else {
            say("\(k): \(result[k]!)")
        }
    }
}
