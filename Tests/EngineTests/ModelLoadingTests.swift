import Foundation
import XCTest
import ModelCore

/// Bad input at the model level: each case throws its own error, and file-level errors name the file.
final class ModelLoadingTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = try TinyModel.temporaryDirectory("loading")
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    private static let spec = TinyModel.Spec.allF32()
    nonisolated(unsafe) private static let baseWriter = TinyModel.writer(spec)

    /// Writes `writer` as `name`.gguf and returns its path.
    private func write(_ writer: GGUFWriter, _ name: String) throws -> String {
        let url = dir.appendingPathComponent("\(name).gguf")
        try writer.write(to: url)
        return url.path
    }

    /// Loads the model at `path`, expecting a GGUFError whose description names the file.
    private func loadError(_ path: String, file: StaticString = #filePath, line: UInt = #line) -> GGUFError? {
        do {
            _ = try LlamaModel(gguf: GGUFFile(path: path))
            XCTFail("loading \(path) should have failed", file: file, line: line)
            return nil
        } catch let error as GGUFError {
            XCTAssertTrue(error.description.contains(path), "'\(error)' does not name \(path)", file: file, line: line)
            return error
        } catch {
            XCTFail("expected a GGUFError, got \(error)", file: file, line: line)
            return nil
        }
    }

    func testValidTinyModelLoads() throws {
        let m = try LlamaModel(gguf: GGUFFile(path: write(Self.baseWriter, "valid")))
        XCTAssertEqual(m.config.architecture, "llama")
        XCTAssertEqual(m.config.layerCount, 2)
        XCTAssertEqual(m.config.dim, 256)
        XCTAssertEqual(m.config.headCount, 4)
        XCTAssertEqual(m.config.kvHeadCount, 2)
        XCTAssertEqual(m.config.headDim, 64)
        XCTAssertEqual(m.config.ffnDim, 512)
        XCTAssertEqual(m.config.vocabularySize, 320)
        XCTAssertEqual(m.config.contextLength, 256)
        XCTAssertEqual(m.config.ropeBase, 10000)
        XCTAssertEqual(m.config.normEpsilon, 1e-5)
        XCTAssertEqual(m.config.ropeStyle, .adjacent)
        XCTAssertFalse(m.config.hasQKVBias)

        let q = try LlamaModel(gguf: GGUFFile(path: write(TinyModel.writer(.allF32(arch: "qwen2")), "valid-qwen2")))
        XCTAssertEqual(q.config.ropeStyle, .halves)
        XCTAssertTrue(q.config.hasQKVBias)
    }

    func testUnsupportedArchitecture() throws {
        for arch in ["gpt2", "mamba"] {
            var w = Self.baseWriter
            w.set("general.architecture", .string(arch))
            let path = try write(w, arch)
            XCTAssertEqual(loadError(path), .unsupportedArchitecture(path: path, architecture: arch))
        }
    }

    func testMissingTensor() throws {
        var w = Self.baseWriter
        let before = w.tensors.count
        w.tensors.removeAll { $0.name == "blk.1.ffn_up.weight" }
        XCTAssertEqual(w.tensors.count, before - 1)
        let path = try write(w, "missing-tensor")
        XCTAssertEqual(loadError(path), .missingTensor(path: path, tensor: "blk.1.ffn_up.weight"))
    }

    func testMissingNormTensor() throws {
        var w = Self.baseWriter
        w.tensors.removeAll { $0.name == "output_norm.weight" }
        let path = try write(w, "missing-norm")
        XCTAssertEqual(loadError(path), .missingTensor(path: path, tensor: "output_norm.weight"))
    }

    func testWrongTensorShape() throws {
        // attn_k must be [dim, kvDim] = [256, 128]; make it [256, 256] (a full-size matrix).
        var w = Self.baseWriter
        let i = try XCTUnwrap(w.tensors.firstIndex { $0.name == "blk.0.attn_k.weight" })
        w.tensors[i] = .init(name: "blk.0.attn_k.weight", dims: [256, 256], floats: [Float](repeating: 0.01, count: 256 * 256))
        let path = try write(w, "wrong-shape")
        guard case let .badTensorShape(p, tensor, reason)? = loadError(path) else {
            return XCTFail("expected badTensorShape")
        }
        XCTAssertEqual(p, path)
        XCTAssertEqual(tensor, "blk.0.attn_k.weight")
        XCTAssertTrue(reason.contains("[256, 128]"), reason)
    }

    func testWrongNormLength() throws {
        var w = Self.baseWriter
        let i = try XCTUnwrap(w.tensors.firstIndex { $0.name == "blk.1.ffn_norm.weight" })
        w.tensors[i] = .init(name: "blk.1.ffn_norm.weight", dims: [255], floats: [Float](repeating: 1, count: 255))
        let path = try write(w, "wrong-norm")
        guard case let .badTensorShape(p, tensor, _)? = loadError(path) else { return XCTFail("expected badTensorShape") }
        XCTAssertEqual(p, path)
        XCTAssertEqual(tensor, "blk.1.ffn_norm.weight")
    }

    func testHeadCountNotDivisibleByKVHeads() throws {
        var w = Self.baseWriter
        w.set("llama.attention.head_count_kv", .uint(3))
        let path = try write(w, "bad-kv-heads")
        guard case let .invalidHyperparameter(p, key, _)? = loadError(path) else {
            return XCTFail("expected invalidHyperparameter")
        }
        XCTAssertEqual(p, path)
        XCTAssertEqual(key, "llama.attention.head_count_kv")
    }

    func testMissingBlockCount() throws {
        var w = Self.baseWriter
        w.metadata.removeAll { $0.0 == "llama.block_count" }
        let path = try write(w, "no-block-count")
        XCTAssertEqual(loadError(path), .missingKey(path: path, key: "llama.block_count"))
    }

    func testZeroBlockCount() throws {
        var w = Self.baseWriter
        w.set("llama.block_count", .uint(0))
        let path = try write(w, "zero-block-count")
        guard case let .invalidHyperparameter(p, key, _)? = loadError(path) else {
            return XCTFail("expected invalidHyperparameter")
        }
        XCTAssertEqual(p, path)
        XCTAssertEqual(key, "llama.block_count")
    }

    func testPromptLongerThanContext() throws {
        let m = try LlamaModel(gguf: GGUFFile(path: write(Self.baseWriter, "context")))
        XCTAssertEqual(m.config.contextLength, 256)
        let cache = KVCache(config: m.config, maxPositions: 1000)
        XCTAssertEqual(cache.maxPositions, 256, "a cache never exceeds the model's context")
        let ids = (0..<257).map { $0 % 320 }
        XCTAssertThrowsError(try m.prefill(ids, cache: cache, workspace: Workspace())) { error in
            XCTAssertEqual(error as? EngineError, .contextOverflow(needed: 257, limit: 256))
        }
        XCTAssertEqual(cache.count, 0)
        // Exactly the context fits.
        let logits = try m.prefill(Array(ids[..<256]), cache: cache, workspace: Workspace())
        XCTAssertEqual(logits.count, 320)
        XCTAssertEqual(cache.remaining, 0)
    }

    func testSmallerContextFromMetadata() throws {
        var w = Self.baseWriter
        w.set("llama.context_length", .uint(16))
        let m = try LlamaModel(gguf: GGUFFile(path: write(w, "context16")))
        XCTAssertEqual(m.config.contextLength, 16)
        let cache = KVCache(config: m.config)
        XCTAssertEqual(cache.maxPositions, 16)
        XCTAssertThrowsError(try m.prefill(Array(0..<17), cache: cache, workspace: Workspace())) { error in
            XCTAssertEqual(error as? EngineError, .contextOverflow(needed: 17, limit: 16))
        }
    }

    func testTokenIdOutOfRange() throws {
        let m = try LlamaModel(gguf: GGUFFile(path: write(Self.baseWriter, "tokens")))
        let ws = Workspace()
        for bad in [320, 100_000, -1] {
            let cache = KVCache(config: m.config)
            XCTAssertThrowsError(try m.prefill([5, bad, 7], cache: cache, workspace: ws)) { error in
                XCTAssertEqual(error as? EngineError, .tokenOutOfRange(token: bad, vocabularySize: 320))
                XCTAssertTrue("\(error)".contains("\(bad)"))
            }
            XCTAssertEqual(cache.count, 0, "a refused input leaves the cache as it was")
        }
        // The last id is valid.
        XCTAssertEqual(try m.prefill([319], cache: KVCache(config: m.config), workspace: ws).count, 320)
    }

    func testEmptyInput() throws {
        let m = try LlamaModel(gguf: GGUFFile(path: write(Self.baseWriter, "empty")))
        XCTAssertThrowsError(try m.prefill([], cache: KVCache(config: m.config), workspace: Workspace())) { error in
            XCTAssertEqual(error as? EngineError, .emptyInput)
        }
    }
}
