import Foundation
import XCTest
import Support
import ModelCore

/// Issue contract: every model command fails cleanly, naming the file, on bad model files; and the
/// default model answers simple questions greedily.
final class ModelCLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try CLI.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func assertFails(_ args: [String], mentions needles: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try CLI.run(args)
        XCTAssertNotEqual(r.status, 0, "expected failure of \(args)", file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr, file: file, line: line)
        for n in needles { XCTAssertTrue(r.stderr.contains(n), "stderr lacks '\(n)': \(r.stderr)", file: file, line: line) }
    }

    func testMissingModelFile() throws {
        let path = dir.appendingPathComponent("nope.gguf").path
        try assertFails(["model", "info", "--model", path], mentions: [path, "cannot open"])
    }

    func testWrongMagicAndTruncatedFiles() throws {
        let bad = dir.appendingPathComponent("bad.gguf")
        try Data("NOPE this is not a model at all, just text".utf8).write(to: bad)
        try assertFails(["chat", "--model", bad.path, "--prompt", "hi"], mentions: [bad.path, "not a GGUF"])

        let real = try Data(contentsOf: URL(fileURLWithPath: try defaultModel()))
        let cut = dir.appendingPathComponent("cut.gguf")
        try real.prefix(1_000_000).write(to: cut)
        try assertFails(["chat", "--model", cut.path, "--prompt", "hi"], mentions: [cut.path])
        let empty = dir.appendingPathComponent("empty.gguf")
        try Data().write(to: empty)
        try assertFails(["tokenize", "--model", empty.path, "--text", "hi"], mentions: [empty.path, "too small"])
    }

    func testUnsupportedArchitectureAndQuantisation() throws {
        var w = GGUFWriter()
        w.set("general.architecture", .string("mamba"))
        w.tensors = [GGUFWriter.Tensor(name: "token_embd.weight", dims: [32, 4], floats: [Float](repeating: 0, count: 128))]
        let mamba = dir.appendingPathComponent("mamba.gguf")
        try w.write(to: mamba)
        try assertFails(["model", "info", "--model", mamba.path], mentions: [mamba.path, "mamba", "not supported"])

        // a tensor of type 20 (IQ4_NL), which hellotune does not read
        var bytes = w.serialize()
        let marker = Array("token_embd.weight".utf8)
        let at = (0...(bytes.count - marker.count)).first { Array(bytes[$0..<($0 + marker.count)]) == marker }!
        let typeOffset = at + marker.count + 4 + 2 * 8  // name, n_dims (u32), two u64 dims
        bytes[typeOffset] = 20
        let iq = dir.appendingPathComponent("iq.gguf")
        try Data(bytes).write(to: iq)
        try assertFails(["model", "info", "--model", iq.path], mentions: [iq.path, "token_embd.weight", "does not support"])
    }

    func testPromptLongerThanContext() throws {
        try assertFails(["chat", "--model", try defaultModel(), "--context", "16", "--prompt",
                         String(repeating: "word ", count: 40)], mentions: ["context"])
    }

    func testBadBatchFileNamesTheLine() throws {
        let f = dir.appendingPathComponent("batch.jsonl")
        try "{\"user\": \"hi\"}\n{\"usr\": \"typo\"}\n".write(to: f, atomically: true, encoding: .utf8)
        try assertFails(["chat", "--model", try defaultModel(), "--batch", f.path], mentions: ["\(f.path):2"])
    }

    func testTokenizeJSON() throws {
        let r = try CLI.run(["tokenize", "--model", try defaultModel(), "--text", "<|im_start|>user\nHello world!<|im_end|>", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let ids = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [Int]
        XCTAssertEqual(ids?.first, 1)   // <|im_start|> parsed as one special token
        XCTAssertEqual(ids?.last, 2)    // <|im_end|>
    }

    func testLogitsJSONShape() throws {
        let r = try CLI.run(["logits", "--model", try defaultModel(), "--prompt", "The capital of France is", "--raw", "--top", "5", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let top = obj?["top"] as? [Int], logits = obj?["logits"] as? [Double]
        XCTAssertEqual(top?.count, 5)
        XCTAssertEqual(logits?.count, 5)
        XCTAssertEqual(logits, logits?.sorted(by: >))
    }

    /// Greedy answers of the default model to questions it knows. (It does not know them all: asked
    /// for the capital of France it answers "L'Étoile, la Cité, ...", in llama.cpp just the same.)
    func testGreedyChatAnswersSimpleQuestions() throws {
        let cases: [(String, [String])] = [
            ("What is the capital of Japan?", ["Tokyo"]),
            ("How many days are in a week?", ["7", "seven"]),
            ("What is 2 plus 2?", ["4", "four"]),
            ("What is the capital of Germany?", ["Berlin"]),
            ("What is the largest ocean on Earth?", ["Pacific"]),
        ]
        for (q, answers) in cases {
            let r = try CLI.run(["chat", "--model", try defaultModel(), "--prompt", q, "--max-tokens", "48", "--json"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let text = (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["text"] as? String ?? ""
            XCTAssertTrue(answers.contains { text.lowercased().contains($0.lowercased()) }, "\(q) -> \(text)")
        }
    }

    func testBatchChatKeepsOrder() throws {
        let f = dir.appendingPathComponent("batch.jsonl")
        try """
        {"user": "What is the capital of Japan?"}
        {"system": "You are a helpful assistant.", "user": "What is the capital of Germany?"}
        {"user": "What is 2 plus 2?"}
        """.write(to: f, atomically: true, encoding: .utf8)
        let r = try CLI.run(["chat", "--model", try defaultModel(), "--batch", f.path, "--max-tokens", "24"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map { line -> String in
            ((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any])?["text"] as? String ?? ""
        }
        XCTAssertEqual(lines.count, 3)
        XCTAssertTrue(lines[0].contains("Tokyo"), lines[0])
        XCTAssertTrue(lines[1].contains("Berlin"), lines[1])
        XCTAssertTrue(lines[2].contains("4"), lines[2])
    }

    func testEveryCommandHasHelp() throws {
        for cmd in [[], ["model"], ["model", "fetch"], ["model", "info"], ["tokenize"], ["logits"], ["chat"], ["train"],
                    ["bench"], ["bench", "generate"], ["bench", "train"]] {
            let r = try CLI.run(cmd + ["--help"])
            XCTAssertEqual(r.status, 0, "\(cmd) --help: \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("USAGE"), "\(cmd) --help")
        }
    }

    func testModelInfoReportsKernels() throws {
        let r = try CLI.run(["model", "info", "--model", try defaultModel(), "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(obj?["architecture"] as? String, "llama")
        XCTAssertEqual(obj?["layers"] as? Int, 30)
        XCTAssertNotNil(obj?["blas_kernel"] as? String)
    }

    /// The user's OPENBLAS_CORETYPE is never overridden.
    func testUserCoreTypeIsKept() throws {
        let r = try CLI.run(["model", "info", "--model", try defaultModel(), "--json"], env: ["OPENBLAS_CORETYPE": "Haswell"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let kernel = obj?["blas_kernel"] as? String ?? ""
        XCTAssertTrue(kernel.hasPrefix("Haswell"), kernel)
        XCTAssertTrue(kernel.contains("OPENBLAS_CORETYPE"), kernel)
    }

    func defaultModel() throws -> String {
        if let p = ProcessInfo.processInfo.environment["HELLOTUNE_MODEL"] { return p }
        let path = Paths.defaultModel.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw NSError(domain: "hellotune", code: 1, userInfo: [NSLocalizedDescriptionKey:
                "default model missing at \(path): run scripts/test.sh or `hellotune model fetch`"])
        }
        return path
    }
}
