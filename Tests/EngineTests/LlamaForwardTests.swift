import Foundation
import XCTest
import ModelCore

/// The engine's forward pass against the independent numpy oracle (/work/shared/reference/ref_llama.py),
/// through golden logits made by scripts/fixtures/make_model_fixtures.py:
/// - tiny models (Fixtures/model_tiny.json) that this test regenerates bit for bit with TinyModel,
///   covering llama and qwen2 and every weight type;
/// - the real default model (Fixtures/model_smollm2.json).
///
/// The engine quantises activations to 8 bits for Q4_0/Q4_1/Q8_0 products at small batch and
/// multiplies in float32 with a different summation order, so logits are compared with tolerances:
/// the same top-1 (or the engine's top-1 within the oracle's top 3), at least 8 of the top 10
/// shared, and centred logits (each vector minus its mean over the compared ids) within 0.6.
final class LlamaForwardTests: XCTestCase {
    // MARK: fixtures

    struct Sequence: Decodable {
        let ids: [Int]
        let top: [Int]
        let logits: [Double]
        let allLogits: [Double]?
        let name: String?

        enum CodingKeys: String, CodingKey {
            case ids, top, logits, name, allLogits = "all_logits"
        }
    }

    struct TensorHash: Decodable {
        let name: String
        let dims: [Int]
        let type: String
        let fnv1a64: String
    }

    struct TinyFixture: Decodable {
        let spec: TinyModel.Spec
        let tensors: [TensorHash]
        let fileFnv1a64: String
        let sequences: [Sequence]

        enum CodingKeys: String, CodingKey {
            case spec, tensors, sequences, fileFnv1a64 = "file_fnv1a64"
        }
    }

    struct TinyFile: Decodable { let models: [TinyFixture] }
    struct RealFile: Decodable { let model: String; let sequences: [Sequence] }

    static func fixtureData(_ name: String) throws -> Data {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"),
                                "Fixtures/\(name).json missing: run scripts/fixtures/make_model_fixtures.py")
        return try Data(contentsOf: url)
    }

    static func decoder() -> JSONDecoder {
        JSONDecoder()
    }

    static func tinyFixture(_ name: String) throws -> TinyFixture {
        let file = try decoder().decode(TinyFile.self, from: fixtureData("model_tiny"))
        return try XCTUnwrap(file.models.first { $0.spec.name == name }, "no tiny model \(name) in model_tiny.json")
    }

    /// Regenerates the tiny model, writes it to `dir` and loads it.
    func loadTiny(_ fx: TinyFixture, in dir: URL) throws -> LlamaModel {
        let url = dir.appendingPathComponent("\(fx.spec.name).gguf")
        try TinyModel.writer(fx.spec).write(to: url)
        return try LlamaModel(gguf: GGUFFile(path: url.path))
    }

    // MARK: comparison

    struct Comparison: CustomStringConvertible {
        var engineTop1: Int
        var oracleTop3: [Int]
        var shared: Int
        var centredTop10: Double
        var centredAll: Double?

        var top1OK: Bool { oracleTop3.contains(engineTop1) }
        var description: String {
            let all = centredAll.map { String(format: ", max centred diff over vocab %.4f", $0) } ?? ""
            return "engine top-1 \(engineTop1) (oracle top-3 \(oracleTop3)), \(shared)/10 of top-10 shared, "
                + String(format: "max centred diff over oracle top-10 %.4f", centredTop10) + all
        }
    }

    static func topIndices(_ x: [Float], _ k: Int) -> [Int] {
        Array(x.indices.sorted { x[$0] != x[$1] ? x[$0] > x[$1] : $0 < $1 }.prefix(k))
    }

    /// max |(a_i - mean a) - (b_i - mean b)| over the given indices.
    static func maxCentredDiff(_ a: [Double], _ b: [Double]) -> Double {
        let ma = a.reduce(0, +) / Double(a.count), mb = b.reduce(0, +) / Double(b.count)
        return zip(a, b).map { abs(($0 - ma) - ($1 - mb)) }.max() ?? 0
    }

    static func compare(_ logits: [Float], _ seq: Sequence) -> Comparison {
        let engineTop = topIndices(logits, 10)
        let centred = maxCentredDiff(seq.top.map { Double(logits[$0]) }, seq.logits)
        let all = seq.allLogits.map { maxCentredDiff(logits.map(Double.init), $0) }
        return Comparison(engineTop1: engineTop[0], oracleTop3: Array(seq.top.prefix(3)),
                          shared: Set(engineTop).intersection(seq.top).count, centredTop10: centred, centredAll: all)
    }

    static let tolerance = 0.6

    /// Asserts the issue's criteria; returns the comparison for reporting.
    @discardableResult
    func assertMatches(_ logits: [Float], _ seq: Sequence, _ what: String,
                       file: StaticString = #filePath, line: UInt = #line) -> Comparison {
        let c = Self.compare(logits, seq)
        print("[oracle] \(what): \(c)")
        XCTAssertTrue(c.top1OK, "\(what): \(c)", file: file, line: line)
        XCTAssertGreaterThanOrEqual(c.shared, 8, "\(what): \(c)", file: file, line: line)
        XCTAssertLessThanOrEqual(c.centredTop10, Self.tolerance, "\(what): \(c)", file: file, line: line)
        if let all = c.centredAll {
            XCTAssertLessThanOrEqual(all, Self.tolerance, "\(what): \(c)", file: file, line: line)
        }
        return c
    }

    /// ||a - b|| / ||a|| (Euclidean norms over the vocabulary).
    static func relativeDiff(_ a: [Float], _ b: [Float]) -> Float {
        let diff = zip(a, b).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        let norm = a.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        return diff / max(norm, 1e-6)
    }

    /// max |a - b| / max |a|.
    static func maxRelativeDiff(_ a: [Float], _ b: [Float]) -> Float {
        let scale = max(a.map(abs).max() ?? 0, 1e-6)
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }

    // MARK: tiny models: the recipe

    func testTinyModelsRegenerateBitForBit() throws {
        let file = try Self.decoder().decode(TinyFile.self, from: Self.fixtureData("model_tiny"))
        XCTAssertEqual(Set(file.models.map(\.spec.name)), ["llama-mix", "qwen2-kquants", "llama-f32"])
        var typesSeen = Set<String>()
        for fx in file.models {
            let plan = TinyModel.plan(fx.spec)
            XCTAssertEqual(plan.map(\.name), fx.tensors.map(\.name), fx.spec.name)
            let writer = TinyModel.writer(fx.spec)
            for (t, want) in zip(writer.tensors, fx.tensors) {
                XCTAssertEqual(t.dims, want.dims, "\(fx.spec.name) \(t.name)")
                XCTAssertEqual(t.type.description, want.type, "\(fx.spec.name) \(t.name)")
                XCTAssertEqual(TinyModel.hex(TinyModel.fnv1a64(t.bytes)), want.fnv1a64, "\(fx.spec.name) \(t.name): bytes differ from the script's")
                typesSeen.insert(want.type)
            }
            // Same metadata keys, kinds and order as gguf.GGUFWriter: the whole file is identical.
            XCTAssertEqual(TinyModel.hex(TinyModel.fnv1a64(writer.serialize())), fx.fileFnv1a64, "\(fx.spec.name): GGUF file differs from the script's")
        }
        let all = ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]
        XCTAssertEqual(typesSeen, Set(all), "the tiny models cover every weight type")
    }

    // MARK: tiny models against the oracle

    private func checkTinyAgainstOracle(_ name: String) throws {
        let fx = try Self.tinyFixture(name)
        let dir = try TinyModel.temporaryDirectory("forward")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try loadTiny(fx, in: dir)
        XCTAssertEqual(model.config.architecture, fx.spec.arch)
        XCTAssertEqual(model.config.vocabularySize, fx.spec.vocab)
        XCTAssertEqual(model.config.hasQKVBias, fx.spec.qkvBias)
        let ws = Workspace()
        var worstTop10 = 0.0, worstAll = 0.0
        for seq in fx.sequences {
            // Prefill with 8-bit activations (generation) and with float ones (exact scores, `hellotune logits`).
            for precision in [ProductPrecision.fast, .float] {
                let cache = KVCache(config: model.config, maxPositions: 128)
                let logits = try model.prefill(seq.ids, cache: cache, workspace: ws, precision: precision)
                XCTAssertEqual(logits.count, fx.spec.vocab)
                XCTAssertEqual(cache.count, seq.ids.count)
                let c = assertMatches(logits, seq, "\(name) \(precision) prefill of \(seq.ids.count)")
                worstTop10 = max(worstTop10, c.centredTop10)
                worstAll = max(worstAll, c.centredAll ?? 0)
            }

            // One token at a time (the decode path) must match the oracle too.
            let step = KVCache(config: model.config, maxPositions: 128)
            var last: [Float] = []
            for (p, id) in seq.ids.enumerated() {
                last = try model.forward(rows: [.init(token: id, sequence: 0, position: p)], caches: [step], logitRows: [0], workspace: ws)
            }
            let d = assertMatches(last, seq, "\(name) decode of \(seq.ids.count)")
            worstTop10 = max(worstTop10, d.centredTop10)
            worstAll = max(worstAll, d.centredAll ?? 0)
        }
        print(String(format: "[oracle] %@ worst: centred top-10 %.4f, centred vocab %.4f", name, worstTop10, worstAll))
    }

    func testLlamaMixedTypesMatchOracle() throws { try checkTinyAgainstOracle("llama-mix") }
    func testQwen2KQuantsMatchOracle() throws { try checkTinyAgainstOracle("qwen2-kquants") }
    func testLlamaF32MatchesOracle() throws { try checkTinyAgainstOracle("llama-f32") }

    // MARK: tiny models: the engine against itself

    /// 80 tokens in one prefill == 40 then 40 more through the cache == 80 single-token steps.
    /// `stepTolerance`: ||prefill - steps|| / ||prefill|| allowed (relative Euclidean distance of the logits).
    private func checkContinuation(_ name: String, stepTolerance: Float) throws {
        let fx = try Self.tinyFixture(name)
        let dir = try TinyModel.temporaryDirectory("continue")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try loadTiny(fx, in: dir)
        let ids = try XCTUnwrap(fx.sequences.first { $0.ids.count == 80 }).ids
        let ws = Workspace()

        let whole = try model.prefill(ids, cache: KVCache(config: model.config, maxPositions: 128), workspace: ws)

        let split = KVCache(config: model.config, maxPositions: 128)
        _ = try model.prefill(Array(ids[..<40]), cache: split, workspace: ws)
        let halves = try model.prefill(Array(ids[40...]), cache: split, workspace: ws)
        XCTAssertEqual(split.count, 80)

        let step = KVCache(config: model.config, maxPositions: 128)
        var stepped: [Float] = []
        for (p, id) in ids.enumerated() {
            stepped = try model.forward(rows: [.init(token: id, sequence: 0, position: p)], caches: [step], logitRows: [0], workspace: ws)
        }
        // Whole and split prefills give each row the same products: they agree to rounding. Where the CPU has
        // the panel kernel, prefills and steps alike multiply Q4_0/Q4_1/Q8_0 weights by 8-bit activations;
        // without it, prompts of 32 rows or more go through float sgemm and the 8-bit steps differ from them
        // by that quantisation (llama-mix: ~1e-2; numpy with the same activation rounding reproduces the
        // engine's steps to 2e-2 in the logits).
        let rSplit = Self.relativeDiff(whole, halves), rStep = Self.relativeDiff(whole, stepped)
        print(String(format: "[self] %@: 80 vs 40+40 relative %.2e (max %.2e), 80 vs 80 steps relative %.2e (max %.2e)",
                     name, rSplit, Self.maxRelativeDiff(whole, halves), rStep, Self.maxRelativeDiff(whole, stepped)))
        XCTAssertLessThanOrEqual(rSplit, 1e-4, "\(name): prefill 80 vs 40 + 40")
        XCTAssertLessThanOrEqual(rStep, stepTolerance, "\(name): prefill 80 vs one token at a time")
        XCTAssertEqual(Self.topIndices(whole, 1), Self.topIndices(halves, 1))
        XCTAssertEqual(Self.topIndices(whole, 1), Self.topIndices(stepped, 1))
    }

    func testLlamaMixPrefillContinuesThroughCache() throws { try checkContinuation("llama-mix", stepTolerance: 2.5e-2) }
    /// Its Q4_K/Q6_K products (o, down, output) take 8-bit activations: with panels in prompts and steps
    /// alike; without them prompts go through sgemm, as llama-mix's do.
    func testQwen2KQuantsPrefillContinuesThroughCache() throws {
        try checkContinuation("qwen2-kquants", stepTolerance: QuantizedMatrix.kernelName.hasSuffix("-panels") ? 1e-4 : 2.5e-2)
    }
    func testLlamaF32PrefillContinuesThroughCache() throws { try checkContinuation("llama-f32", stepTolerance: 1e-4) }

    /// Three sequences of different lengths decoded in one forward call == each decoded alone.
    private func checkBatchedDecoding(_ name: String) throws {
        let fx = try Self.tinyFixture(name)
        let dir = try TinyModel.temporaryDirectory("batch")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try loadTiny(fx, in: dir)
        let source = try XCTUnwrap(fx.sequences.first { $0.ids.count == 80 }).ids
        // Prompts of 5, 33 (past blasMinimumRows) and 12 tokens, then 6 decoding steps each.
        let prompts = [Array(source[0..<5]), Array(source[5..<38]), Array(source[38..<50])]
        let continuations = [Array(source[50..<56]), Array(source[56..<62]), Array(source[62..<68])]
        let ws = Workspace()

        var separate: [[[Float]]] = []  // [sequence][step] logits
        for (prompt, more) in zip(prompts, continuations) {
            let cache = KVCache(config: model.config, maxPositions: 64)
            var steps = [try model.prefill(prompt, cache: cache, workspace: ws)]
            for id in more {
                steps.append(try model.forward(rows: [.init(token: id, sequence: 0, position: cache.count)], caches: [cache],
                                               logitRows: [0], workspace: ws))
            }
            separate.append(steps)
        }

        let caches = prompts.map { _ in KVCache(config: model.config, maxPositions: 64) }
        var worst: Float = 0
        for (s, prompt) in prompts.enumerated() {
            let first = try model.prefill(prompt, cache: caches[s], workspace: ws)
            worst = max(worst, Self.relativeDiff(separate[s][0], first))
        }
        for step in 0..<continuations[0].count {
            // Rows in a shuffled sequence order, to check that logitRows and caches are honoured.
            let order = [2, 0, 1]
            let rows = order.map { s in LlamaModel.Row(token: continuations[s][step], sequence: s, position: caches[s].count) }
            let logits = try model.forward(rows: rows, caches: caches, logitRows: [0, 1, 2], workspace: ws)
            XCTAssertEqual(logits.count, 3 * fx.spec.vocab)
            for (i, s) in order.enumerated() {
                let mine = Array(logits[i * fx.spec.vocab..<(i + 1) * fx.spec.vocab])
                let r = Self.relativeDiff(separate[s][step + 1], mine)
                worst = max(worst, r)
                XCTAssertLessThanOrEqual(r, 1e-3, "\(name): sequence \(s), step \(step): batched vs alone")
            }
        }
        for (s, cache) in caches.enumerated() { XCTAssertEqual(cache.count, prompts[s].count + continuations[s].count) }
        print(String(format: "[self] %@: batched vs separate decoding, worst relative %.2e", name, worst))
    }

    func testLlamaMixBatchedDecodingMatchesSeparate() throws { try checkBatchedDecoding("llama-mix") }
    func testQwen2KQuantsBatchedDecodingMatchesSeparate() throws { try checkBatchedDecoding("qwen2-kquants") }

    func testPastMaxPositionsThrowsContextOverflow() throws {
        let fx = try Self.tinyFixture("llama-mix")
        let dir = try TinyModel.temporaryDirectory("overflow")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try loadTiny(fx, in: dir)
        let ids = try XCTUnwrap(fx.sequences.first { $0.ids.count == 80 }).ids
        let ws = Workspace()
        let cache = KVCache(config: model.config, maxPositions: 50)
        XCTAssertEqual(cache.maxPositions, 50)

        XCTAssertThrowsError(try model.prefill(ids, cache: cache, workspace: ws)) { error in
            XCTAssertEqual(error as? EngineError, .contextOverflow(needed: 80, limit: 50))
        }
        XCTAssertEqual(cache.count, 0, "a refused prefill leaves the cache as it was")
        _ = try model.prefill(Array(ids[..<40]), cache: cache, workspace: ws)
        XCTAssertThrowsError(try model.prefill(Array(ids[40..<51]), cache: cache, workspace: ws)) { error in
            XCTAssertEqual(error as? EngineError, .contextOverflow(needed: 51, limit: 50))
        }
        XCTAssertEqual(cache.count, 40)
        for p in 40..<50 {
            _ = try model.forward(rows: [.init(token: ids[p], sequence: 0, position: p)], caches: [cache], logitRows: [0], workspace: ws)
        }
        XCTAssertEqual(cache.count, 50)
        XCTAssertThrowsError(try model.forward(rows: [.init(token: ids[50], sequence: 0, position: 50)], caches: [cache],
                                               logitRows: [0], workspace: ws)) { error in
            XCTAssertEqual(error as? EngineError, .contextOverflow(needed: 51, limit: 50))
        }
        XCTAssertEqual(cache.count, 50)
    }

    // MARK: the real default model

    func testDefaultModelMatchesOracle() throws {
        let fixture = try Self.decoder().decode(RealFile.self, from: Self.fixtureData("model_smollm2"))
        let path = try TestModel.defaultModelPath()
        XCTAssertEqual(URL(fileURLWithPath: path).lastPathComponent, fixture.model)
        let model = try LlamaModel(gguf: GGUFFile(path: path))
        let ws = Workspace()
        XCTAssertEqual(fixture.sequences.count, 5)
        var worst = 0.0
        for seq in fixture.sequences {
            for precision in [ProductPrecision.fast, .float] {
                let cache = KVCache(config: model.config, maxPositions: 256)
                let logits = try model.prefill(seq.ids, cache: cache, workspace: ws, precision: precision)
                XCTAssertEqual(logits.count, model.config.vocabularySize)
                let c = assertMatches(logits, seq, "SmolLM2 \(precision) '\(seq.name ?? "?")' (\(seq.ids.count) tokens)")
                worst = max(worst, c.centredTop10)
            }
        }
        print(String(format: "[oracle] SmolLM2 worst: centred top-10 %.4f", worst))
    }

    // MARK: the fetched 1.5B model (Q4_K and Q6_K)

    /// Qwen2.5-Coder-1.5B's Q4_K/Q6_K matrices on the integer kernels (8-bit activations, panels where the
    /// CPU has AVX-512 VNNI) against the float path (dequantise, float activations) on a short prompt and
    /// three decoding steps: the same top-1 and most of the top 10 at every step, logits within the 8-bit
    /// rounding (relative Euclidean distance under 5e-2; 4.4e-2 measured on this model, against 3.4e-2 with
    /// activations rounded per 32 and 1.1e-1 per 256 without the factors per 32, kquant.h). And the integer
    /// prefill equals the same tokens fed one at a time. Skipped when the model is not fetched.
    func testQwen15BIntegerKernelsMatchFloatPath() throws {
        guard let qwen = ModelCatalogue.named("qwen2.5-coder-1.5b"), qwen.isFetched else {
            throw XCTSkip("qwen2.5-coder-1.5b is not fetched (run `hellotune model fetch qwen2.5-coder-1.5b`)")
        }
        // Repacked here rather than mapped from the panel cache (PanelCacheTests), whose file pages would count below.
        let model = try LlamaModel(gguf: GGUFFile(path: qwen.path.path), panelCache: nil)
        // Making the panels read the whole 1.1 GB file; its pages were given back matrix by matrix (LlamaWeights).
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let fileKB = status.split(separator: "\n").first { $0.hasPrefix("RssFile:") }.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        XCTAssertLessThan(fileKB, 600_000, "resident file-backed memory after loading the 1.5B model")
        let ws = Workspace()
        // <|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n, then three more tokens
        let prompt = [151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198]
        let more = [9707, 11, 1879]
        let fast = KVCache(config: model.config, maxPositions: 64), float = KVCache(config: model.config, maxPositions: 64)
        var a = try model.prefill(prompt, cache: fast, workspace: ws, precision: .fast)
        var b = try model.prefill(prompt, cache: float, workspace: ws, precision: .float)
        var worst: Float = 0
        for step in 0...more.count {
            let r = Self.relativeDiff(b, a)
            worst = max(worst, r)
            XCTAssertLessThan(r, 5e-2, "step \(step): integer vs float logits")
            XCTAssertEqual(Self.topIndices(a, 1), Self.topIndices(b, 1), "step \(step): top-1")
            XCTAssertGreaterThanOrEqual(Set(Self.topIndices(a, 10)).intersection(Self.topIndices(b, 10)).count, 8, "step \(step): top-10")
            guard step < more.count else { break }
            a = try model.forward(rows: [.init(token: more[step], sequence: 0, position: fast.count)], caches: [fast],
                                  logitRows: [0], workspace: ws, precision: .fast)
            b = try model.forward(rows: [.init(token: more[step], sequence: 0, position: float.count)], caches: [float],
                                  logitRows: [0], workspace: ws, precision: .float)
        }
        let steps = KVCache(config: model.config, maxPositions: 64)
        var stepped: [Float] = []
        for (p, id) in (prompt + more).enumerated() {
            stepped = try model.forward(rows: [.init(token: id, sequence: 0, position: p)], caches: [steps], logitRows: [0], workspace: ws)
        }
        let whole = try model.prefill(prompt + more, cache: KVCache(config: model.config, maxPositions: 64), workspace: ws)
        let rStep = Self.relativeDiff(whole, stepped)
        print(String(format: "[self] qwen2.5-coder-1.5b (%@): integer vs float worst relative %.2e; prefill vs steps %.2e",
                     QuantizedMatrix.kernelName, worst, rStep))
        // Panels give a row the same products in a prompt as alone; without them a prompt of 17 rows still
        // takes the row kernels (under blasMinimumRows), so both agree to the attention's float rounding.
        XCTAssertLessThan(rStep, 1e-4, "integer prefill vs one token at a time")
    }
}
