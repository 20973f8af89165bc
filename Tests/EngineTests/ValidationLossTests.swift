import Foundation
import XCTest
import ModelCore
import Training

/// The held-out share of the training set and its loss, measured after every epoch without gradients.
final class ValidationLossTests: XCTestCase {
    func tinyModel() throws -> (TrainableModel, URL) {
        let dir = try TinyModel.temporaryDirectory("validation")
        let url = dir.appendingPathComponent("tiny.gguf")
        try TinyModel.writer(TinyModel.Spec.allF32(arch: "llama")).write(to: url)
        return (TrainableModel(base: try LlamaModel(gguf: GGUFFile(path: url.path))), dir)
    }

    func examples(_ n: Int, vocab: Int) -> [TrainingExample] {
        (0..<n).map { i in
            var rng = SeededRandom(seed: UInt64(100 + i))
            let tokens = (0..<12).map { _ in Int(rng.next() % UInt64(vocab)) }
            return TrainingExample(tokens: tokens, targets: (0..<12).map { t in t >= 6 && t < 11 ? tokens[t + 1] : -1 })
        }
    }

    /// The loss-only pass is the training pass's forward half: the same loss, and dropout (a training-time
    /// regulariser) left out, so it does not depend on a seed.
    func testLossWithoutGradientsIsTheTrainingLossWithoutDropout() throws {
        let (m, dir) = try tinyModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ex = examples(1, vocab: m.config.vocabularySize)[0]
        let lora = LoRAParameters(config: LoRAConfig(rank: 4, alpha: 8), modelConfig: m.config)
        lora.initialise(seed: 3)
        for i in lora.values.indices { lora.values[i] += 0.01 * Float(i % 7) - 0.03 }
        var grads = [Float](repeating: 0, count: lora.count)
        let trained = try grads.withUnsafeMutableBufferPointer {
            try m.lossAndGradients(tokens: ex.tokens, targets: ex.targets, lora: lora, grads: $0.baseAddress!, lossScale: 1)
        }
        let measured = try m.loss(tokens: ex.tokens, targets: ex.targets, lora: lora)
        XCTAssertEqual(measured.count, ex.labelledCount)
        XCTAssertEqual(measured.loss, trained.loss, accuracy: 1e-9)

        let dropped = LoRAParameters(config: LoRAConfig(rank: 4, alpha: 8, dropout: 0.5), modelConfig: m.config)
        dropped.values = lora.values
        let withDropout = try grads.withUnsafeMutableBufferPointer {
            try m.lossAndGradients(tokens: ex.tokens, targets: ex.targets, lora: dropped, grads: $0.baseAddress!,
                                   lossScale: 1, dropoutSeed: 9)
        }
        XCTAssertNotEqual(withDropout.loss, trained.loss, "dropout 0.5 changed nothing in the training pass")
        XCTAssertEqual(try m.loss(tokens: ex.tokens, targets: ex.targets, lora: dropped).loss, measured.loss, accuracy: 1e-9)
    }

    func testTheHeldOutSetFollowsTheSeedAndHoldsAtLeastOneExample() throws {
        let a = try Trainer.heldOutIndices(count: 40, share: 0.1, seed: 1)
        XCTAssertEqual(a.count, 4)
        XCTAssertEqual(try Trainer.heldOutIndices(count: 40, share: 0.1, seed: 1), a)
        XCTAssertNotEqual(try Trainer.heldOutIndices(count: 40, share: 0.1, seed: 2), a)
        XCTAssertEqual(try Trainer.heldOutIndices(count: 3, share: 0.1, seed: 1).count, 1, "at least one example")
        XCTAssertEqual(try Trainer.heldOutIndices(count: 40, share: 0, seed: 1), [])
        XCTAssertThrowsError(try Trainer.heldOutIndices(count: 1, share: 0.1, seed: 1)) { error in
            XCTAssertEqual("\(error)", "--val-split 0.1 would hold out all 1 example and leave none to train on; "
                + "give more data or --val-split 0.")
        }
        var o = TrainingOptions()
        o.validationShare = 0.6
        XCTAssertThrowsError(try o.validate()) { error in
            XCTAssertEqual("\(error)", "--val-split must be between 0 and 0.5 (a share of the examples; got 0.6).")
        }
    }

    /// Adapters trained before the held-out set existed stay reproducible: with share 0 the trainer sees every
    /// example in the file's order, and options stored without the field read as share 0.
    func testShareZeroTrainsOnTheDataAsBefore() throws {
        let (m, dir) = try tinyModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = examples(10, vocab: m.config.vocabularySize)
        var o = TrainingOptions()
        o.validationShare = 0
        let t = try Trainer(model: m, examples: data, options: o, outputDirectory: dir.appendingPathComponent("out"),
                            baseModelName: "tiny")
        XCTAssertEqual(t.examples, data)
        XCTAssertEqual(t.validationExamples, [])
        var stored = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(TrainingOptions())) as? [String: Any])
        stored["validationShare"] = nil
        let old = try JSONDecoder().decode(TrainingOptions.self, from: JSONSerialization.data(withJSONObject: stored))
        XCTAssertNil(old.validationShare)
        // Its checkpoint resumes with share 0 (the Jobs screen passes --val-split 0 for it), not with another share.
        var none = old
        none.validationShare = 0
        XCTAssertTrue(old.resumes(as: none))
        none.validationShare = 0.1
        XCTAssertFalse(old.resumes(as: none))
        XCTAssertEqual(try Trainer(model: m, examples: data, options: old, outputDirectory: dir, baseModelName: "tiny").examples, data)
    }

    func testEachEpochLogsTheHeldOutLoss() throws {
        let (m, dir) = try tinyModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = examples(10, vocab: m.config.vocabularySize)
        var o = TrainingOptions()
        o.epochs = 2
        o.validationShare = 0.2
        o.learningRate = 1e-2
        o.lora = LoRAConfig(rank: 4, alpha: 8)
        let t = try Trainer(model: m, examples: data, options: o, outputDirectory: dir.appendingPathComponent("out"),
                            baseModelName: "tiny")
        XCTAssertEqual(t.examples.count, 8)
        XCTAssertEqual(t.validationExamples.count, 2)
        XCTAssertTrue(t.validationExamples.allSatisfy { !t.examples.contains($0) })
        var validated: [(Int, Double, Int)] = []
        var started = 0
        let summary = try t.run(resume: false) { event in
            if case let .validated(epoch, loss, n) = event { validated.append((epoch, loss, n)) }
            if case let .started(_, _, n, _) = event { started = n }
        }
        XCTAssertEqual(started, 8)
        XCTAssertEqual(validated.map(\.0), [1, 2])
        XCTAssertEqual(validated.map(\.2), [2, 2])
        XCTAssertEqual(summary.validationLosses, validated.map(\.1))
        // The last one is the finished adapter's loss on the held-out examples, as measured here again.
        let lora = LoRAParameters(config: o.lora, modelConfig: m.config)
        lora.values = try Checkpoint.read(from: t.checkpointURL).lora
        var sum = 0.0, count = 0
        for ex in t.validationExamples {
            let r = try m.loss(tokens: ex.tokens, targets: ex.targets, lora: lora)
            sum += r.loss
            count += r.count
        }
        XCTAssertEqual(validated.last!.1, sum / Double(count), accuracy: 1e-9)
        let json = TrainingEvent.validated(epoch: 2, loss: 1.5, examples: 2).jsonObject
        XCTAssertEqual(json["event"] as? String, "validation")
        XCTAssertEqual(json["val_loss"] as? Double, 1.5)
    }
}
