import Foundation
import Support

/// Changes the logits before each token is sampled, e.g. to force the first letter of a line.
/// One instance per sequence; it sees the tokens generated so far.
public protocol LogitsProcessor {
    mutating func process(_ logits: UnsafeMutableBufferPointer<Float>, generated: [Int])
}

public struct GenerationOptions: Sendable {
    public var maxTokens: Int = 256
    public var sampling: SamplingParameters = .greedy
    /// Benchmarks decode a fixed number of tokens whatever the model says.
    public var ignoreStopTokens = false
    /// Stops a reply once the wall-clock time since its own prefill began passes this many seconds (nil: no limit);
    /// the reply keeps what was generated and finishes with `.time`.
    public var timeLimit: Double?

    public init(maxTokens: Int = 256, sampling: SamplingParameters = .greedy, ignoreStopTokens: Bool = false,
                timeLimit: Double? = nil) {
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.ignoreStopTokens = ignoreStopTokens
        self.timeLimit = timeLimit
    }
}

public struct GenerationResult: Sendable, Codable, Equatable {
    public enum FinishReason: String, Sendable, Codable { case stop, length, time, cancelled }
    public var text: String
    public var tokens: [Int]
    public var promptTokens: Int
    public var finishReason: FinishReason
    public var prefillSeconds: Double
    public var decodeSeconds: Double

    public var decodeTokensPerSecond: Double { decodeSeconds > 0 ? Double(max(0, tokens.count - 1)) / decodeSeconds : 0 }
}

public enum GenerationEvent: Sendable {
    case token(id: Int, text: String)
    case finished(GenerationResult)
}

/// Generates replies from a local model: one sequence, streamed, or many sequences decoded together.
public final class Generator: @unchecked Sendable {
    public let model: LocalModel
    public init(model: LocalModel) { self.model = model }

    /// Generates one reply. `onToken` receives each token and its newly completed text, and may
    /// return false to stop early.
    public func generate(prompt: [Int], options: GenerationOptions, processor: (any LogitsProcessor)? = nil,
                         onToken: ((Int, String) -> Bool)? = nil) throws -> GenerationResult {
        try generateBatch(prompts: [prompt], options: options, processors: processor.map { [$0] },
                          onToken: onToken.map { f in { _, id, text in f(id, text) } })[0]
    }

    /// Generates one reply per prompt, decoding the unfinished sequences together, one forward pass per step.
    /// At most `slots` sequences decode at once: when one finishes, the next prompt is prefilled and takes its
    /// place, so one long reply does not hold a batch of short ones to its length. Each sequence gets its own
    /// sampler seeded with `seed + index`, and a row's numbers do not depend on the rows beside it (`matmul`), so
    /// results depend neither on batching nor on `slots`. `isCancelled` is asked before every step and every
    /// prefill; once it says yes the call throws `CancellationError`, with no replies, and no further prompt starts.
    public func generateBatch(prompts: [[Int]], options: GenerationOptions, processors: [any LogitsProcessor]? = nil,
                              slots: Int = .max, isCancelled: (() -> Bool)? = nil,
                              onToken: ((Int, Int, String) -> Bool)? = nil) throws -> [GenerationResult] {
        let lm = model.model
        // Without panels, products of 32 rows or more go through sgemm (`matmul`), whose rounding differs from the
        // row kernels': decoding stays below that, so a reply does not depend on what decodes beside it.
        let slots = lm.weights.allPanelled ? max(1, slots) : min(max(1, slots), QuantizedMatrix.blasMinimumRows - 1)
        let vocab = lm.config.vocabularySize
        let n = prompts.count
        guard n > 0 else { return [] }
        for p in prompts where p.isEmpty { throw EngineError.emptyInput }
        let context = lm.config.contextLength
        for p in prompts where p.count + 1 > context {
            throw EngineError.contextOverflow(needed: p.count + 1, limit: context)
        }
        var caches = [KVCache?](repeating: nil, count: n)   // a sequence's cache lives while it decodes
        var processors = processors
        var samplers = (0..<n).map { i in
            var s = options.sampling
            s.seed = options.sampling.seed &+ UInt64(i)
            return Sampler(s)
        }
        var decoders = (0..<n).map { _ in StreamingDecoder(tokenizer: model.tokenizer) }
        var generated = [[Int]](repeating: [], count: n)
        var texts = [String](repeating: "", count: n)
        var finish = [GenerationResult.FinishReason?](repeating: nil, count: n)
        var started = [Date](repeating: Date(), count: n)
        var prefillSeconds = [Double](repeating: 0, count: n)
        var decodeSeconds = [Double](repeating: 0, count: n)
        let ws = Workspace()

        // The last logits of each decoding sequence: from its prefill, then from each step.
        var pending = [[Float]](repeating: [], count: n)
        var active: [Int] = []
        var next = 0
        /// Prefills prompts (each on its own, sgemm over its tokens) into the free slots.
        func admit() throws {
            guard active.count < slots, next < n else { return }
            while active.count < slots, next < n {
                if isCancelled?() == true { throw CancellationError() }
                let i = next
                next += 1
                started[i] = Date()
                let cache = KVCache(config: lm.config, maxPositions: min(context, prompts[i].count + options.maxTokens))
                pending[i] = try lm.prefill(prompts[i], cache: cache, workspace: ws)
                caches[i] = cache
                prefillSeconds[i] = Date().timeIntervalSince(started[i])
                active.append(i)
            }
            ws.releaseLarge()
        }

        /// The next token of every decoding sequence, in `active` order, up to the first whose logits are not
        /// finite (its index is then `failed`). Processors run here in order, since they may share caches; the
        /// samplers, each with its own state, run across the cores (sorting each row's candidates was serial work
        /// that left the other core waiting).
        func pickAll() -> (tokens: [Int], failed: Int?) {
            var failed: Int?
            for (j, i) in active.enumerated() {
                // Before the processor, which masks with -infinity on purpose. A NaN would otherwise sample as some
                // token or none, and the reply would be empty text with nothing said.
                guard Self.allFinite(pending[i]) else { failed = j; break }
                if processors != nil {
                    pending[i].withUnsafeMutableBufferPointer { processors![i].process($0, generated: generated[i]) }
                }
            }
            let count = failed ?? active.count
            var tokens = [Int](repeating: 0, count: count)
            tokens.withUnsafeMutableBufferPointer { out in
                samplers.withUnsafeMutableBufferPointer { samplers in
                    pending.withUnsafeMutableBufferPointer { logits in
                        Parallel.forEach(count) { j in
                            let i = active[j]
                            out[j] = logits[i].withUnsafeMutableBufferPointer {
                                samplers[i].sample($0, history: prompts[i] + generated[i])
                            }
                        }
                    }
                }
            }
            return (tokens, failed)
        }

        try admit()
        while !active.isEmpty {
            if isCancelled?() == true { throw CancellationError() }
            var nextTokens: [Int] = []
            var still: [Int] = []
            let stepping = active, stepStart = Date()
            let picked = pickAll()
            for (j, i) in active.enumerated() {
                if j == picked.failed { throw EngineError.nonFiniteLogits(step: generated[i].count) }
                let token = picked.tokens[j]
                let isStop = !options.ignoreStopTokens && model.stopTokens.contains(token)
                if isStop {
                    finish[i] = .stop
                    texts[i] += decoders[i].flush()
                } else {
                    generated[i].append(token)
                    let piece = decoders[i].push(token)
                    texts[i] += piece
                    if let onToken, !onToken(i, token, piece) {
                        finish[i] = .cancelled
                    } else if generated[i].count >= options.maxTokens || prompts[i].count + generated[i].count >= context
                                || caches[i]!.remaining == 0 {
                        // Prompt and reply together fit the context, so the whole conversation can be fed back in
                        // (a training example, the next turn).
                        finish[i] = .length
                    } else if let limit = options.timeLimit, Date().timeIntervalSince(started[i]) > limit {
                        finish[i] = .time
                    }
                    if finish[i] != nil { texts[i] += decoders[i].flush() }
                }
                if finish[i] != nil {
                    caches[i] = nil
                    pending[i] = []
                } else {
                    still.append(i)
                    nextTokens.append(token)
                }
            }
            active = still
            // A sequence's decode time is the steps it took part in, not the other prompts' prefills between them.
            let sampledAt = Date()
            for i in stepping { decodeSeconds[i] += sampledAt.timeIntervalSince(stepStart) }
            if !active.isEmpty {
                // One forward pass over the last token of every unfinished sequence.
                let rows = active.enumerated().map { j, i in
                    LlamaModel.Row(token: nextTokens[j], sequence: j, position: caches[i]!.count)
                }
                let logits = try lm.forward(rows: rows, caches: active.map { caches[$0]! },
                                            logitRows: Array(0..<active.count), workspace: ws)
                for (j, i) in active.enumerated() {
                    pending[i] = Array(logits[(j * vocab)..<((j + 1) * vocab)])
                }
                let forwardDone = Date()
                for i in active { decodeSeconds[i] += forwardDone.timeIntervalSince(sampledAt) }
            }
            try admit()   // the next prompts take the finished sequences' slots
        }
        return (0..<n).map { i in
            GenerationResult(text: texts[i], tokens: generated[i], promptTokens: prompts[i].count,
                             finishReason: finish[i] ?? .length, prefillSeconds: prefillSeconds[i], decodeSeconds: decodeSeconds[i])
        }
    }

    /// Whether every logit is finite (`LlamaModel.allFinite` over the row).
    public static func allFinite(_ values: [Float]) -> Bool {
        values.withUnsafeBufferPointer { LlamaModel.allFinite($0) }
    }

    /// Streams one reply as it is generated. Cancelling the consuming task stops generation
    /// at the next token.
    public func stream(prompt: [Int], options: GenerationOptions,
                       processor: (any LogitsProcessor)? = nil) -> AsyncThrowingStream<GenerationEvent, Error> {
        AsyncThrowingStream { continuation in
            let cancelled = CancellationFlag()
            continuation.onTermination = { _ in cancelled.set() }
            let processor = UncheckedSendable(processor)
            let thread = Thread { [self] in
                do {
                    let result = try generate(prompt: prompt, options: options, processor: processor.value) { id, text in
                        continuation.yield(.token(id: id, text: text))
                        return !cancelled.isSet
                    }
                    continuation.yield(.finished(result))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }
}

/// A flag set from one thread and read from another.
public final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    public init() {}
    public func set() { lock.lock(); value = true; lock.unlock() }
    public var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
