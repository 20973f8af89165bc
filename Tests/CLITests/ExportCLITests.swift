import Foundation
import XCTest
import ModelCore
import Training

/// `hellotune export` as a user runs it: the merged file chats as the base model with the adapter does, and bad
/// input fails with a message naming the file, leaving nothing written.
final class ExportCLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try CLI.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    var model: String { TinyChatModel.modelPath(in: dir) }

    /// Trains a small adapter on the tiny chat model with `hellotune train` (a high learning rate, so that it moves
    /// the replies).
    func trainAdapter() throws -> URL {
        try TinyChatModel.install(in: dir, examples: 8)
        let adapter = dir.appendingPathComponent("adapter")
        let r = try CLI.run(["train", "--model", model, "--data", TinyChatModel.dataPath(in: dir), "--out", adapter.path,
                             "--epochs", "2", "--rank", "4", "--lr", "0.02", "--seed", "5", "--val-split", "0"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return adapter
    }

    func reply(_ args: [String], _ prompt: String) throws -> String {
        let r = try CLI.run(["chat", "--prompt", prompt, "--max-tokens", "24", "--json"] + args)
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        return try XCTUnwrap(json?["text"] as? String, r.stdout)
    }

    func logits(_ args: [String], _ prompt: String) throws -> (top: [Int], logits: [Double]) {
        let r = try CLI.run(["logits", "--prompt", prompt, "--json"] + args)
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        return (try XCTUnwrap(json["top"] as? [Int]), try XCTUnwrap(json["logits"] as? [Double]))
    }

    /// `chat --model merged.gguf` answers as `chat --adapter` does, for f16 and q8_0: the same best next token, the
    /// same top 3 up to near-ties, logits within the bounds of `MergedModelTests`, and greedy replies that agree on at least 75% of their
    /// characters (this random model's near-ties may flip at generation's 8-bit activations, then the reply follows).
    func testMergedModelChatsAsTheAdapter() throws {
        let adapter = try trainAdapter()
        let prompts = ["What is rain?", "How do tides work?", "Tell me about cats.", "hello"]
        let withAdapter = try prompts.map { try reply(["--model", model, "--adapter", adapter.path], $0) }
        let base = try prompts.map { try reply(["--model", model], $0) }
        XCTAssertNotEqual(withAdapter, base, "the trained adapter must change some reply")
        let wantLogits = try prompts.map { try logits(["--model", model, "--adapter", adapter.path], $0) }
        for (type, bound) in [("f16", 0.02), ("q8_0", 0.15)] {
            let out = dir.appendingPathComponent("merged-\(type).gguf")
            let r = try CLI.run(["export", "--model", model, "--adapter", adapter.path, "--out", out.path, "--type", type])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("merged 14 projections"), r.stdout)
            XCTAssertTrue(r.stdout.contains(out.path), r.stdout)
            for (p, want) in zip(prompts, wantLogits) {
                let got = try logits(["--model", out.path], p)
                XCTAssertEqual(got.top.first, want.top.first, "\(type): \(p)")
                XCTAssertLessThanOrEqual(zip(got.logits, want.logits).map { abs($0 - $1) }.max()!, bound, "\(type): \(p)")
                // Below first place, two tokens may trade places only if their logits lie within 2 × bound (each
                // moves by at most the bound): a near-tie for third place flipped under q8_0 once the adapter changed.
                for (rank, t) in want.top.prefix(3).enumerated() where !got.top.prefix(3).contains(t) {
                    // `logits` are the best logits in rank order: want.logits[3] is the fourth best
                    XCTAssertLessThanOrEqual(want.logits[rank] - want.logits[3], 2 * bound, "\(type): \(p): token \(t) left the top 3")
                }
            }
            let merged = try prompts.map { try reply(["--model", out.path], $0) }
            let matched = zip(merged, withAdapter).map { zip($0, $1).prefix { $0 == $1 }.count }.reduce(0, +)
            let total = withAdapter.map(\.count).reduce(0, +)
            print("ExportCLITests \(type): reply characters matched \(matched)/\(total) over \(prompts.count) prompts")
            XCTAssertGreaterThanOrEqual(matched * 4, total * 3, type)
        }
    }

    /// Each bad input exits non-zero with a message naming the file, and writes nothing.
    func testBadInputFailsNamingTheFile() throws {
        let adapter = try trainAdapter()
        let out = dir.appendingPathComponent("merged.gguf")
        func fails(_ args: [String], mentioning: [String], file: StaticString = #filePath, line: UInt = #line) throws {
            let r = try CLI.run(["export"] + args)
            XCTAssertNotEqual(r.status, 0, "\(args) should fail", file: file, line: line)
            for m in mentioning { XCTAssertTrue(r.stderr.contains(m), "'\(m)' not in: \(r.stderr)", file: file, line: line) }
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), file: file, line: line)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
            XCTAssertEqual(leftovers, [], file: file, line: line)
        }
        let missing = dir.appendingPathComponent("no-such-adapter").path
        try fails(["--model", model, "--adapter", missing, "--out", out.path], mentioning: [missing, "not a folder"])
        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        try fails(["--model", model, "--adapter", empty.path, "--out", out.path], mentioning: [empty.path, "holds no LoRA adapter"])

        // An adapter trained on another model (wider layers): the adapter file is named.
        let otherModel = dir.appendingPathComponent("other.gguf")
        var w = GGUFWriter()  // only what ModelConfig reads
        w.set("general.architecture", .string("llama"))
        for (key, value) in [("block_count", 2), ("embedding_length", 64), ("feed_forward_length", 192),
                             ("attention.head_count", 4), ("attention.head_count_kv", 2)] {
            w.set("llama.\(key)", .uint(UInt64(value)))
        }
        w.tensors.append(.init(name: "token_embd.weight", dims: [64, 8], floats: [Float](repeating: 0.5, count: 64 * 8)))
        try w.write(to: otherModel)
        let otherConfig = try ModelConfig(gguf: GGUFFile(path: otherModel.path))
        let foreign = dir.appendingPathComponent("foreign")
        let lora = LoRAParameters(config: LoRAConfig(rank: 2, alpha: 4), modelConfig: otherConfig)
        for i in lora.values.indices { lora.values[i] = 0.01 }
        try AdapterIO.write(lora, modelConfig: otherConfig, baseModelName: "other", to: foreign)
        try fails(["--model", model, "--adapter", foreign.path, "--out", out.path],
                  mentioning: [foreign.appendingPathComponent("adapter_model.safetensors").path, "shape"])

        try fails(["--model", model, "--adapter", adapter.path, "--out", out.path, "--type", "q4_0"], mentioning: ["--type", "q4_0"])
        try fails(["--model", model, "--adapter", adapter.path, "--out", model], mentioning: [model, "base model itself"])
        try fails(["--model", model, "--adapter", adapter.path, "--out", dir.path], mentioning: [dir.path, "is a folder"])
        let nowhere = dir.appendingPathComponent("no-such-folder/merged.gguf").path
        try fails(["--model", model, "--adapter", adapter.path, "--out", nowhere], mentioning: [nowhere])
        try fails(["--model", dir.appendingPathComponent("absent.gguf").path, "--adapter", adapter.path, "--out", out.path],
                  mentioning: ["absent.gguf"])

        // An existing --out is kept unless --force is given.
        try Data("keep me".utf8).write(to: out)
        let r = try CLI.run(["export", "--model", model, "--adapter", adapter.path, "--out", out.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains(out.path) && r.stderr.contains("--force"), r.stderr)
        XCTAssertEqual(try String(contentsOf: out, encoding: .utf8), "keep me")
        let forced = try CLI.run(["export", "--model", model, "--adapter", adapter.path, "--out", out.path, "--force"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertNoThrow(try GGUFFile(path: out.path))
    }
}
