import Foundation
import XCTest
import ModelCore
import Training

/// The backward pass against finite differences, on tiny float32 models of both architectures.
final class TrainableModelTests: XCTestCase {
    /// A tiny all-F32 model (2 layers, dim 256), loaded for training.
    func tinyModel(_ arch: String) throws -> (TrainableModel, URL) {
        try tinyModel(TinyModel.Spec.allF32(arch: arch))
    }

    func tinyModel(_ spec: TinyModel.Spec, precision: ProductPrecision = .fast) throws -> (TrainableModel, URL) {
        let dir = try TinyModel.temporaryDirectory("train-\(spec.name)")
        let url = dir.appendingPathComponent("tiny.gguf")
        try TinyModel.writer(spec).write(to: url)
        return (TrainableModel(base: try LlamaModel(gguf: GGUFFile(path: url.path)), precision: precision), dir)
    }

    /// The tiny model's shape with the weights in the formats real models ship: every projection type the
    /// integer kernels know, a Q8_0 embedding and a Q6_K output.
    func quantisedSpec(_ arch: String) -> TinyModel.Spec {
        var s = TinyModel.Spec.allF32(arch: arch)
        s.name = "\(arch)-quantised"
        s.embed = "Q8_0"
        s.output = "Q6_K"
        s.layers = [["Q4_K", "Q6_K", "Q8_0", "Q4_1", "Q4_K", "Q4_0", "Q6_K"],
                    ["Q4_1", "Q4_K", "Q4_K", "Q6_K", "Q8_0", "Q4_K", "Q4_K"]]
        return s
    }

    /// A sequence with the second half labelled, as an assistant reply would be.
    func example(_ T: Int, vocab: Int, seed: UInt64) -> TrainingExample {
        var rng = SeededRandom(seed: seed)
        let tokens = (0..<T).map { _ in Int(rng.next() % UInt64(vocab)) }
        let targets = (0..<T).map { t in t >= T / 2 && t + 1 < T ? tokens[t + 1] : -1 }
        return TrainingExample(tokens: tokens, targets: targets)
    }

    func loss(_ m: TrainableModel, _ ex: TrainingExample, _ lora: LoRAParameters) throws -> Double {
        let scratch = [Float](repeating: 0, count: lora.count)
        return try scratch.withUnsafeBufferPointer { buf in
            try m.lossAndGradients(tokens: ex.tokens, targets: ex.targets, lora: lora,
                                   grads: UnsafeMutablePointer(mutating: buf.baseAddress!), lossScale: 1).loss
        }
    }

    func checkGradients(arch: String) throws {
        try checkGradients(TinyModel.Spec.allF32(arch: arch), precision: .float)
    }

    /// Rank-4 LoRA from seed 7, with B seeded too: B starts at zero, which would make every A gradient vanish.
    /// Also returns the random stream, to pick entries from after the B values.
    func seededLoRA(_ m: TrainableModel) -> (lora: LoRAParameters, rng: SeededRandom) {
        let lora = LoRAParameters(config: LoRAConfig(rank: 4, alpha: 8), modelConfig: m.config)
        lora.initialise(seed: 7)
        var rng = SeededRandom(seed: 11)
        for s in lora.slots {
            for i in 0..<(s.outFeatures * 4) { lora.values[s.bOffset + i] = Float(rng.nextUnit() - 0.5) * 0.2 }
        }
        return (lora, rng)
    }

    /// The summed loss of one example, its labelled count and its gradients.
    func gradients(_ m: TrainableModel, _ ex: TrainingExample, _ lora: LoRAParameters) throws -> (Double, Int, [Float]) {
        var grads = [Float](repeating: 0, count: lora.count)
        let (loss, count) = try grads.withUnsafeMutableBufferPointer {
            try m.lossAndGradients(tokens: ex.tokens, targets: ex.targets, lora: lora, grads: $0.baseAddress!, lossScale: 1)
        }
        return (loss, count, grads)
    }

    /// Finite differences of the loss against the analytic gradient, in `.float`: the 8-bit activations and
    /// bf16 products of `.fast` would make the check measure their rounding, not the backward pass's algebra
    /// (`testFastForwardGivesTheFloatGradients` compares the two precisions).
    func checkGradients(_ spec: TinyModel.Spec, precision: ProductPrecision) throws {
        let arch = spec.name
        let (m, dir) = try tinyModel(spec, precision: precision)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (lora, seeded) = seededLoRA(m)
        var rng = seeded
        let ex = example(12, vocab: m.config.vocabularySize, seed: 3)
        let (_, count, grads) = try gradients(m, ex, lora)
        XCTAssertEqual(count, ex.labelledCount)

        let eps: Float = 1e-2
        var checked = 0
        var worst = 0.0
        for s in lora.slots {
            // a few entries of A and of B in every adapted projection of every layer
            for (offset, size) in [(s.aOffset, 4 * s.inFeatures), (s.bOffset, s.outFeatures * 4)] {
                for _ in 0..<3 {
                    let i = offset + Int(rng.next() % UInt64(size))
                    let saved = lora.values[i]
                    lora.values[i] = saved + eps
                    let up = try loss(m, ex, lora)
                    lora.values[i] = saved - eps
                    let down = try loss(m, ex, lora)
                    lora.values[i] = saved
                    let numeric = (up - down) / Double(2 * eps)
                    let analytic = Double(grads[i])
                    // float32 forward passes: the difference quotient carries ~1e-3 of absolute noise
                    let err = abs(numeric - analytic) / (0.05 * max(abs(numeric), abs(analytic)) + 3e-3)
                    worst = max(worst, err)
                    XCTAssertLessThan(err, 1, "\(arch) layer \(s.layer) \(s.target) index \(i - offset): analytic \(analytic), numeric \(numeric)")
                    checked += 1
                }
            }
        }
        XCTAssertEqual(checked, lora.slots.count * 6)
        print("gradient check \(arch): \(checked) entries, worst error \(worst) of the tolerance (5% + 3e-3)")
    }

    func testGradientsMatchFiniteDifferencesLlama() throws { try checkGradients(arch: "llama") }
    func testGradientsMatchFiniteDifferencesQwen2() throws { try checkGradients(arch: "qwen2") }

    /// The backward pass through quantised weights (dequantised a tile at a time, never copied whole).
    func testGradientsMatchFiniteDifferencesOnQuantisedWeights() throws {
        try checkGradients(quantisedSpec("llama"), precision: .float)
        try checkGradients(quantisedSpec("qwen2"), precision: .float)
    }

    /// Training's default forward pass runs the inference kernels (8-bit activations against the quantised
    /// weights): its loss and gradients stay those of the float forward pass, up to that rounding.
    func testFastForwardGivesTheFloatGradients() throws {
        for arch in ["llama", "qwen2"] {
            func run(_ precision: ProductPrecision) throws -> (Double, [Float]) {
                let (m, dir) = try tinyModel(quantisedSpec(arch), precision: precision)
                defer { try? FileManager.default.removeItem(at: dir) }
                let (loss, _, grads) = try gradients(m, example(40, vocab: m.config.vocabularySize, seed: 3), seededLoRA(m).lora)
                return (loss, grads)
            }
            let (fastLoss, fast) = try run(.fast)
            let (floatLoss, exact) = try run(.float)
            XCTAssertEqual(fastLoss, floatLoss, accuracy: 0.01 * floatLoss, arch)
            var dot = 0.0, nf = 0.0, ne = 0.0
            for (a, b) in zip(fast, exact) { dot += Double(a) * Double(b); nf += Double(a * a); ne += Double(b * b) }
            let cosine = dot / (nf * ne).squareRoot()
            XCTAssertGreaterThan(cosine, 0.99, arch)
            print("fast forward \(arch): loss \(fastLoss) against \(floatLoss), gradient cosine \(cosine)")
        }
    }

    func testLossFallsWithinFiveSteps() throws {
        let (m, dir) = try tinyModel("llama")
        defer { try? FileManager.default.removeItem(at: dir) }
        let lora = LoRAParameters(config: LoRAConfig(rank: 8, alpha: 16), modelConfig: m.config)
        lora.initialise(seed: 1)
        var adam = AdamW(parameterCount: lora.count)
        let ex = example(24, vocab: m.config.vocabularySize, seed: 5)
        var losses: [Double] = []
        for _ in 0..<5 {
            var grads = [Float](repeating: 0, count: lora.count)
            let (l, n) = try grads.withUnsafeMutableBufferPointer {
                try m.lossAndGradients(tokens: ex.tokens, targets: ex.targets, lora: lora, grads: $0.baseAddress!,
                                       lossScale: 1 / Float(ex.labelledCount))
            }
            losses.append(l / Double(n))
            grads.withUnsafeBufferPointer { adam.update(&lora.values, grads: $0.baseAddress!, lr: 1e-2) }
        }
        XCTAssertLessThan(losses.last!, losses.first! * 0.9, "losses \(losses)")
        for (a, b) in zip(losses, losses.dropFirst()) { XCTAssertLessThan(b, a, "losses \(losses)") }
    }

    /// The training forward pass (float32, sgemm) and the inference one agree on the loss.
    func testTrainingForwardMatchesInference() throws {
        let (m, dir) = try tinyModel("qwen2")
        defer { try? FileManager.default.removeItem(at: dir) }
        let lora = LoRAParameters(config: LoRAConfig(rank: 4, alpha: 8), modelConfig: m.config)
        lora.initialise(seed: 2)
        var rng = SeededRandom(seed: 4)
        for i in lora.values.indices { lora.values[i] += Float(rng.nextUnit() - 0.5) * 0.02 }
        let T = 10
        let ex = example(T, vocab: m.config.vocabularySize, seed: 9)
        // only the last position is labelled, so the loss is -log p(target | prefix)
        let last = TrainingExample(tokens: ex.tokens, targets: (0..<T).map { $0 == T - 2 ? ex.tokens[T - 1] : -1 })
        let trainLoss = try loss(m, last, lora)
        let inference = m.base.with(adapter: lora)
        let logits = try inference.prefill(Array(ex.tokens.prefix(T - 1)), cache: KVCache(config: m.config), workspace: Workspace())
        let mx = logits.max()!
        let lse = Double(mx) + log(logits.reduce(0.0) { $0 + exp(Double($1 - mx)) })
        let inferenceLoss = lse - Double(logits[ex.tokens[T - 1]])
        XCTAssertEqual(trainLoss, inferenceLoss, accuracy: 1e-3)
    }
}
