import Foundation
import XCTest
import TestSupport
import ModelCore
import Training

/// `MergedModel`: a LoRA adapter merged into the base weights must behave as the base with the adapter applied.
final class MergedModelTests: XCTestCase {
    /// Largest |logit difference| allowed between the merged model and base + adapter. F16 rounds each merged
    /// weight by at most 2^-11 of itself; Q8_0 by up to half its block's step (max|w| / 254).
    static let f16LogitBound: Float = 0.02
    static let q8LogitBound: Float = 0.15

    // MARK: fixtures

    /// The tiny model with Q4_1 projections (as the default model has) and a Q8_0 embedding: merging must
    /// dequantise them, and the embedding must be copied unchanged.
    static let spec: TinyModel.Spec = {
        var s = TinyModel.Spec.allF32(seed: 1515)
        s.name = "llama-merge"
        s.embed = "Q8_0"
        s.layers = Array(repeating: Array(repeating: "Q4_1", count: 7), count: 2)
        return s
    }()

    private func temporaryDirectory() throws -> URL {
        let dir = try TinyModel.temporaryDirectory("merge")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    private func writeBase(in dir: URL, extra: (inout GGUFWriter) -> Void = { _ in }) throws -> URL {
        var w = TinyModel.writer(Self.spec)
        extra(&w)
        let url = dir.appendingPathComponent("base.gguf")
        try w.write(to: url)
        return url
    }

    /// Every A and B value random and non-zero, large enough that the adapter moves the logits well past the bounds.
    static func randomAdapter(_ c: ModelConfig, rank: Int = 4, alpha: Float = 8, magnitude: Float = 0.1,
                              targets: [LoRATarget] = LoRATarget.allCases, seed: UInt64 = 99) -> LoRAParameters {
        let lora = LoRAParameters(config: LoRAConfig(rank: rank, alpha: alpha, targets: targets), modelConfig: c)
        var rng = SplitMix64(seed: seed)
        for i in lora.values.indices { lora.values[i] = (rng.nextFloat() * 2 - 1) * magnitude }
        return lora
    }

    static func logits(_ model: LlamaModel, _ tokens: [Int]) throws -> [Float] {
        try model.prefill(tokens, cache: KVCache(config: model.config, maxPositions: 64), workspace: Workspace(), precision: .float)
    }

    /// Greedy continuation of `count` tokens; `.fast` is the precision generation runs at.
    static func greedy(_ model: LlamaModel, _ prompt: [Int], count: Int, precision: ProductPrecision) throws -> [Int] {
        let cache = KVCache(config: model.config, maxPositions: prompt.count + count)
        let ws = Workspace()
        var logits = try model.prefill(prompt, cache: cache, workspace: ws, precision: precision)
        var out: [Int] = []
        for _ in 0..<count {
            let next = logits.indices.max { logits[$0] < logits[$1] }!
            out.append(next)
            logits = try model.prefill([next], cache: cache, workspace: ws, precision: precision)
        }
        return out
    }

    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max()!
    }

    static let prompts: [[Int]] = (0..<6).map { p in
        var rng = SplitMix64(seed: 4000 + UInt64(p))
        return (0..<(5 + p)).map { _ in Int(rng.next() % 320) }
    }

    // MARK: quantiser

    func testQ8_0QuantiserRoundsAsGGMLAndRoundTripsThroughTheReader() {
        // A block whose max is 127: d = 1 exactly, so every value's rounding shows; halves go away from zero.
        var block = [Float](repeating: 0, count: 32)
        block[0] = 127; block[1] = 63.5; block[2] = -63.5; block[3] = 0.49; block[4] = -2.5; block[5] = 1.5
        let bytes = Quantize.q8_0(block)
        XCTAssertEqual(bytes.count, 34)
        XCTAssertEqual(UInt16(bytes[0]) | UInt16(bytes[1]) << 8, floatToHalf(1))
        XCTAssertEqual(Array(bytes[2..<8]).map { Int8(bitPattern: $0) }, [127, 64, -64, 0, -3, 2])

        // Random rows: what the engine's Q8_0 reader gets back is within half a step of each value.
        var rng = SplitMix64(seed: 8)
        let values = (0..<32 * 64).map { _ in (rng.nextFloat() * 2 - 1) * Float(1 + rng.next() % 5) }
        let q = Quantize.q8_0(values)
        var back = [Float](repeating: 0, count: values.count)
        q.withUnsafeBytes { Dequantize.row(.q8_0, $0.baseAddress!, &back, count: values.count) }
        for b in 0..<64 {
            let amax = values[b * 32 ..< b * 32 + 32].map(abs).max()!
            let step = halfToFloat(floatToHalf(amax / 127))
            for j in b * 32 ..< b * 32 + 32 {
                // half a step, plus the scale's own f16 rounding carried over up to 127 steps
                XCTAssertLessThanOrEqual(abs(back[j] - values[j]), step / 2 + amax * 0x1p-11, "value \(j)")
            }
        }
        // An all-zero block stores d = 0 and zeros, not NaN.
        XCTAssertEqual(Quantize.q8_0([Float](repeating: 0, count: 32)), [UInt8](repeating: 0, count: 34))
    }

    func testF16QuantiserRoundTripsHalves() {
        let values: [Float] = [0, -0, 1, -2.5, 65504, 0.1, 1e-7]
        var back = [Float](repeating: 0, count: values.count)
        Quantize.f16(values).withUnsafeBytes { Dequantize.row(.f16, $0.baseAddress!, &back, count: values.count) }
        XCTAssertEqual(back, values.map { halfToFloat(floatToHalf($0)) })
    }

    // MARK: merging

    /// The merged model's logits match the base with the adapter applied, within the stated bounds, while the
    /// adapter itself moves them far more; the adapter goes through its PEFT files as `hellotune export` reads it.
    func testMergedLogitsMatchBasePlusAdapter() throws {
        let dir = try temporaryDirectory()
        let baseURL = try writeBase(in: dir)
        let base = try LlamaModel(gguf: GGUFFile(path: baseURL.path))
        let saved = Self.randomAdapter(base.config)
        let adapterDir = dir.appendingPathComponent("adapter")
        try AdapterIO.write(saved, modelConfig: base.config, baseModelName: "tiny", to: adapterDir)
        let lora = try AdapterIO.read(from: adapterDir, modelConfig: base.config)
        let adapted = base.with(adapter: lora)

        for (type, bound) in [(MergedModel.OutputType.f16, Self.f16LogitBound), (.q8_0, Self.q8LogitBound)] {
            let out = dir.appendingPathComponent("merged-\(type).gguf")
            let summary = try MergedModel.write(base: GGUFFile(path: baseURL.path), adapter: lora, type: type, to: out)
            XCTAssertEqual(summary.merged, 14)
            XCTAssertEqual(summary.copied, 6)  // token_embd, 2 x 2 norms, output_norm
            let merged = try LlamaModel(gguf: GGUFFile(path: out.path))
            var worst: Float = 0, moved: Float = 0
            for p in Self.prompts {
                let want = try Self.logits(adapted, p)
                worst = max(worst, Self.maxDifference(try Self.logits(merged, p), want))
                moved = max(moved, Self.maxDifference(try Self.logits(base, p), want))
            }
            print("MergedModelTests \(type): max |logit diff| merged vs base+adapter \(worst) (bound \(bound)); adapter moves logits by up to \(moved)")
            XCTAssertLessThanOrEqual(worst, bound, "\(type)")
            XCTAssertGreaterThan(moved, 20 * bound, "the adapter must change the model far more than the bound")
        }
    }

    /// Greedy continuations of the merged model, loaded by the engine's own loader, match those of the base with
    /// the adapter applied. F16 with float activations must match every token. Q8_0 rounds the merged weights
    /// (logits move by up to `q8LogitBound`), and at generation's own precision the base's Q4_1 matrices multiply
    /// 8-bit activations while a merged F16 matrix multiplies floats: either way a near-tie of this random model
    /// may flip and the rest of that reply follow it, so there at least 80% of the tokens must match.
    func testMergedGreedyRepliesMatchAdapter() throws {
        let dir = try temporaryDirectory()
        let baseURL = try writeBase(in: dir)
        let base = try LlamaModel(gguf: GGUFFile(path: baseURL.path))
        let lora = Self.randomAdapter(base.config)
        let adapted = base.with(adapter: lora)
        let length = 24
        let total = Self.prompts.count * length
        for type in MergedModel.OutputType.allCases {
            let out = dir.appendingPathComponent("merged-\(type).gguf")
            _ = try MergedModel.write(base: GGUFFile(path: baseURL.path), adapter: lora, type: type, to: out)
            let merged = try LlamaModel(gguf: GGUFFile(path: out.path))
            for precision in [ProductPrecision.float, .fast] {
                var matched = 0, differsFromBase = 0
                for p in Self.prompts {
                    let want = try Self.greedy(adapted, p, count: length, precision: precision)
                    let got = try Self.greedy(merged, p, count: length, precision: precision)
                    matched += zip(want, got).prefix { $0 == $1 }.count
                    if try Self.greedy(base, p, count: length, precision: precision) != want { differsFromBase += 1 }
                }
                print("MergedModelTests \(type), \(precision) activations: greedy tokens matched \(matched)/\(total) over \(Self.prompts.count) prompts; the adapter changed \(differsFromBase) of the replies")
                if precision == .float, type == .f16 {
                    XCTAssertEqual(matched, total, "\(type)")
                } else {
                    XCTAssertGreaterThanOrEqual(matched * 5, total * 4, "\(type)")
                }
                XCTAssertGreaterThan(differsFromBase, 0)
            }
        }
    }

    /// The default model (Q4_1, 135M) with a random rank-8 adapter on every projection: the merged files' logits
    /// (float activations) stay within the bounds scaled to its logits, and `hellotune chat`'s greedy replies
    /// (generation's own precision) are counted token by token against the adapter's.
    func testDefaultModelMergedMatchesAdapter() throws {
        let path: String
        do { path = try TestModel.defaultModelPath() } catch { throw XCTSkip("\(error)") }
        let dir = try temporaryDirectory()
        let base = try TestModel.shared()
        let lora = Self.randomAdapter(base.model.config, rank: 8, alpha: 16, magnitude: 0.05)
        let adapted = base.with(adapter: lora)
        let questions = ["What is the capital of Canada?", "Who wrote Pride and Prejudice?", "Why is the sky blue?",
                         "Name three fruits."]
        let prompts = questions.map { base.encode(LocalModel.conversation(system: nil, user: $0)) }
        let options = GenerationOptions(maxTokens: 24, ignoreStopTokens: true)
        let want = try prompts.map { try Generator(model: adapted).generate(prompt: $0, options: options).tokens }
        let unadapted = try prompts.map { try Generator(model: base).generate(prompt: $0, options: options).tokens }
        XCTAssertNotEqual(want, unadapted, "the random adapter must change some reply")
        // Its logits span ~30 (the tiny model's ~5), and 30 layers add up the rounding.
        for (type, bound) in [(MergedModel.OutputType.f16, Float(0.05)), (.q8_0, Float(1))] {
            let out = dir.appendingPathComponent("merged-\(type).gguf")
            _ = try MergedModel.write(base: GGUFFile(path: path), adapter: lora, type: type, to: out)
            let merged = try LocalModel(path: out.path)
            var worst: Float = 0
            for p in prompts.prefix(2) {
                worst = max(worst, Self.maxDifference(try Self.logits(merged.model, p), try Self.logits(adapted.model, p)))
            }
            let got = try prompts.map { try Generator(model: merged).generate(prompt: $0, options: options).tokens }
            let matched = zip(want, got).map { zip($0, $1).prefix { $0 == $1 }.count }.reduce(0, +)
            let total = want.map(\.count).reduce(0, +)
            print("MergedModelTests default model \(type): max |logit diff| \(worst) (bound \(bound)); greedy tokens matched \(matched)/\(total) over \(prompts.count) prompts")
            XCTAssertLessThanOrEqual(worst, bound, "\(type)")
            XCTAssertGreaterThanOrEqual(matched * 2, total, "\(type): at least half of the tokens")
            try FileManager.default.removeItem(at: out)
        }
    }

    /// Untargeted tensors are copied byte for byte, metadata keeps its exact GGUF types, and general.file_type
    /// names the type most matrices now have.
    func testCopiesUntargetedTensorsAndTypedMetadata() throws {
        let dir = try temporaryDirectory()
        let baseURL = try writeBase(in: dir) { w in
            // as llama.cpp's converter writes them: u32 scalars, an i32 array
            w.setRaw("llama.vocab_size", .uint32(320))
            w.setRaw("tokenizer.ggml.token_type", GGUFWriter.RawValue(type: 9, bytes: [5, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0]))
            w.setRaw("general.file_type", .uint32(3))
        }
        let baseFile = try GGUFFile(path: baseURL.path)
        let lora = Self.randomAdapter(try ModelConfig(gguf: baseFile), targets: [.q, .v])
        let out = dir.appendingPathComponent("merged.gguf")
        let summary = try MergedModel.write(base: baseFile, adapter: lora, type: .q8_0, to: out)
        XCTAssertEqual(summary.merged, 4)
        // 6 Q8_0 matrices (4 merged + token_embd) against 10 Q4_1 ones: still mostly Q4_1
        XCTAssertEqual(summary.fileType, 3)
        let merged = try GGUFFile(path: out.path)

        XCTAssertEqual(merged.tensorNames, baseFile.tensorNames)
        for name in baseFile.tensorNames {
            let (a, b) = (baseFile.tensors[name]!, merged.tensors[name]!)
            XCTAssertEqual(b.dims, a.dims, name)
            if name.hasSuffix("attn_q.weight") || name.hasSuffix("attn_v.weight") {
                XCTAssertEqual(b.type, .q8_0, name)
            } else {
                XCTAssertEqual(b.type, a.type, name)
                XCTAssertEqual(Array(b.data), Array(a.data), "\(name) must be copied unchanged")
            }
        }
        let before = try baseFile.rawMetadata(), after = try merged.rawMetadata()
        let afterByKey = Dictionary(after.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        for (key, value) in before where key != "general.file_type" {
            XCTAssertEqual(afterByKey[key], value, "\(key) must keep its type and bytes")
        }
        XCTAssertEqual(afterByKey["general.file_type"], .uint32(3))
        XCTAssertEqual(merged.metadata[MergedModel.adapterChecksumKey]?.string, lora.valuesSHA256)

        // All seven projections merged: now mostly Q8_0 (llama_ftype 7); as F16 (1).
        let all = Self.randomAdapter(try ModelConfig(gguf: baseFile))
        let q8 = try MergedModel.write(base: baseFile, adapter: all, type: .q8_0, to: dir.appendingPathComponent("q8.gguf"))
        XCTAssertEqual(try GGUFFile(path: dir.appendingPathComponent("q8.gguf").path).rawMetadata().first { $0.key == "general.file_type" }?.value, .uint32(7))
        XCTAssertEqual(q8.fileType, 7)
        XCTAssertEqual(try MergedModel.write(base: baseFile, adapter: all, type: .f16, to: dir.appendingPathComponent("f16.gguf")).fileType, 1)
    }

    func testRefusesToOverwriteAndNamesMismatches() throws {
        let dir = try temporaryDirectory()
        let baseURL = try writeBase(in: dir)
        let baseFile = try GGUFFile(path: baseURL.path)
        let config = try ModelConfig(gguf: baseFile)
        let lora = Self.randomAdapter(config)
        let out = dir.appendingPathComponent("merged.gguf")
        try Data("keep me".utf8).write(to: out)

        XCTAssertThrowsError(try MergedModel.write(base: baseFile, adapter: lora, type: .f16, to: out)) {
            XCTAssertEqual($0 as? MergeError, .outputExists(path: out.path))
        }
        XCTAssertEqual(try String(contentsOf: out, encoding: .utf8), "keep me")
        XCTAssertThrowsError(try MergedModel.write(base: baseFile, adapter: lora, type: .f16, to: baseURL, overwrite: true)) {
            XCTAssertEqual($0 as? MergeError, .outputIsBase(path: baseURL.path))
        }
        _ = try MergedModel.write(base: baseFile, adapter: lora, type: .f16, to: out, overwrite: true)
        XCTAssertNoThrow(try LlamaModel(gguf: GGUFFile(path: out.path)))

        // An adapter made for a wider model: the message names the base file and the tensor.
        var wider = config
        wider.ffnDim = 640
        let other = Self.randomAdapter(wider, targets: [.up])
        let refused = dir.appendingPathComponent("refused.gguf")
        XCTAssertThrowsError(try MergedModel.write(base: baseFile, adapter: other, type: .f16, to: refused)) {
            XCTAssertEqual($0 as? MergeError, .shapeMismatch(path: baseURL.path, tensor: "blk.0.ffn_up.weight", model: [256, 512], adapter: [256, 640]))
            XCTAssertTrue("\($0)".contains(baseURL.path))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: refused.path))
        // Nothing half-written is left behind in the folder.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
    }

    /// A merge whose values F16 cannot hold fails, naming the tensor, and leaves no file.
    func testRefusesValuesF16CannotHold() throws {
        let dir = try temporaryDirectory()
        let baseURL = try writeBase(in: dir)
        let baseFile = try GGUFFile(path: baseURL.path)
        let lora = Self.randomAdapter(try ModelConfig(gguf: baseFile), magnitude: 300, targets: [.down])
        let out = dir.appendingPathComponent("huge.gguf")
        XCTAssertThrowsError(try MergedModel.write(base: baseFile, adapter: lora, type: .f16, to: out)) {
            XCTAssertEqual($0 as? MergeError, .valueOutOfRange(tensor: "blk.0.ffn_down.weight", type: "F16"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }
}
