import Foundation
import XCTest
import ModelCore

/// A NaN or infinity in model weights or in the logits stops the work with an error naming the tensor or the
/// step, instead of a reply of empty text and exit status 0.
final class NonFiniteTests: XCTestCase {
    func testANaNNormIsRefusedAtLoadNamingTheTensor() throws {
        let dir = try TinyModel.temporaryDirectory("nonfinite")
        defer { try? FileManager.default.removeItem(at: dir) }
        var writer = TinyModel.writer(.allF32())
        let index = try XCTUnwrap(writer.tensors.firstIndex { $0.name == "blk.1.ffn_norm.weight" })
        withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { writer.tensors[index].bytes.replaceSubrange(8..<12, with: $0) }
        let url = dir.appendingPathComponent("nan-norm.gguf")
        try writer.write(to: url)
        XCTAssertThrowsError(try LlamaModel(gguf: GGUFFile(path: url.path))) { error in
            XCTAssertEqual(error as? GGUFError, .nonFiniteTensor(path: url.path, tensor: "blk.1.ffn_norm.weight"))
            XCTAssertTrue("\(error)".contains("blk.1.ffn_norm.weight"), "\(error)")
        }
    }

    func testNaNLogitsStopGenerationNamingTheStep() throws {
        let model = try LocalModel(path: TestModel.defaultModelPath(), contextLength: 64)
        // An adapter whose values went NaN in memory (files with NaN are refused when read).
        let lora = LoRAParameters(config: LoRAConfig(rank: 2, alpha: 4, dropout: 0, targets: [.down]), modelConfig: model.model.config)
        for i in lora.values.indices { lora.values[i] = .nan }
        let broken = model.with(adapter: lora)
        let prompt = broken.encode(LocalModel.conversation(system: "Be brief.", user: "Hi."))
        XCTAssertThrowsError(try Generator(model: broken).generate(prompt: prompt, options: GenerationOptions(maxTokens: 4))) { error in
            XCTAssertEqual(error as? EngineError, .nonFiniteLogits(step: 0))
            XCTAssertTrue("\(error)".contains("token 0 of the reply"), "\(error)")
        }
        // The same model without the adapter answers.
        XCTAssertNoThrow(try Generator(model: model).generate(prompt: prompt, options: GenerationOptions(maxTokens: 2)))
    }

    func testTheFiniteCheckSeesEveryPosition() {
        var row = [Float](repeating: 0.25, count: 1031)
        XCTAssertTrue(Generator.allFinite(row))
        for bad in [Float.nan, .infinity, -.infinity] {
            for position in [0, 1, 2, 3, 1027, 1030] {
                row[position] = bad
                XCTAssertFalse(Generator.allFinite(row), "\(bad) at \(position)")
                row[position] = 0.25
            }
        }
        XCTAssertTrue(Generator.allFinite([Float.greatestFiniteMagnitude, -.greatestFiniteMagnitude, 3e38, 3e38]),
                      "large finite logits do not overflow the check")
    }
}
