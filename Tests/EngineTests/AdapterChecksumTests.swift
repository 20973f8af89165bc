import Foundation
import XCTest
import ModelCore
import Training

/// Adapters carry a SHA-256 of their values, checked when read; adapters without one (older hellotune, PEFT,
/// llama.cpp) still read, with every value checked finite; a lora_alpha that overflows is refused.
final class AdapterChecksumTests: XCTestCase {
    var dir: URL!
    var config: ModelConfig!

    override func setUpWithError() throws {
        dir = try TinyModel.temporaryDirectory("adapter-checksum")
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        w.set("llama.block_count", .uint(2))
        w.set("llama.embedding_length", .uint(32))
        w.set("llama.feed_forward_length", .uint(48))
        w.set("llama.attention.head_count", .uint(4))
        w.set("llama.attention.head_count_kv", .uint(2))
        w.tensors.append(.init(name: "token_embd.weight", dims: [32, 8], floats: [Float](repeating: 0.5, count: 32 * 8)))
        let url = dir.appendingPathComponent("model.gguf")
        try w.write(to: url)
        config = try ModelConfig(gguf: GGUFFile(path: url.path))
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func lora(seed: Float = 0.01) -> LoRAParameters {
        let l = LoRAParameters(config: LoRAConfig(rank: 2, alpha: 4, dropout: 0, targets: [.q, .down]), modelConfig: config)
        for i in l.values.indices { l.values[i] = seed * Float(i % 97 - 48) }
        return l
    }

    /// The offset of the first tensor value in a safetensors file (after the 8-byte length and the header).
    func dataStart(_ url: URL) throws -> Int {
        let data = try Data(contentsOf: url)
        let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        return 8 + length
    }

    func flipByte(at offset: Int, of url: URL) throws {
        var data = try Data(contentsOf: url)
        data[offset] ^= 0x01
        try data.write(to: url)
    }

    func testAChangedValueInEitherFormatIsRefused() throws {
        let out = dir.appendingPathComponent("adapter")
        try AdapterIO.write(lora(), modelConfig: config, baseModelName: "m", to: out)
        XCTAssertNoThrow(try AdapterIO.readPEFT(from: out, modelConfig: config))
        XCTAssertNoThrow(try AdapterIO.readGGUF(from: out.appendingPathComponent(AdapterIO.ggufFile), modelConfig: config))

        let weights = out.appendingPathComponent(AdapterIO.peftWeightsFile)
        try flipByte(at: try dataStart(weights) + 41, of: weights)
        XCTAssertThrowsError(try AdapterIO.readPEFT(from: out, modelConfig: config)) { error in
            XCTAssertEqual(error as? AdapterError, .checksumMismatch(path: weights.path))
            XCTAssertTrue("\(error)".contains("is damaged"), "\(error)")
        }
        let gguf = out.appendingPathComponent(AdapterIO.ggufFile)
        let size = try Data(contentsOf: gguf).count
        try flipByte(at: size - 6, of: gguf)  // inside the last tensor's values
        XCTAssertThrowsError(try AdapterIO.readGGUF(from: gguf, modelConfig: config)) { error in
            XCTAssertEqual(error as? AdapterError, .checksumMismatch(path: gguf.path))
        }
    }

    /// An adapter written before checksums (or by PEFT) has none: it reads as before.
    func rewriteWithoutChecksum(_ out: URL, change: (inout [Float], String) -> Void = { _, _ in }) throws {
        let weights = out.appendingPathComponent(AdapterIO.peftWeightsFile)
        let file = try SafetensorsFile(path: weights.path)
        XCTAssertNotNil(file.metadata[AdapterIO.checksumKey])
        var tensors: [SafetensorsTensor] = []
        for name in file.tensorNames {
            var values = try file.floats(name)
            change(&values, name)
            tensors.append(SafetensorsTensor(name: name, shape: try file.info(name).shape, values: values))
        }
        try SafetensorsWriter.write(tensors, metadata: ["format": "pt"], to: weights)
    }

    func testAnAdapterWithoutAChecksumStillReads() throws {
        let original = lora()
        let out = dir.appendingPathComponent("old")
        try AdapterIO.writePEFT(original, modelConfig: config, baseModelName: "m", to: out)
        try rewriteWithoutChecksum(out)
        let back = try AdapterIO.readPEFT(from: out, modelConfig: config)
        XCTAssertEqual(back.values, original.values)
    }

    func testANaNInAnAdapterWithoutAChecksumIsRefusedNamingTheTensor() throws {
        let out = dir.appendingPathComponent("nan")
        try AdapterIO.writePEFT(lora(), modelConfig: config, baseModelName: "m", to: out)
        let target = AdapterIO.peftTensorName(layer: 1, target: .down, b: true)
        try rewriteWithoutChecksum(out) { values, name in if name == target { values[3] = .infinity } }
        XCTAssertThrowsError(try AdapterIO.readPEFT(from: out, modelConfig: config)) { error in
            XCTAssertEqual(error as? AdapterError,
                           .nonFiniteValue(path: out.appendingPathComponent(AdapterIO.peftWeightsFile).path, tensor: target))
        }
    }

    func testAnOverflowingLoraAlphaIsRefused() throws {
        let out = dir.appendingPathComponent("alpha")
        try AdapterIO.writePEFT(lora(), modelConfig: config, baseModelName: "m", to: out)
        let configURL = out.appendingPathComponent(AdapterIO.peftConfigFile)
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any])
        json["lora_alpha"] = 1e308
        try JSONSerialization.data(withJSONObject: json).write(to: configURL)
        XCTAssertThrowsError(try AdapterIO.readPEFT(from: out, modelConfig: config)) { error in
            XCTAssertEqual(error as? AdapterError, .alphaOutOfRange(path: configURL.path, alpha: 1e308))
            XCTAssertTrue("\(error)".contains("lora_alpha 1e+308"), "\(error)")
        }
    }
}
