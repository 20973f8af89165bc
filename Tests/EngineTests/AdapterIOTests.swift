import Foundation
import XCTest
import ModelCore

/// LoRA adapter export/import: PEFT safetensors + adapter_config.json and llama.cpp GGUF adapters.
final class AdapterIOTests: XCTestCase {
    // MARK: fixtures

    /// A tiny model's config: only the metadata ModelConfig(gguf:) reads, and token_embd.weight.
    private func adapterTestModel(arch: String = "llama", layers: Int = 2, dim: Int = 32, heads: Int = 4,
                                  kvHeads: Int = 2, ffn: Int = 48, in dir: URL) throws -> ModelConfig {
        var w = GGUFWriter()
        w.set("general.architecture", .string(arch))
        w.set("\(arch).block_count", .uint(UInt64(layers)))
        w.set("\(arch).embedding_length", .uint(UInt64(dim)))
        w.set("\(arch).feed_forward_length", .uint(UInt64(ffn)))
        w.set("\(arch).attention.head_count", .uint(UInt64(heads)))
        w.set("\(arch).attention.head_count_kv", .uint(UInt64(kvHeads)))
        w.tensors.append(.init(name: "token_embd.weight", dims: [dim, 8], floats: [Float](repeating: 0.5, count: dim * 8)))
        let url = dir.appendingPathComponent("model-\(arch)-\(layers)-\(dim).gguf")
        try w.write(to: url)
        return try ModelConfig(gguf: GGUFFile(path: url.path))
    }

    private func adapterTestDir(_ tag: String = "adapter") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("hellotune-adapterio-\(tag)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock {
            try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
            try? FileManager.default.removeItem(at: url)
        }
        return url
    }

    /// LoRA parameters with every value random (B too, so the row order matters), including
    /// values that are not representable in F16 so any rounding would show.
    private func randomLoRA(_ c: ModelConfig, rank: Int = 4, alpha: Float = 8, dropout: Float = 0.05,
                            targets: [LoRATarget] = LoRATarget.allCases, seed: UInt64 = 7) -> LoRAParameters {
        let lora = LoRAParameters(config: LoRAConfig(rank: rank, alpha: alpha, dropout: dropout, targets: targets), modelConfig: c)
        var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
        for i in 0..<lora.values.count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let u = Float(state >> 40) / Float(1 << 24)
            lora.values[i] = (u * 2 - 1) * 0.7
        }
        return lora
    }

    private func assertBitwiseEqual(_ a: LoRAParameters, _ b: LoRAParameters, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.config, b.config, file: file, line: line)
        XCTAssertEqual(a.slots, b.slots, file: file, line: line)
        XCTAssertEqual(a.values.count, b.values.count, file: file, line: line)
        let differing = zip(a.values, b.values).filter { $0.bitPattern != $1.bitPattern }.count
        XCTAssertEqual(differing, 0, "values differ", file: file, line: line)
    }

    private func row(_ lora: LoRAParameters, _ s: LoRAParameters.Slot, _ r: Int) -> [Float] {
        let rank = lora.config.rank
        return Array(lora.values[s.bOffset + r * rank ..< s.bOffset + (r + 1) * rank])
    }

    private func expectError<E: Error & Equatable>(_ expected: E, file: StaticString = #filePath, line: UInt = #line,
                                                   _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertEqual(error as? E, expected, "got \(error)", file: file, line: line)
            XCTAssertFalse("\(error)".isEmpty, file: file, line: line)
        }
    }

    // MARK: round trips

    func testPEFTRoundTripLlamaIsBitExact() throws {
        let dir = try adapterTestDir()
        let c = try adapterTestModel(in: dir)
        XCTAssertEqual(c.ropeStyle, .adjacent)
        let lora = randomLoRA(c, rank: 4, alpha: 8, dropout: 0.05)
        let out = dir.appendingPathComponent("peft")
        try AdapterIO.writePEFT(lora, modelConfig: c, baseModelName: "HuggingFaceTB/SmolLM2-135M-Instruct", to: out)
        let back = try AdapterIO.readPEFT(from: out, modelConfig: c)
        assertBitwiseEqual(lora, back)
    }

    func testPEFTRoundTripQwen2IsBitExactAndNotPermuted() throws {
        let dir = try adapterTestDir()
        let c = try adapterTestModel(arch: "qwen2", in: dir)
        XCTAssertEqual(c.ropeStyle, .halves)
        let lora = randomLoRA(c, rank: 3, alpha: 6, dropout: 0, targets: [.q, .k, .down])
        let out = dir.appendingPathComponent("peft")
        try AdapterIO.writePEFT(lora, modelConfig: c, baseModelName: "Qwen/Qwen2.5-0.5B-Instruct", to: out)
        assertBitwiseEqual(lora, try AdapterIO.readPEFT(from: out, modelConfig: c))
        // qwen2 GGUFs are not permuted: the exported B is the internal B.
        let st = try SafetensorsFile(path: out.appendingPathComponent(AdapterIO.peftWeightsFile).path)
        let s = try XCTUnwrap(lora.slot(layer: 1, target: .q))
        let exported = try st.floats(AdapterIO.peftTensorName(layer: 1, target: .q, b: true))
        XCTAssertEqual(exported, Array(lora.values[s.bOffset ..< s.bOffset + s.outFeatures * 3]))
    }

    func testGGUFRoundTripIsBitExact() throws {
        let dir = try adapterTestDir()
        let c = try adapterTestModel(layers: 3, in: dir)
        let lora = randomLoRA(c, rank: 5, alpha: 12.5, dropout: 0, targets: [.q, .v, .o, .down])
        let url = dir.appendingPathComponent("a.gguf")
        try AdapterIO.writeGGUF(lora, modelConfig: c, to: url)
        let back = try AdapterIO.readGGUF(from: url, modelConfig: c)
        assertBitwiseEqual(lora, back)  // rank from shapes, targets from the tensors present

        let g = try GGUFFile(path: url.path)
        XCTAssertEqual(g.metadata["general.architecture"], .string("llama"))
        XCTAssertEqual(g.metadata["general.type"], .string("adapter"))
        XCTAssertEqual(g.metadata["adapter.type"], .string("lora"))
        XCTAssertEqual(g.metadata["adapter.lora.alpha"], .float(12.5))
        XCTAssertEqual(g.tensorNames.count, 3 * 4 * 2)
        let a = try g.tensor("blk.2.attn_q.weight.lora_a")
        XCTAssertEqual(a.dims, [c.dim, 5])
        XCTAssertEqual(a.type, .f32)
        XCTAssertEqual(try g.tensor("blk.2.attn_q.weight.lora_b").dims, [5, c.qDim])
        XCTAssertEqual(try g.tensor("blk.0.ffn_down.weight.lora_a").dims, [c.ffnDim, 5])
        XCTAssertEqual(try g.tensor("blk.0.ffn_down.weight.lora_b").dims, [5, c.dim])
        XCTAssertNil(g.tensors["blk.0.attn_k.weight.lora_a"])

        // alpha is stored as GGUF type 6 (float32), which llama.cpp's get_kv_f32 requires.
        let bytes = [UInt8](try Data(contentsOf: url))
        let key = Array("adapter.lora.alpha".utf8)
        let at = try XCTUnwrap((0...(bytes.count - key.count)).first { Array(bytes[$0 ..< $0 + key.count]) == key })
        XCTAssertEqual(bytes[at + key.count ..< at + key.count + 4], [6, 0, 0, 0])
    }

    func testGGUFIsInGGUFRowOrderAndPEFTInHuggingFaceOrder() throws {
        let dir = try adapterTestDir()
        let c = try adapterTestModel(in: dir)  // 4 heads (2 kv) of 8
        XCTAssertEqual(c.headDim, 8)
        let lora = randomLoRA(c, rank: 2)
        try AdapterIO.write(lora, modelConfig: c, baseModelName: "m", to: dir.appendingPathComponent("both"))
        let st = try SafetensorsFile(path: dir.appendingPathComponent("both/\(AdapterIO.peftWeightsFile)").path)
        let g = try GGUFFile(path: dir.appendingPathComponent("both/\(AdapterIO.ggufFile)").path)

        let q = try XCTUnwrap(lora.slot(layer: 1, target: .q))
        let hfQ = try st.floats(AdapterIO.peftTensorName(layer: 1, target: .q, b: true))
        func hfRow(_ m: [Float], _ r: Int) -> [Float] { Array(m[r * 2 ..< r * 2 + 2]) }
        // GGUF row h*8 + 2i + e is HF row h*8 + 4e + i:
        XCTAssertEqual(hfRow(hfQ, 0), row(lora, q, 0))        // h0 i0 e0
        XCTAssertEqual(hfRow(hfQ, 1), row(lora, q, 2))        // h0 i1 e0
        XCTAssertEqual(hfRow(hfQ, 4), row(lora, q, 1))        // h0 i0 e1
        XCTAssertEqual(hfRow(hfQ, 7), row(lora, q, 7))        // h0 i3 e1
        XCTAssertEqual(hfRow(hfQ, 8 + 5), row(lora, q, 8 + 3))  // h1 i1 e1
        XCTAssertEqual(hfRow(hfQ, 24 + 2), row(lora, q, 24 + 4))  // h3 i2 e0
        XCTAssertNotEqual(hfQ, Array(lora.values[q.bOffset ..< q.bOffset + q.outFeatures * 2]))

        let k = try XCTUnwrap(lora.slot(layer: 0, target: .k))  // kv heads
        let hfK = try st.floats(AdapterIO.peftTensorName(layer: 0, target: .k, b: true))
        XCTAssertEqual(hfK.count, 16 * 2)
        XCTAssertEqual(hfRow(hfK, 8 + 6), row(lora, k, 8 + 5))  // h1 i2 e1

        // v, o and every A are not permuted.
        let v = try XCTUnwrap(lora.slot(layer: 0, target: .v))
        XCTAssertEqual(try st.floats(AdapterIO.peftTensorName(layer: 0, target: .v, b: true)),
                       Array(lora.values[v.bOffset ..< v.bOffset + v.outFeatures * 2]))
        XCTAssertEqual(try st.floats(AdapterIO.peftTensorName(layer: 1, target: .q, b: false)),
                       Array(lora.values[q.aOffset ..< q.aOffset + 2 * q.inFeatures]))

        // The GGUF adapter keeps the internal (GGUF) order, as llama.cpp's converter writes it.
        XCTAssertEqual(Dequantize.tensor(try g.tensor("blk.1.attn_q.weight.lora_b")),
                       Array(lora.values[q.bOffset ..< q.bOffset + q.outFeatures * 2]))
        XCTAssertEqual(Dequantize.tensor(try g.tensor("blk.1.attn_q.weight.lora_a")),
                       Array(lora.values[q.aOffset ..< q.aOffset + 2 * q.inFeatures]))
    }

    func testWriteBothAndReadPrefersPEFTThenFallsBackToGGUF() throws {
        let dir = try adapterTestDir()
        let c = try adapterTestModel(in: dir)
        let lora = randomLoRA(c, rank: 4, alpha: 16, dropout: 0.1)
        let out = dir.appendingPathComponent("nested/adapter")  // created
        try AdapterIO.write(lora, modelConfig: c, baseModelName: "base", to: out)
        for f in [AdapterIO.peftWeightsFile, AdapterIO.peftConfigFile, AdapterIO.ggufFile] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), f)
        }
        assertBitwiseEqual(lora, try AdapterIO.read(from: out, modelConfig: c))  // PEFT keeps dropout

        try FileManager.default.removeItem(at: out.appendingPathComponent(AdapterIO.peftConfigFile))
        let fromGGUF = try AdapterIO.read(from: out, modelConfig: c)
        XCTAssertEqual(fromGGUF.config, LoRAConfig(rank: 4, alpha: 16, dropout: 0, targets: LoRATarget.allCases))
        XCTAssertEqual(fromGGUF.values.map(\.bitPattern), lora.values.map(\.bitPattern))

        try FileManager.default.removeItem(at: out.appendingPathComponent(AdapterIO.ggufFile))
        expectError(AdapterError.missingFile(path: out.appendingPathComponent(AdapterIO.peftConfigFile).path)) {
            _ = try AdapterIO.read(from: out, modelConfig: c)
        }
        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        expectError(AdapterError.noAdapter(directory: empty.path)) { _ = try AdapterIO.read(from: empty, modelConfig: c) }
    }

    // MARK: file contents

    func testSafetensorsHeaderNamesShapesAndConfig() throws {
        let dir = try adapterTestDir()
        let c = try adapterTestModel(layers: 2, in: dir)
        let lora = randomLoRA(c, rank: 4, alpha: 8, dropout: 0.05)
        try AdapterIO.writePEFT(lora, modelConfig: c, baseModelName: "HuggingFaceTB/SmolLM2-135M-Instruct", to: dir)
        let path = dir.appendingPathComponent(AdapterIO.peftWeightsFile).path
        let raw = try Data(contentsOf: URL(fileURLWithPath: path))
        let n = raw.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        XCTAssertEqual(n % 8, 0, "header padded to a multiple of 8")
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: raw.subdata(in: 8 ..< 8 + n)) as? [String: Any])
        XCTAssertEqual(header["__metadata__"] as? [String: String], ["format": "pt", AdapterIO.checksumKey: lora.valuesSHA256])
        XCTAssertEqual(header.count, 1 + 2 * 7 * 2)

        let expected: [(String, [Int])] = [
            ("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", [4, 32]),
            ("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", [32, 4]),
            ("base_model.model.model.layers.1.self_attn.k_proj.lora_A.weight", [4, 32]),
            ("base_model.model.model.layers.1.self_attn.k_proj.lora_B.weight", [16, 4]),
            ("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight", [16, 4]),
            ("base_model.model.model.layers.0.self_attn.o_proj.lora_A.weight", [4, 32]),
            ("base_model.model.model.layers.0.mlp.gate_proj.lora_B.weight", [48, 4]),
            ("base_model.model.model.layers.1.mlp.up_proj.lora_A.weight", [4, 32]),
            ("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight", [4, 48]),
            ("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight", [32, 4]),
        ]
        for (name, shape) in expected {
            let entry = try XCTUnwrap(header[name] as? [String: Any], name)
            XCTAssertEqual(entry["dtype"] as? String, "F32", name)
            XCTAssertEqual(entry["shape"] as? [Int], shape, name)
        }
        let st = try SafetensorsFile(path: path)
        XCTAssertEqual(st.tensorNames.count, 28)
        XCTAssertEqual(st.tensors[expected[0].0]?.shape, [4, 32])
        XCTAssertEqual(st.tensorNames.first, expected[0].0, "written in layer, projection order")

        let config = try XCTUnwrap(JSONSerialization.jsonObject(
            with: Data(contentsOf: dir.appendingPathComponent(AdapterIO.peftConfigFile))) as? [String: Any])
        XCTAssertEqual(config["peft_type"] as? String, "LORA")
        XCTAssertEqual(config["task_type"] as? String, "CAUSAL_LM")
        XCTAssertEqual(config["r"] as? Int, 4)
        XCTAssertEqual(config["lora_alpha"] as? Int, 8)
        XCTAssertEqual((config["lora_dropout"] as? Double).map(Float.init), 0.05)
        XCTAssertEqual(config["target_modules"] as? [String], ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
        XCTAssertEqual(config["bias"] as? String, "none")
        XCTAssertEqual(config["base_model_name_or_path"] as? String, "HuggingFaceTB/SmolLM2-135M-Instruct")
        XCTAssertEqual(config["fan_in_fan_out"] as? Bool, false)
        XCTAssertEqual(config["inference_mode"] as? Bool, true)
        XCTAssertEqual(config["use_rslora"] as? Bool, false)
        XCTAssertEqual(config["use_dora"] as? Bool, false)
        XCTAssertTrue(config["modules_to_save"] is NSNull)
    }

    func testSafetensorsReadsF16AndBF16() throws {
        let dir = try adapterTestDir()
        // Hand-built file: an F16 [2, 2] and a BF16 [3] tensor, header unpadded (readers must not care).
        let header = #"{"h":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[8,14]}}"#
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes += $0 }
        bytes += Array(header.utf8)
        for h: UInt16 in [0x3C00, 0xC000, 0x3555, 0x0001] { withUnsafeBytes(of: h.littleEndian) { bytes += $0 } }
        for b: UInt16 in [0x3F80, 0xBF00, 0x4049] { withUnsafeBytes(of: b.littleEndian) { bytes += $0 } }
        let url = dir.appendingPathComponent("mixed.safetensors")
        try Data(bytes).write(to: url)
        let st = try SafetensorsFile(path: url.path)
        XCTAssertEqual(st.tensorNames, ["h", "b"])
        XCTAssertEqual(st.tensors["h"]?.dtype, .f16)
        XCTAssertEqual(try st.floats("h"), [1, -2, halfToFloat(0x3555), 0x1p-24])
        XCTAssertEqual(try st.floats("b"), [1, -0.5, Float(bitPattern: 0x4049_0000)])
        expectError(SafetensorsError.missingTensor(path: url.path, tensor: "x")) { _ = try st.floats("x") }
    }

    // MARK: corrupt files

    /// Writes a llama adapter into a fresh folder and returns (folder, model config).
    private func writtenAdapter() throws -> (URL, ModelConfig, LoRAParameters) {
        let dir = try adapterTestDir()
        let c = try adapterTestModel(in: dir)
        let lora = randomLoRA(c)
        let out = dir.appendingPathComponent("adapter")
        try AdapterIO.write(lora, modelConfig: c, baseModelName: "base", to: out)
        return (out, c, lora)
    }

    func testTruncatedSafetensors() throws {
        let (out, c, _) = try writtenAdapter()
        let url = out.appendingPathComponent(AdapterIO.peftWeightsFile)
        let data = try Data(contentsOf: url)
        try data.prefix(data.count - 10).write(to: url)
        XCTAssertThrowsError(try AdapterIO.readPEFT(from: out, modelConfig: c)) { error in
            guard case let .outOfBounds(path, tensor, _, end, dataSize)? = error as? SafetensorsError else {
                return XCTFail("got \(error)")
            }
            XCTAssertEqual(path, url.path)
            XCTAssertEqual(tensor, AdapterIO.peftTensorName(layer: 1, target: .down, b: true))  // the last one
            XCTAssertGreaterThan(end, dataSize)
        }
        try data.prefix(5).write(to: url)
        expectError(SafetensorsError.tooSmall(path: url.path, size: 5)) { _ = try AdapterIO.readPEFT(from: out, modelConfig: c) }
    }

    func testHeaderLengthBeyondFile() throws {
        let (out, c, _) = try writtenAdapter()
        let url = out.appendingPathComponent(AdapterIO.peftWeightsFile)
        var data = try Data(contentsOf: url)
        let huge = UInt64(data.count) + 1
        withUnsafeBytes(of: huge.littleEndian) { data.replaceSubrange(0 ..< 8, with: $0) }
        try data.write(to: url)
        expectError(SafetensorsError.headerOutOfBounds(path: url.path, headerLength: huge, fileSize: data.count)) {
            _ = try AdapterIO.readPEFT(from: out, modelConfig: c)
        }
    }

    func testInconsistentHeaderEntries() throws {
        let dir = try adapterTestDir()
        func file(_ header: String, dataBytes: Int) throws -> String {
            var bytes: [UInt8] = []
            withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes += $0 }
            bytes += Array(header.utf8) + [UInt8](repeating: 0, count: dataBytes)
            let url = dir.appendingPathComponent("h\(UUID().uuidString).safetensors")
            try Data(bytes).write(to: url)
            return url.path
        }
        var p = try file(#"{"t":{"dtype":"F32","shape":[3,2],"data_offsets":[0,20]}}"#, dataBytes: 24)
        expectError(SafetensorsError.sizeMismatch(path: p, tensor: "t", shape: [3, 2], dtype: "F32", expectedBytes: 24, actualBytes: 20)) {
            _ = try SafetensorsFile(path: p)
        }
        p = try file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, dataBytes: 12)
        expectError(SafetensorsError.overlap(path: p, tensor: "b", other: "a")) { _ = try SafetensorsFile(path: p) }
        p = try file(#"{"t":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}"#, dataBytes: 8)
        expectError(SafetensorsError.unknownDType(path: p, tensor: "t", dtype: "Q4")) { _ = try SafetensorsFile(path: p) }
        p = try file(#"{"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, dataBytes: 8)
        XCTAssertThrowsError(try SafetensorsFile(path: p)) { error in
            guard case .badTensor(_, "t", _)? = error as? SafetensorsError else { return XCTFail("got \(error)") }
        }
        p = try file(#"{"t": nope}"#, dataBytes: 0)
        expectError(SafetensorsError.badHeader(path: p, reason: "it is not valid JSON")) { _ = try SafetensorsFile(path: p) }
        p = dir.appendingPathComponent("absent.safetensors").path
        expectError(SafetensorsError.cannotOpen(path: p, reason: "no such file")) { _ = try SafetensorsFile(path: p) }
    }

    func testWrongShapeNamesTensorAndExpectedShape() throws {
        let (out, c, _) = try writtenAdapter()
        let url = out.appendingPathComponent(AdapterIO.peftWeightsFile)
        let st = try SafetensorsFile(path: url.path)
        let target = AdapterIO.peftTensorName(layer: 1, target: .gate, b: true)
        let tensors = try st.tensorNames.map { name -> SafetensorsTensor in
            let v = try st.floats(name)
            return name == target ? SafetensorsTensor(name: name, shape: [4, 48], values: v)
                                  : SafetensorsTensor(name: name, shape: st.tensors[name]!.shape, values: v)
        }
        try SafetensorsWriter.write(tensors, to: url)
        expectError(AdapterError.wrongShape(path: url.path, tensor: target, expected: [48, 4], found: [4, 48])) {
            _ = try AdapterIO.readPEFT(from: out, modelConfig: c)
        }
        // An adapter for another model: every shape is off.
        let other = try adapterTestModel(layers: 2, dim: 64, heads: 4, kvHeads: 4, ffn: 48, in: out.deletingLastPathComponent())
        try AdapterIO.write(randomLoRA(c), modelConfig: c, baseModelName: "base", to: out)
        expectError(AdapterError.wrongShape(path: url.path, tensor: AdapterIO.peftTensorName(layer: 0, target: .q, b: false),
                                            expected: [4, 64], found: [4, 32])) {
            _ = try AdapterIO.read(from: out, modelConfig: other)
        }
        XCTAssertThrowsError(try AdapterIO.readGGUF(from: out.appendingPathComponent(AdapterIO.ggufFile), modelConfig: other)) { error in
            guard case .wrongShape? = error as? AdapterError else { return XCTFail("got \(error)") }
        }
    }

    func testMissingAndUnexpectedTensors() throws {
        let (out, c, _) = try writtenAdapter()
        let url = out.appendingPathComponent(AdapterIO.peftWeightsFile)
        let st = try SafetensorsFile(path: url.path)
        let dropped = AdapterIO.peftTensorName(layer: 1, target: .v, b: false)
        let all = try st.tensorNames.map { SafetensorsTensor(name: $0, shape: st.tensors[$0]!.shape, values: try st.floats($0)) }
        try SafetensorsWriter.write(all.filter { $0.name != dropped }, to: url)
        expectError(AdapterError.missingTensor(path: url.path, tensor: dropped, expectedShape: [4, 32])) {
            _ = try AdapterIO.readPEFT(from: out, modelConfig: c)
        }
        let extra = "base_model.model.lm_head.lora_A.weight"
        try SafetensorsWriter.write(all + [SafetensorsTensor(name: extra, shape: [1], values: [0])], to: url)
        XCTAssertThrowsError(try AdapterIO.readPEFT(from: out, modelConfig: c)) { error in
            guard case .unexpectedTensor(url.path, extra, _)? = error as? AdapterError else { return XCTFail("got \(error)") }
        }
        // A model with fewer layers than the adapter.
        let oneLayer = try adapterTestModel(layers: 1, in: out.deletingLastPathComponent())
        try SafetensorsWriter.write(all, to: url)
        XCTAssertThrowsError(try AdapterIO.readPEFT(from: out, modelConfig: oneLayer)) { error in
            guard case let .unexpectedTensor(_, tensor, reason)? = error as? AdapterError else { return XCTFail("got \(error)") }
            XCTAssertTrue(tensor.contains("layers.1."))
            XCTAssertTrue(reason.contains("1 layers"), reason)
        }
    }

    func testBadAdapterConfig() throws {
        let (out, c, _) = try writtenAdapter()
        let url = out.appendingPathComponent(AdapterIO.peftConfigFile)
        try Data("{\"r\": 4, \"lora_alpha\": ".utf8).write(to: url)
        expectError(AdapterError.badConfig(path: url.path, reason: "it is not valid JSON")) {
            _ = try AdapterIO.readPEFT(from: out, modelConfig: c)
        }
        try Data(#"{"lora_alpha": 8, "target_modules": ["q_proj"]}"#.utf8).write(to: url)
        expectError(AdapterError.badConfig(path: url.path, reason: "it has no \"r\" (the rank)")) {
            _ = try AdapterIO.readPEFT(from: out, modelConfig: c)
        }
        try Data(#"{"r": 4, "lora_alpha": 8, "target_modules": ["q_proj"], "use_dora": true}"#.utf8).write(to: url)
        XCTAssertThrowsError(try AdapterIO.readPEFT(from: out, modelConfig: c)) { error in
            guard case .unsupportedConfig? = error as? AdapterError else { return XCTFail("got \(error)") }
        }
        try Data(#"{"r": 4, "lora_alpha": 8, "target_modules": ["q_proj", "lm_head"]}"#.utf8).write(to: url)
        XCTAssertThrowsError(try AdapterIO.readPEFT(from: out, modelConfig: c)) { error in
            guard case let .unsupportedConfig(_, reason)? = error as? AdapterError else { return XCTFail("got \(error)") }
            XCTAssertTrue(reason.contains("lm_head"), reason)
        }
        // Only q_proj configured, but the weights hold all seven projections.
        try Data(#"{"r": 4, "lora_alpha": 8, "target_modules": ["q_proj"]}"#.utf8).write(to: url)
        XCTAssertThrowsError(try AdapterIO.readPEFT(from: out, modelConfig: c)) { error in
            guard case let .unexpectedTensor(_, _, reason)? = error as? AdapterError else { return XCTFail("got \(error)") }
            XCTAssertTrue(reason.contains("target_modules"), reason)
        }
        // Rank in the config disagrees with the weights.
        try Data(#"{"r": 8, "lora_alpha": 8, "target_modules": "all-linear"}"#.utf8).write(to: url)
        expectError(AdapterError.wrongShape(path: out.appendingPathComponent(AdapterIO.peftWeightsFile).path,
                                            tensor: AdapterIO.peftTensorName(layer: 0, target: .q, b: false), expected: [8, 32], found: [4, 32])) {
            _ = try AdapterIO.readPEFT(from: out, modelConfig: c)
        }
    }

    func testGGUFAdapterErrors() throws {
        let (out, c, _) = try writtenAdapter()
        let dir = out.deletingLastPathComponent()
        // A model file is not an adapter.
        let model = dir.appendingPathComponent("model-llama-2-32.gguf")
        XCTAssertThrowsError(try AdapterIO.readGGUF(from: model, modelConfig: c)) { error in
            guard case .notAnAdapter(model.path, _)? = error as? AdapterError else { return XCTFail("got \(error)") }
        }
        // An adapter for another architecture.
        let qwen = try adapterTestModel(arch: "qwen2", in: dir)
        let gguf = out.appendingPathComponent(AdapterIO.ggufFile)
        expectError(AdapterError.architectureMismatch(path: gguf.path, adapter: "llama", model: "qwen2")) {
            _ = try AdapterIO.readGGUF(from: gguf, modelConfig: qwen)
        }
        // A missing lora_b.
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        w.set("general.type", .string("adapter"))
        w.set("adapter.type", .string("lora"))
        w.set("adapter.lora.alpha", .float(8))
        w.tensors.append(.init(name: "blk.0.attn_v.weight.lora_a", dims: [32, 2], floats: [Float](repeating: 1, count: 64)))
        let partial = dir.appendingPathComponent("partial.gguf")
        try w.write(to: partial)
        expectError(AdapterError.missingTensor(path: partial.path, tensor: "blk.0.attn_v.weight.lora_b", expectedShape: [2, 16])) {
            _ = try AdapterIO.readGGUF(from: partial, modelConfig: c)
        }
        let absent = dir.appendingPathComponent("absent.gguf")
        expectError(AdapterError.missingFile(path: absent.path)) { _ = try AdapterIO.readGGUF(from: absent, modelConfig: c) }
    }

    // MARK: output folder

    func testNonWritableDirectory() throws {
        let dir = try adapterTestDir()
        let c = try adapterTestModel(in: dir)
        let lora = randomLoRA(c)
        // A folder inside a regular file can never be created, even by root.
        let blocker = dir.appendingPathComponent("not-a-folder")
        try Data("x".utf8).write(to: blocker)
        let target = blocker.appendingPathComponent("adapter")
        XCTAssertThrowsError(try AdapterIO.write(lora, modelConfig: c, baseModelName: "b", to: target)) { error in
            guard case let .notWritable(directory, _)? = error as? AdapterError else { return XCTFail("got \(error)") }
            XCTAssertEqual(directory, target.path)
            XCTAssertTrue("\(error)".contains(target.path))
        }
        XCTAssertThrowsError(try AdapterIO.writeGGUF(lora, modelConfig: c, to: blocker.appendingPathComponent("a.gguf"))) { error in
            guard case .notWritable(blocker.path, _)? = error as? AdapterError else { return XCTFail("got \(error)") }
        }
        // A read-only folder (root ignores permissions, so only checked for other users).
        if getuid() != 0 {
            let ro = dir.appendingPathComponent("ro")
            try FileManager.default.createDirectory(at: ro, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: ro.path)
            XCTAssertThrowsError(try AdapterIO.writePEFT(lora, modelConfig: c, baseModelName: "b", to: ro)) { error in
                guard case .notWritable(ro.path, _)? = error as? AdapterError else { return XCTFail("got \(error)") }
            }
        }
    }

    func testParametersForAnotherModelAreRejected() throws {
        let dir = try adapterTestDir()
        let c = try adapterTestModel(in: dir)
        let bigger = try adapterTestModel(layers: 2, dim: 64, in: dir)
        XCTAssertThrowsError(try AdapterIO.write(randomLoRA(c), modelConfig: bigger, baseModelName: "b", to: dir)) { error in
            guard case .mismatchedModel? = error as? AdapterError else { return XCTFail("got \(error)") }
        }
    }
}
