import Dispatch
import Foundation
import TestSupport
import XCTest
import ModelCore

/// Golden tests against ids produced by the Hugging Face oracle (scripts/fixtures/make_tokenizer_fixtures.py,
/// shared/reference/ref_tokenizer.py), plus round trips, streaming and error cases.
final class TokenizerTests: XCTestCase {
    struct Case: Decodable {
        let text: String
        let ids: [Int]
        let parse_special: Bool?
    }

    struct Synthetic: Decodable {
        let tokens: [String]
        let token_types: [Int]
        let merges: [String]
        let cases: [String: [Case]]

        func tokenizer(_ pre: String) throws -> Tokenizer {
            try Tokenizer(tokens: tokens, tokenTypes: token_types, merges: merges, preTokenizer: pre, bosID: nil, eosID: nil)
        }
    }

    static func fixture<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"),
                                "Fixtures/\(name).json missing: run scripts/fixtures/make_tokenizer_fixtures.py")
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }

    // Loading the vocabulary takes a moment; every test shares one instance (which also exercises sharing).
    nonisolated(unsafe) static var loaded: Result<Tokenizer, Error>?
    static let loadLock = NSLock()

    static func smolLM() throws -> Tokenizer {
        loadLock.lock()
        defer { loadLock.unlock() }
        if loaded == nil {
            loaded = Result { try Tokenizer(gguf: GGUFFile(path: TestModel.defaultModelPath())) }
        }
        return try loaded!.get()
    }

    /// Assert exact bytes: Swift's String == would accept a canonically equivalent but different text.
    func assertSameText(_ got: String, _ want: String, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssert(got.utf8.elementsEqual(want.utf8), "\(message): got \(got.debugDescription)", file: file, line: line)
    }

    // MARK: golden ids

    func testSmolLMMatchesOracle() throws {
        let tokenizer = try Self.smolLM()
        let cases = try Self.fixture("tokenizer_smollm", as: [Case].self)
        XCTAssertGreaterThanOrEqual(cases.count, 60)
        for c in cases {
            let ids = tokenizer.encode(c.text, parseSpecial: c.parse_special ?? true)
            XCTAssertEqual(ids, c.ids, "encode(\(c.text.prefix(80).debugDescription), parseSpecial: \(c.parse_special ?? true))")
        }
    }

    func testSyntheticVocabularyMatchesOracleForEveryPreTokenizer() throws {
        let synthetic = try Self.fixture("tokenizer_synthetic", as: Synthetic.self)
        XCTAssertEqual(Set(synthetic.cases.keys), ["gpt2", "smollm", "qwen2", "llama-bpe"])
        for (pre, cases) in synthetic.cases.sorted(by: { $0.key < $1.key }) {
            let tokenizer = try synthetic.tokenizer(pre)
            XCTAssertEqual(tokenizer.preTokenizer, pre)
            for c in cases {
                XCTAssertEqual(tokenizer.encode(c.text), c.ids, "[\(pre)] encode(\(c.text.prefix(80).debugDescription))")
            }
        }
    }

    // MARK: round trips and lookups

    func testDecodeInvertsEncode() throws {
        let tokenizer = try Self.smolLM()
        let synthetic = try Self.fixture("tokenizer_synthetic", as: Synthetic.self)
        let qwen = try synthetic.tokenizer("qwen2")
        for c in try Self.fixture("tokenizer_smollm", as: [Case].self) {
            for parseSpecial in [true, false] {
                assertSameText(tokenizer.decode(tokenizer.encode(c.text, parseSpecial: parseSpecial)), c.text,
                               "smollm round trip of \(c.text.prefix(80).debugDescription)")
                assertSameText(qwen.decode(qwen.encode(c.text, parseSpecial: parseSpecial)), c.text,
                               "qwen2 round trip of \(c.text.prefix(80).debugDescription)")
            }
        }
    }

    func testMetadataAndLookups() throws {
        let tokenizer = try Self.smolLM()
        XCTAssertEqual(tokenizer.vocabularySize, 49152)
        XCTAssertEqual(tokenizer.preTokenizer, "smollm")
        XCTAssertEqual(tokenizer.bosID, 1)
        XCTAssertEqual(tokenizer.eosID, 2)
        XCTAssertEqual(tokenizer.piece(1), "<|im_start|>")
        XCTAssertEqual(tokenizer.id(of: "<|im_end|>"), 2)
        XCTAssertTrue(tokenizer.isSpecial(0))
        XCTAssertTrue(tokenizer.isSpecial(2))
        let the = try XCTUnwrap(tokenizer.id(of: "Ġthe"))
        XCTAssertFalse(tokenizer.isSpecial(the))
        XCTAssertEqual(tokenizer.bytes(of: the), Array(" the".utf8))
        XCTAssertEqual(tokenizer.bytes(of: 1), Array("<|im_start|>".utf8))
        XCTAssertEqual(tokenizer.id(of: "no such token"), nil)
        XCTAssertEqual(tokenizer.bytes(of: -1), [])
        XCTAssertEqual(tokenizer.bytes(of: 49152), [])
        XCTAssertEqual(tokenizer.piece(49152), "")
        XCTAssertFalse(tokenizer.isSpecial(49152))
        XCTAssertEqual(tokenizer.encode(""), [])
        XCTAssertEqual(tokenizer.decode([]), "")
    }

    func testParseSpecialOffNeverYieldsSpecialIDs() throws {
        let tokenizer = try Self.smolLM()
        let text = "<|im_start|>user\nhi<|im_end|>\n<|endoftext|><file_sep><empty_output>"
        let plain = tokenizer.encode(text, parseSpecial: false)
        XCTAssertFalse(plain.contains(where: tokenizer.isSpecial), "special id in \(plain)")
        assertSameText(tokenizer.decode(plain), text, "plain round trip")
        XCTAssertEqual(tokenizer.encode(text).filter(tokenizer.isSpecial), [1, 2, 0, 5, 16])
    }

    func testUserDefinedTokensAreMatchedLongestFirst() throws {
        let synthetic = try Self.fixture("tokenizer_synthetic", as: Synthetic.self)
        let tokenizer = try synthetic.tokenizer("gpt2")
        let control = try XCTUnwrap(tokenizer.id(of: "<|endoftext|>"))
        let userDefined = try XCTUnwrap(tokenizer.id(of: "<|end"))
        XCTAssertTrue(tokenizer.isSpecial(control))
        XCTAssertTrue(tokenizer.isSpecial(userDefined))
        XCTAssertEqual(tokenizer.encode("<|endoftext|><|end").filter(tokenizer.isSpecial), [control, userDefined])
        XCTAssertEqual(tokenizer.encode("<|endoftext|><|end", parseSpecial: false).filter(tokenizer.isSpecial), [])
    }

    // MARK: streaming

    func testStreamingHoldsBackAnEmojiSplitAcrossByteTokens() throws {
        // The synthetic vocabulary starts with the 256 byte tokens in byte order, and has no emoji merges.
        let tokenizer = try Self.fixture("tokenizer_synthetic", as: Synthetic.self).tokenizer("gpt2")
        let emoji = Array("😀".utf8).map(Int.init)
        XCTAssertEqual(tokenizer.encode("😀"), emoji)
        var stream = StreamingDecoder(tokenizer: tokenizer)
        XCTAssertEqual(stream.push(Int(UInt8(ascii: "a"))), "a")
        XCTAssertEqual(emoji.dropLast().map { stream.push($0) }, ["", "", ""])
        XCTAssertEqual(stream.push(emoji.last!), "😀")
        XCTAssertEqual(stream.flush(), "")

        // A sequence that can never complete is released at once, as U+FFFD, not held forever.
        XCTAssertEqual(stream.push(0xF0), "")
        XCTAssertEqual(stream.push(Int(UInt8(ascii: "b"))), "\u{FFFD}b")
        XCTAssertEqual(stream.push(0xE2), "")
        XCTAssertEqual(stream.push(0x82), "")
        XCTAssertEqual(stream.flush(), "\u{FFFD}")
        XCTAssertEqual(tokenizer.decode([0xE2, 0x82]), "\u{FFFD}")
    }

    func testStreamingReproducesTheTextOfEveryFixture() throws {
        let tokenizer = try Self.smolLM()
        for c in try Self.fixture("tokenizer_smollm", as: [Case].self) {
            var stream = StreamingDecoder(tokenizer: tokenizer)
            var text = ""
            for id in c.ids {
                let chunk = stream.push(id)
                XCTAssertFalse(chunk.unicodeScalars.contains("\u{FFFD}"), "broken character streaming \(c.text.prefix(40).debugDescription)")
                text += chunk
            }
            text += stream.flush()
            assertSameText(text, c.text, "streamed \(c.text.prefix(80).debugDescription)")
        }
    }

    // MARK: errors

    func testErrorsNameTheProblem() throws {
        let synthetic = try Self.fixture("tokenizer_synthetic", as: Synthetic.self)
        func make(tokens: [String]? = nil, types: [Int]? = nil, merges: [String]? = nil, pre: String = "gpt2", bos: Int? = nil) throws {
            _ = try Tokenizer(tokens: tokens ?? synthetic.tokens, tokenTypes: types ?? synthetic.token_types,
                              merges: merges ?? synthetic.merges, preTokenizer: pre, bosID: bos, eosID: nil)
        }
        func expect(_ expected: TokenizerError, mentioning words: [String], _ body: () throws -> Void, line: UInt = #line) {
            XCTAssertThrowsError(try body(), line: line) { error in
                XCTAssertEqual(error as? TokenizerError, expected, line: line)
                for word in words { XCTAssert("\(error)".contains(word), "\"\(error)\" lacks \(word)", line: line) }
            }
        }
        expect(.unknownPreTokenizer("bert"), mentioning: ["'bert'", "gpt2", "smollm", "qwen2", "llama-bpe"]) { try make(pre: "bert") }
        expect(.malformed(key: "tokenizer.ggml.merges", index: 3, reason: "(\"nospace\") is not two tokens separated by a space"),
               mentioning: ["tokenizer.ggml.merges[3]"]) {
            try make(merges: Array(synthetic.merges[..<3]) + ["nospace"])
        }
        expect(.malformed(key: "tokenizer.ggml.merges", index: 0, reason: "(\"zz q\") names a left token that is not in the vocabulary"),
               mentioning: ["tokenizer.ggml.merges[0]", "zz q"]) { try make(merges: ["zz q"]) }
        expect(.malformed(key: "tokenizer.ggml.merges", index: 1, reason: "(\"q q\") makes a token that is not in the vocabulary"),
               mentioning: ["tokenizer.ggml.merges[1]"]) { try make(tokens: Array(synthetic.tokens[..<256]) + ["ab"], types: Array(repeating: 1, count: 257), merges: ["a b", "q q"]) }
        expect(.malformed(key: "tokenizer.ggml.token_type", index: nil, reason: "has 1 entries for \(synthetic.tokens.count) tokens"),
               mentioning: ["token_type"]) { try make(types: [1]) }
        expect(.malformed(key: "tokenizer.ggml.tokens", index: nil, reason: "is empty"), mentioning: ["tokens"]) {
            try make(tokens: [], types: [], merges: [])
        }
        expect(.malformed(key: "tokenizer.ggml.bos_token_id", index: nil,
                          reason: "is 99999, outside the vocabulary of \(synthetic.tokens.count) tokens"),
               mentioning: ["bos_token_id", "99999"]) { try make(bos: 99999) }
    }

    func testGGUFMetadataIsValidated() throws {
        let synthetic = try Self.fixture("tokenizer_synthetic", as: Synthetic.self)
        func gguf(model: String, pre: String?) throws -> GGUFFile {
            var writer = GGUFWriter()
            writer.set("tokenizer.ggml.model", .string(model))
            if let pre { writer.set("tokenizer.ggml.pre", .string(pre)) }
            writer.set("tokenizer.ggml.tokens", .array(synthetic.tokens.map(GGUFValue.string)))
            writer.set("tokenizer.ggml.token_type", .array(synthetic.token_types.map { .int(Int64($0)) }))
            writer.set("tokenizer.ggml.merges", .array(synthetic.merges.map(GGUFValue.string)))
            writer.set("tokenizer.ggml.eos_token_id", .uint(UInt64(synthetic.tokens.count - 2)))
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("tokenizer-\(UUID().uuidString).gguf")
            try Data(writer.serialize()).write(to: url)
            defer { try? FileManager.default.removeItem(at: url) }
            return try GGUFFile(path: url.path)
        }
        XCTAssertThrowsError(try Tokenizer(gguf: gguf(model: "llama", pre: nil))) { error in
            XCTAssertEqual(error as? TokenizerError, .unsupportedModel("llama"))
            XCTAssert("\(error)".contains("byte-level BPE"), "\(error)")
        }
        XCTAssertThrowsError(try Tokenizer(gguf: gguf(model: "gpt2", pre: "deepseek-llm"))) { error in
            XCTAssertEqual(error as? TokenizerError, .unknownPreTokenizer("deepseek-llm"))
        }
        // Without `tokenizer.ggml.pre` the GPT-2 split applies.
        let tokenizer = try Tokenizer(gguf: gguf(model: "gpt2", pre: nil))
        XCTAssertEqual(tokenizer.preTokenizer, "gpt2")
        XCTAssertEqual(tokenizer.bosID, nil)
        XCTAssertEqual(tokenizer.eosID, synthetic.tokens.count - 2)
        XCTAssertEqual(tokenizer.encode(synthetic.cases["gpt2"]![5].text), synthetic.cases["gpt2"]![5].ids)
    }

    // MARK: speed and sharing

    /// Text of made-up words, so the word cache cannot help.
    static func novelText(bytes: Int, seed: UInt64) -> String {
        var rng = SplitMix64(seed: seed)
        let syllables = ["ka", "lo", "mi", "tra", "sen", "qu", "é", "中", "ox", "vy", "38", "ph", "'s", ", ", ".\n", "  ", "ing", "th"]
        var text = ""
        while text.utf8.count < bytes {
            for _ in 0..<(1 + Int(rng.next() % 4)) { text += syllables[Int(rng.next() % UInt64(syllables.count))] }
            text += " "
        }
        return text
    }

    func testEncodingKilobytesTakesMilliseconds() throws {
        let tokenizer = try Self.smolLM()
        let text = Self.novelText(bytes: 8192, seed: 7)
        let start = DispatchTime.now().uptimeNanoseconds
        let ids = tokenizer.encode(text)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("encoded \(text.utf8.count) bytes into \(ids.count) tokens in \(String(format: "%.2f", seconds * 1000)) ms (cold cache)")
        assertSameText(tokenizer.decode(ids), text, "round trip")
        // Milliseconds in a release build; the bound leaves room for a slow, busy CI machine.
        XCTAssertLessThan(seconds, 0.5)

        let long = String(repeating: "a", count: 20_000) + String(repeating: "9", count: 5_000)
        let longStart = DispatchTime.now().uptimeNanoseconds
        assertSameText(tokenizer.decode(tokenizer.encode(long)), long, "one long word")
        XCTAssertLessThan(Double(DispatchTime.now().uptimeNanoseconds - longStart) / 1e9, 0.5)
    }

    func testConcurrentEncodingAgreesWithSerial() throws {
        let tokenizer = try Self.smolLM()
        let texts = (0..<16).map { Self.novelText(bytes: 2048, seed: 100 + UInt64($0)) }
        let serial = texts.map { tokenizer.encode($0) }
        let results = UnsafeMutableBufferPointer<[Int]>.allocate(capacity: texts.count)
        results.initialize(repeating: [])
        defer { results.deallocate() }
        nonisolated(unsafe) let shared = results
        DispatchQueue.concurrentPerform(iterations: texts.count * 4) { i in
            let ids = tokenizer.encode(texts[i % texts.count])
            if i < texts.count { shared[i] = ids }
        }
        XCTAssertEqual(Array(results), serial)
    }
}
