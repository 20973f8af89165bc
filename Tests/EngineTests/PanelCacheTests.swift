import Foundation
import XCTest
import ModelCore

/// The panel cache file: written on the first load, mapped on the next with the same numbers, and rebuilt whenever
/// it is stale, damaged or cannot be written, so that a bad file costs speed, never a wrong answer.
final class PanelCacheTests: XCTestCase {
    private var dir: URL!
    private var modelURL: URL { dir.appendingPathComponent("qwen2-kquants.gguf") }
    private var cacheURL: URL { dir.appendingPathComponent("panels/qwen2-kquants.gguf.panels") }
    private let ids = [122, 106, 99, 230, 98, 166, 25, 210]

    override func setUpWithError() throws {
        dir = try TinyModel.temporaryDirectory("panel-cache")
        try writeModel(seed: nil)
        // The tiny Q4_K/Q6_K model has panels only where the CPU has AVX-512 VNNI.
        try XCTSkipUnless(try load(cacheAt: nil).weights.layers[0].q.hasPanels,
                          "no panel kernel on this CPU: nothing to cache")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func writeModel(seed: UInt64?) throws {
        var spec = try LlamaForwardTests.tinyFixture("qwen2-kquants").spec
        if let seed { spec.seed = seed }
        try TinyModel.writer(spec).write(to: modelURL)
    }

    /// The model, with a panel cache at `url` (nil: none).
    private func load(cacheAt url: URL?) throws -> LlamaModel {
        let gguf = try GGUFFile(path: modelURL.path)
        let cache = try url.map { try XCTUnwrap(PanelCache(url: $0, model: gguf.file)) }
        return try LlamaModel(gguf: gguf, panelCache: cache)
    }

    /// Decode logits, one token at a time, at 8-bit activations (the panels' path).
    private func logits(_ model: LlamaModel) throws -> [Float] {
        let ws = Workspace(), kv = KVCache(config: model.config, maxPositions: 64)
        var last: [Float] = []
        for (p, id) in ids.enumerated() {
            last = try model.forward(rows: [.init(token: id, sequence: 0, position: p)], caches: [kv], logitRows: [0], workspace: ws)
        }
        return last
    }

    func testSecondLoadMapsTheSamePanels() throws {
        let plain = try load(cacheAt: nil)
        XCTAssertEqual(plain.weights.panelSource, .repacked)
        let first = try load(cacheAt: cacheURL)
        XCTAssertEqual(first.weights.panelSource, .written(cacheURL))
        let second = try load(cacheAt: cacheURL)
        XCTAssertEqual(second.weights.panelSource, .mapped(cacheURL))
        let w = second.weights
        let panelled = ([w.output] + w.layers.flatMap { [$0.q, $0.k, $0.v, $0.o, $0.gate, $0.up, $0.down] }).filter(\.hasPanels)
        XCTAssertGreaterThan(panelled.count, 4)
        for m in panelled { XCTAssertTrue(m.panelsMapped, "\(m.name) was repacked, not mapped") }
        XCTAssertFalse(plain.weights.layers[0].q.panelsMapped)
        // The same bytes in the same kernels: the same floats, bit for bit.
        let want = try logits(plain)
        XCTAssertEqual(try logits(first), want)
        XCTAssertEqual(try logits(second), want)
        // A row read back for training's dy W comes from the mapped panels too.
        var a = [Float](repeating: 0, count: w.layers[1].down.cols), b = a
        plain.weights.layers[1].down.dequantizeRow(5, into: &a)
        w.layers[1].down.dequantizeRow(5, into: &b)
        XCTAssertEqual(a, b)
    }

    func testAChangedModelFileIsNotServedItsOldPanels() throws {
        _ = try load(cacheAt: cacheURL)
        try writeModel(seed: 77)
        let want = try logits(load(cacheAt: nil))
        let reloaded = try load(cacheAt: cacheURL)
        XCTAssertEqual(reloaded.weights.panelSource, .written(cacheURL), "panels of the old model were used")
        XCTAssertEqual(try logits(reloaded), want)
        XCTAssertEqual(try load(cacheAt: cacheURL).weights.panelSource, .mapped(cacheURL))
    }

    func testADamagedCacheFileIsRebuilt() throws {
        let want = try logits(load(cacheAt: nil))
        _ = try load(cacheAt: cacheURL)
        let whole = try Data(contentsOf: cacheURL)
        var badMagic = whole
        badMagic[0] ^= 0xFF
        var badVersion = whole
        badVersion[8] &+= 1
        var badOffset = whole
        badOffset[72 + 80 + 7] = 0x7F  // the first entry's offset, far past the end
        for (label, bytes) in [("truncated", whole.prefix(whole.count / 2)), ("header only", whole.prefix(72)),
                               ("empty", Data()), ("bad magic", badMagic), ("other version", badVersion),
                               ("offset past the end", badOffset)] {
            try bytes.write(to: cacheURL)
            let model = try load(cacheAt: cacheURL)
            XCTAssertEqual(model.weights.panelSource, .written(cacheURL), label)
            XCTAssertEqual(try logits(model), want, label)
            XCTAssertEqual(try Data(contentsOf: cacheURL), whole, "\(label): the file was not rewritten whole")
        }
    }

    func testACacheThatCannotBeWrittenCostsOnlySpeed() throws {
        let want = try logits(load(cacheAt: nil))
        // A file where the cache's folder should be: no folder can be made there, root or not.
        let blocker = dir.appendingPathComponent("blocker")
        try Data("x".utf8).write(to: blocker)
        let url = blocker.appendingPathComponent("m.panels")
        let model = try load(cacheAt: url)
        guard case let .notWritten(at, reason) = model.weights.panelSource else {
            return XCTFail("expected notWritten, got \(model.weights.panelSource)")
        }
        XCTAssertEqual(at, url)
        XCTAssertFalse(reason.isEmpty)
        XCTAssertEqual(try logits(model), want)
    }

    /// A copy of the tiny model at `url` with zeros after its tensor data up to the size that pays for a cache file
    /// (a sparse file, so it takes no disk).
    private func largeCopy(at url: URL) throws {
        try FileManager.default.copyItem(at: modelURL, to: url)
        let h = try FileHandle(forWritingTo: url)
        try h.truncate(atOffset: UInt64(PanelCache.minimumModelBytes))
        try h.close()
    }

    /// Runs `body` with HELLOTUNE_HOME set to `home` (tests run one at a time in this process), then puts it back.
    private func withHome<T>(_ home: URL, _ body: () throws -> T) rethrows -> T {
        let old = ProcessInfo.processInfo.environment["HELLOTUNE_HOME"]
        setenv("HELLOTUNE_HOME", home.path, 1)
        defer { if let old { setenv("HELLOTUNE_HOME", old, 1) } else { unsetenv("HELLOTUNE_HOME") } }
        return try body()
    }

    func testAFetchedModelGetsOneUnaskedAtItsOwnPath() throws {
        // A model of the size that pays for a file, under models/hf/ in a home of its own.
        let home = dir.appendingPathComponent("home")
        let folder = home.appendingPathComponent("models/hf/owner/repo")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let model = folder.appendingPathComponent("tiny.gguf")
        try largeCopy(at: model)
        let want = home.appendingPathComponent("panels/hf/owner/repo/tiny.gguf.panels")
        let second = try withHome(home) {
            XCTAssertEqual(PanelCache.automatic(for: try GGUFFile(path: model.path))?.url.path, want.path)
            let first = try LlamaModel(gguf: GGUFFile(path: model.path))
            XCTAssertEqual(first.weights.panelSource, .written(want))
            return try LlamaModel(gguf: GGUFFile(path: model.path))
        }
        XCTAssertEqual(second.weights.panelSource, .mapped(want))
        XCTAssertEqual(try logits(second), try logits(load(cacheAt: nil)))
    }

    func testOnlyLargeModelsInTheModelsFolderGetOneUnasked() throws {
        let home = dir.appendingPathComponent("home"), models = home.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        // small, inside the models folder
        let small = models.appendingPathComponent("small.gguf")
        try FileManager.default.copyItem(at: modelURL, to: small)
        // large, outside it
        let large = dir.appendingPathComponent("large.gguf")
        try largeCopy(at: large)
        try withHome(home) {
            for model in [small, large] {
                XCTAssertNil(PanelCache.automatic(for: try GGUFFile(path: model.path)), model.lastPathComponent)
                XCTAssertEqual(try LlamaModel(gguf: GGUFFile(path: model.path)).weights.panelSource, .repacked, model.lastPathComponent)
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: home.appendingPathComponent("panels").path))
    }

    func testAnInterruptedWriteIsCleared() throws {
        // what a first load killed while writing leaves: AtomicFile's temporary file, named after a process now gone
        try FileManager.default.createDirectory(at: cacheURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        let abandoned = cacheURL.deletingLastPathComponent().appendingPathComponent(".\(cacheURL.lastPathComponent).tmp-999999999")
        try Data(count: 4096).write(to: abandoned)
        XCTAssertEqual(try load(cacheAt: cacheURL).weights.panelSource, .written(cacheURL))
        XCTAssertFalse(FileManager.default.fileExists(atPath: abandoned.path), "the abandoned write is still there")
    }
}
