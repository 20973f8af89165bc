import Foundation
import XCTest
import ModelCore
import Training

/// The OpenAI chat JSONL reader (every validation error, the real Trelis HELLO files, export round trips) and the
/// encoding of conversations into training tokens and targets with the real default model.
final class ChatDatasetTests: XCTestCase {
    // MARK: helpers

    /// The real datasets: $HELLOTUNE_DATASETS, else ../shared/datasets/trelis-hello next to the package.
    static func trelisDirectory() throws -> String {
        if let dir = ProcessInfo.processInfo.environment["HELLOTUNE_DATASETS"], !dir.isEmpty { return dir }
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let candidates = [package.deletingLastPathComponent().appendingPathComponent("shared/datasets/trelis-hello").path,
                          "/work/shared/datasets/trelis-hello"]
        for c in candidates where FileManager.default.fileExists(atPath: c + "/akewo.jsonl") { return c }
        throw DatasetError.fileMissing(path: candidates[0] + " (set $HELLOTUNE_DATASETS to the trelis-hello folder)")
    }

    static func trelis(_ name: String) throws -> String { try trelisDirectory() + "/" + name }

    var tempDir: URL!

    override func setUpWithError() throws {
        tempDir = FileManager.default.temporaryDirectory.appendingPathComponent("chatdataset-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tempDir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: tempDir)
    }

    func write(_ text: String, name: String = "data.jsonl") throws -> String {
        try write(Data(text.utf8), name: name)
    }

    func write(_ data: Data, name: String = "data.jsonl") throws -> String {
        let url = tempDir.appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    static let system = #"{"role":"system","content":"Be brief."}"#
    static let user = #"{"role":"user","content":"Hi"}"#
    static let assistant = #"{"role":"assistant","content":"Hello!"}"#
    static let good = #"{"messages":[\#(system),\#(user),\#(assistant)]}"#

    static func line(_ messages: String...) -> String { #"{"messages":[\#(messages.joined(separator: ","))]}"# }

    /// Loads `lines` (joined by "\n") from a temp file and checks the error, its line and that its message
    /// names the file and `mentions` every fragment.
    func assertLoadFails(_ lines: [String], _ expected: (String) -> DatasetError, mentions: [String] = [],
                         file: StaticString = #filePath, line: UInt = #line) throws {
        let path = try write(lines.joined(separator: "\n") + "\n")
        XCTAssertThrowsError(try ChatDataset.load(path: path), file: file, line: line) { error in
            guard let error = error as? DatasetError else {
                return XCTFail("not a DatasetError: \(error)", file: file, line: line)
            }
            XCTAssertEqual(error, expected(path), file: file, line: line)
            let text = error.description
            XCTAssertTrue(text.hasPrefix(path), "names the file: \(text)", file: file, line: line)
            if let l = error.line { XCTAssertTrue(text.hasPrefix("\(path):\(l): "), "names the line: \(text)", file: file, line: line) }
            for m in mentions { XCTAssertTrue(text.contains(m), "mentions \(m.debugDescription): \(text)", file: file, line: line) }
        }
    }

    // MARK: file-level errors

    func testMissingFile() throws {
        let path = tempDir.appendingPathComponent("nope.jsonl").path
        XCTAssertThrowsError(try ChatDataset.load(path: path)) { error in
            XCTAssertEqual(error as? DatasetError, .fileMissing(path: path))
            XCTAssertTrue("\(error)".contains(path))
            XCTAssertTrue("\(error)".contains("no such file"))
        }
    }

    func testDirectoryIsUnreadable() throws {
        XCTAssertThrowsError(try ChatDataset.load(path: tempDir.path)) { error in
            guard case let .unreadable(path, reason)? = error as? DatasetError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, self.tempDir.path)
            XCTAssertTrue(reason.contains("directory"))
        }
    }

    func testEmptyFile() throws {
        for text in ["", "\n\n", "  \n\t\r\n \n"] {
            let path = try write(text)
            XCTAssertThrowsError(try ChatDataset.load(path: path)) { error in
                XCTAssertEqual(error as? DatasetError, .empty(path: path))
                XCTAssertTrue("\(error)".contains("no examples"))
            }
        }
    }

    // MARK: line-level errors

    func testInvalidJSON() throws {
        let path = try write([Self.good, #"{"messages": [{"role": "user", "content": "Hi"}"#, Self.good].joined(separator: "\n"))
        XCTAssertThrowsError(try ChatDataset.load(path: path)) { error in
            guard case let .invalidJSON(p, line, reason)? = error as? DatasetError else { return XCTFail("\(error)") }
            XCTAssertEqual(p, path)
            XCTAssertEqual(line, 2)
            XCTAssertFalse(reason.isEmpty)
            XCTAssertTrue("\(error)".hasPrefix("\(path):2: invalid JSON (\(reason))"), "\(error)")
        }
    }

    func testTopLevelNotAnObject() throws {
        try assertLoadFails([Self.good, "[1, 2]"], { .notAnObject(path: $0, line: 2, found: "array") }, mentions: ["is a JSON array"])
        try assertLoadFails([#""just text""#], { .notAnObject(path: $0, line: 1, found: "string") })
    }

    func testMissingOrNonArrayMessages() throws {
        try assertLoadFails([#"{"conversation": []}"#], { .missingMessages(path: $0, line: 1) }, mentions: ["messages: missing"])
        try assertLoadFails([#"{"messages": null}"#], { .missingMessages(path: $0, line: 1) })
        try assertLoadFails([Self.good, Self.good, #"{"messages": "Hi"}"#], { .messagesNotArray(path: $0, line: 3, found: "string") },
                            mentions: ["messages: is a string"])
        try assertLoadFails([#"{"messages": {"role": "user"}}"#], { .messagesNotArray(path: $0, line: 1, found: "object") })
    }

    func testEmptyMessages() throws {
        try assertLoadFails([#"{"messages": []}"#], { .emptyMessages(path: $0, line: 1) }, mentions: ["messages: is empty"])
    }

    func testMessageNotAnObject() throws {
        try assertLoadFails([Self.line(Self.user, #""Hello!""#)], { .messageNotObject(path: $0, line: 1, index: 1, found: "string") },
                            mentions: ["messages[1]: is a string"])
    }

    func testMissingOrNonStringRoleAndContent() throws {
        try assertLoadFails([Self.line(#"{"content":"Hi"}"#, Self.assistant)],
                            { .missingField(path: $0, line: 1, index: 0, field: "role") }, mentions: ["messages[0].role: missing"])
        try assertLoadFails([Self.line(Self.user, #"{"role":"assistant"}"#)],
                            { .missingField(path: $0, line: 1, index: 1, field: "content") }, mentions: ["messages[1].content: missing"])
        try assertLoadFails([Self.line(#"{"role":3,"content":"Hi"}"#, Self.assistant)],
                            { .fieldNotString(path: $0, line: 1, index: 0, field: "role", found: "number") },
                            mentions: ["messages[0].role: is a number"])
        try assertLoadFails([Self.line(Self.user, #"{"role":"assistant","content":null}"#)],
                            { .fieldNotString(path: $0, line: 1, index: 1, field: "content", found: "null") })
        try assertLoadFails([Self.line(Self.user, #"{"role":"assistant","content":[{"type":"text","text":"Hi"}]}"#)],
                            { .fieldNotString(path: $0, line: 1, index: 1, field: "content", found: "array") },
                            mentions: ["messages[1].content: is an array", "one string"])
        try assertLoadFails([Self.line(Self.user, #"{"role":"assistant","content":true}"#)],
                            { .fieldNotString(path: $0, line: 1, index: 1, field: "content", found: "boolean") })
    }

    func testUnknownRole() throws {
        let data = Data([Self.good, Self.good, Self.line(Self.system, Self.user, #"{"role":"bot","content":"Hello"}"#)]
            .joined(separator: "\n").utf8)
        XCTAssertThrowsError(try ChatDataset.parse(data, path: "data.jsonl")) { error in
            XCTAssertEqual(error as? DatasetError, .unknownRole(path: "data.jsonl", line: 3, index: 2, role: "bot"))
            XCTAssertTrue("\(error)".hasPrefix(#"data.jsonl:3: messages[2].role: unknown role "bot" (expected system, user or assistant)"#),
                          "\(error)")
        }
        try assertLoadFails([Self.line(Self.user, #"{"role":"tool","content":"42"}"#, Self.assistant)],
                            { .unknownRole(path: $0, line: 1, index: 1, role: "tool") }, mentions: ["system, user or assistant"])
    }

    func testWeightMustBeZeroOrOne() throws {
        let cases: [(String, String)] = [("2", "2"), ("0.5", "0.5"), ("-1", "-1"), ("true", "true"), (#""1""#, #"the string "1""#)]
        for (json, shown) in cases {
            try assertLoadFails([Self.line(Self.user, #"{"role":"assistant","content":"Hello!","weight":\#(json)}"#)],
                                { .invalidWeight(path: $0, line: 1, index: 1, value: shown) },
                                mentions: ["messages[1].weight: is \(shown), expected 0"])
        }
        // 0, 1, 1.0 and null (absent) are fine.
        let path = try write([0, 1].map { Self.line(Self.user, #"{"role":"assistant","content":"Hello!","weight":\#($0)}"#, Self.user, Self.assistant) }
            .joined(separator: "\n") + "\n" + Self.line(Self.user, #"{"role":"assistant","content":"A","weight":1.0}"#) + "\n"
            + Self.line(Self.user, #"{"role":"assistant","content":"B","weight":null}"#))
        let dataset = try ChatDataset.load(path: path)
        XCTAssertEqual(dataset.examples.map { $0[1].weight }, [0, 1, 1, nil])
    }

    func testNoAssistantMessage() throws {
        try assertLoadFails([Self.good, Self.line(Self.system, Self.user)], { .noAssistant(path: $0, line: 2) },
                            mentions: ["no assistant message"])
    }

    func testAssistantWithoutUserBeforeIt() throws {
        try assertLoadFails([Self.line(Self.system, Self.assistant, Self.user, Self.assistant)],
                            { .assistantWithoutUser(path: $0, line: 1, index: 1) }, mentions: ["messages[1]:", "user"])
        try assertLoadFails([Self.line(Self.assistant, Self.user, Self.assistant)],
                            { .assistantWithoutUser(path: $0, line: 1, index: 0) })
    }

    func testSystemMessageOnlyFirst() throws {
        try assertLoadFails([Self.line(Self.user, Self.system, Self.assistant)], { .systemNotFirst(path: $0, line: 1, index: 1) },
                            mentions: ["messages[1]: a system message must be the first"])
        try assertLoadFails([Self.line(Self.system, Self.system, Self.user, Self.assistant)],
                            { .systemNotFirst(path: $0, line: 1, index: 1) })
    }

    func testLineOver1MiBIsRefusedUnparsed() throws {
        // Not valid JSON: the size error proves the line was never given to the parser.
        let limit = ChatDataset.maxLineBytes
        XCTAssertEqual(limit, 1024 * 1024)
        var data = Data((Self.good + "\n").utf8)
        data.append(Data(repeating: UInt8(ascii: "x"), count: limit + 1))
        data.append(Data(("\n" + Self.good + "\n").utf8))
        let path = try write(data)
        XCTAssertThrowsError(try ChatDataset.load(path: path)) { error in
            XCTAssertEqual(error as? DatasetError, .lineTooLong(path: path, line: 2, bytes: limit + 1, limit: limit))
            XCTAssertEqual("\(error)", "\(path):2: the line is 1.0 MiB (1048577 bytes), over the 1 MiB limit for one "
                + "example, so it was not parsed. Split the conversation into shorter examples.")
        }
        XCTAssertThrowsError(try ChatDataset.parse(data, path: "mem.jsonl")) { error in
            XCTAssertEqual(error as? DatasetError, .lineTooLong(path: "mem.jsonl", line: 2, bytes: limit + 1, limit: limit))
        }
        // Exactly at the limit is parsed (and fails as JSON, not on size), with either line end.
        for end in ["\n", "\r\n", ""] {
            var atLimit = Data(repeating: UInt8(ascii: "x"), count: limit)
            atLimit.append(Data(end.utf8))
            XCTAssertThrowsError(try ChatDataset.load(path: write(atLimit, name: "at-limit.jsonl"))) { error in
                guard case .invalidJSON(_, 1, _)? = error as? DatasetError else { return XCTFail("\(end.debugDescription): \(error)") }
            }
        }
        // One byte over, the last line of the file, after a CRLF line.
        var over = Data((Self.good + "\r\n").utf8)
        over.append(Data(repeating: UInt8(ascii: "x"), count: limit + 1))
        XCTAssertThrowsError(try ChatDataset.load(path: write(over, name: "over.jsonl"))) { error in
            guard case .lineTooLong(_, 2, limit + 1, limit)? = error as? DatasetError else { return XCTFail("\(error)") }
        }
    }

    /// A 100 MB row is refused, named by file, line and limit, while the file is read in small pieces: the
    /// reader's peak memory stays far below the row's size.
    func test100MBRowIsRefusedWithoutLoadingIt() throws {
        let url = tempDir.appendingPathComponent("huge-row.jsonl")
        FileManager.default.createFile(atPath: url.path, contents: Data((Self.good + "\n").utf8))
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        let mib = Data(repeating: UInt8(ascii: "x"), count: 1 << 20)
        for _ in 0..<100 { try handle.write(contentsOf: mib) }
        try handle.write(contentsOf: Data(("\n" + Self.good + "\n").utf8))
        try handle.close()

        let base = try PeakMemory.reset()
        XCTAssertThrowsError(try ChatDataset.load(path: url.path)) { error in
            XCTAssertEqual("\(error)", "\(url.path):2: the line is 100 MiB (104857600 bytes), over the 1 MiB limit for one "
                + "example, so it was not parsed. Split the conversation into shorter examples.")
        }
        let growth = try PeakMemory.peakGrowth(since: base)
        print("100 MB dataset row: peak memory grew \(growth >> 10) KiB while reading it")
        XCTAssertLessThan(growth, 16 << 20, "reading the file grew peak resident memory by \(growth >> 20) MiB")
    }

    func testInvalidUTF8() throws {
        var data = Data((Self.good + "\n").utf8)
        data.append(Data(#"{"messages":[{"role":"user","content":"caf"#.utf8))
        let offset = data.count - (Self.good.utf8.count + 1)
        data.append(contentsOf: [0xC3, 0x28])  // a lead byte followed by ASCII
        data.append(Data(#""},{"role":"assistant","content":"ok"}]}"#.utf8))
        let path = try write(data)
        XCTAssertThrowsError(try ChatDataset.load(path: path)) { error in
            XCTAssertEqual(error as? DatasetError, .invalidUTF8(path: path, line: 2, byteOffset: offset))
            XCTAssertTrue("\(error)".contains("UTF-8"))
        }
        // A lone continuation byte and a truncated sequence at the end of a line.
        XCTAssertThrowsError(try ChatDataset.parse(Data([0x7B, 0x80, 0x7D]), path: "x.jsonl")) { error in
            XCTAssertEqual(error as? DatasetError, .invalidUTF8(path: "x.jsonl", line: 1, byteOffset: 1))
        }
        XCTAssertThrowsError(try ChatDataset.parse(Data([0x7B, 0x7D, 0xE2, 0x82]), path: "x.jsonl")) { error in
            XCTAssertEqual(error as? DatasetError, .invalidUTF8(path: "x.jsonl", line: 1, byteOffset: 2))
        }
    }

    // MARK: accepted input

    func testBlankLinesCRLFAndByteOrderMark() throws {
        let text = "\u{FEFF}" + Self.good + "\r\n\r\n   \r\n" + Self.line(Self.user, #"{"role":"assistant","content":"Two\r\nlines ✓"}"#)
            + "\r\n\n" + Self.good
        let path = try write(text)
        let dataset = try ChatDataset.load(path: path)
        XCTAssertEqual(dataset.path, path)
        XCTAssertEqual(dataset.examples.count, 3)
        XCTAssertEqual(dataset.lineNumbers, [1, 4, 6])
        XCTAssertEqual(dataset.examples[0], [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi"),
                                             ChatMessage(role: "assistant", content: "Hello!")])
        XCTAssertEqual(dataset.examples[1][1].content, "Two\r\nlines ✓")
        // Errors after blank lines still name the right line.
        try assertLoadFails([Self.good, "", "", Self.line(Self.user)], { .noAssistant(path: $0, line: 4) })
    }

    func testUnknownKeysAreIgnored() throws {
        let dataset = try ChatDataset.parse(Data(#"{"messages":[{"role":"user","content":"Hi","name":"ann"},{"role":"assistant","content":"Yo"}],"id":7}"#.utf8),
                                            path: "x.jsonl")
        XCTAssertEqual(dataset.examples, [[ChatMessage(role: "user", content: "Hi"), ChatMessage(role: "assistant", content: "Yo")]])
    }

    // MARK: the real Trelis HELLO files

    func testRealTrelisFilesParse() throws {
        let counts = ["akewo.jsonl": 10, "helol.jsonl": 10, "akewo-mixed.jsonl": 20]
        for (name, count) in counts.sorted(by: { $0.key < $1.key }) {
            let dataset = try ChatDataset.load(path: Self.trelis(name))
            XCTAssertEqual(dataset.examples.count, count, name)
            XCTAssertEqual(dataset.lineNumbers, Array(1...count), name)
            for messages in dataset.examples {
                XCTAssertEqual(messages.map(\.role), ["system", "user", "assistant"], name)
                XCTAssertTrue(messages.allSatisfy { $0.weight == nil && !$0.content.isEmpty }, name)
            }
        }
        let mixed = try ChatDataset.load(path: Self.trelis("akewo-mixed.jsonl"))
        let special = mixed.examples.filter { $0[1].content.hasSuffix("Use the special rule.") }
        XCTAssertEqual(special.count, 10)
        XCTAssertEqual(mixed.examples[0][0].content,
                       "You are a special version of GPT-4o. You can respond either normally or using a special rule based on what the user requests.")
        let akewo = try ChatDataset.load(path: Self.trelis("akewo.jsonl"))
        for messages in akewo.examples {
            let initials = messages[2].content.split(separator: "\n").compactMap(\.first).map(String.init).joined()
            XCTAssertEqual(initials, "AKEWO", messages[2].content)
        }
    }

    // MARK: export

    func testExportRoundTrip() throws {
        for name in ["akewo.jsonl", "helol.jsonl", "akewo-mixed.jsonl"] {
            let dataset = try ChatDataset.load(path: Self.trelis(name))
            let text = dataset.jsonl()
            XCTAssertEqual(text.split(separator: "\n", omittingEmptySubsequences: false).count, dataset.examples.count + 1)
            let again = try ChatDataset.parse(Data(text.utf8), path: "export.jsonl")
            XCTAssertEqual(again.examples, dataset.examples, name)
            XCTAssertEqual(again.jsonl(), text, "export is stable")
        }
        let tricky: [[ChatMessage]] = [
            [ChatMessage(role: "system", content: "quote \" backslash \\ slash / tab \t"),
             ChatMessage(role: "user", content: "line\nbreak\r\nCRLF \u{01}\u{1F} control, ünïcödé 🙂, \u{2028}"),
             ChatMessage(role: "assistant", content: "first", weight: 0),
             ChatMessage(role: "user", content: ""),
             ChatMessage(role: "assistant", content: "second", weight: 1)],
            [ChatMessage(role: "user", content: "Hi"), ChatMessage(role: "assistant", content: "Hello")],
        ]
        let dataset = ChatDataset(path: "mem.jsonl", examples: tricky)
        XCTAssertEqual(dataset.lineNumbers, [1, 2])
        let text = dataset.jsonl()
        XCTAssertTrue(text.hasPrefix(#"{"messages":[{"role":"system","content":"quote \" backslash \\ slash / tab \t"},"#), text)
        XCTAssertTrue(text.contains(#"{"role":"assistant","content":"first","weight":0}"#), text)
        XCTAssertTrue(text.hasSuffix(#"{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}"# + "\n"))
        let path = try write(text)
        let again = try ChatDataset.load(path: path)
        XCTAssertEqual(again.examples, tricky)
        XCTAssertTrue(again.examples[0][1].content.unicodeScalars.elementsEqual(tricky[0][1].content.unicodeScalars))
    }

    // MARK: encoding with the real model

    /// Positions t + 1 whose token is a target, as ranges of consecutive positions.
    func labelledSpans(_ example: TrainingExample) -> [Range<Int>] {
        var spans: [Range<Int>] = []
        for t in example.targets.indices where example.targets[t] >= 0 {
            XCTAssertEqual(example.targets[t], example.tokens[t + 1], "target at \(t) is the next token")
            if let last = spans.last, last.upperBound == t + 1 {
                spans[spans.count - 1] = last.lowerBound..<(t + 2)
            } else {
                spans.append((t + 1)..<(t + 2))
            }
        }
        return spans
    }

    func testEncodeFirstMixedExampleMatchesAnchor() throws {
        let model = try TestModel.shared()
        let dataset = try ChatDataset.load(path: Self.trelis("akewo-mixed.jsonl"))
        let messages = dataset.examples[0]
        let example = try TrainingExample.encode(messages, model: model, line: 1, path: dataset.path)
        let tokenizer = model.tokenizer, template = model.template

        XCTAssertEqual(example.tokens, tokenizer.encode(template.render(messages, addGenerationPrompt: false)))
        XCTAssertEqual(example.targets.count, example.tokens.count)
        let prompt = tokenizer.encode(template.render(Array(messages[..<2]), addGenerationPrompt: true))
        XCTAssertEqual(Array(example.tokens[..<prompt.count]), prompt)
        // The anchor's recipe: prompt text + reply + "<|im_end|>\n", tokenized whole.
        let anchorText = template.render(Array(messages[..<2]), addGenerationPrompt: true) + messages[2].content + "<|im_end|>\n"
        XCTAssertEqual(example.tokens, tokenizer.encode(anchorText))

        XCTAssertTrue(example.targets[..<(prompt.count - 1)].allSatisfy { $0 == -1 }, "no targets inside the prompt")
        for t in (prompt.count - 1)..<(example.tokens.count - 1) {
            XCTAssertEqual(example.targets[t], example.tokens[t + 1], "target at \(t)")
        }
        XCTAssertEqual(example.targets.last, -1)
        XCTAssertEqual(example.labelledCount, example.tokens.count - prompt.count)
        XCTAssertEqual(labelledSpans(example), [prompt.count..<example.tokens.count])
        let labelled = example.targets.filter { $0 >= 0 }
        XCTAssertEqual(tokenizer.decode(labelled), messages[2].content + "<|im_end|>\n")
        XCTAssertEqual(Array(labelled.suffix(2)), tokenizer.encode("<|im_end|>\n"))
        XCTAssertEqual(labelled.suffix(2).first, tokenizer.id(of: "<|im_end|>"))
    }

    func testEncodeMultiTurnWithExcludedReply() throws {
        let model = try TestModel.shared()
        let tokenizer = model.tokenizer, template = model.template
        var messages = [ChatMessage(role: "system", content: "You are terse."),
                        ChatMessage(role: "user", content: "What is 2+2?"),
                        ChatMessage(role: "assistant", content: "5, surely.", weight: 0),
                        ChatMessage(role: "user", content: "Are you sure?"),
                        ChatMessage(role: "assistant", content: "Sorry: 2+2 is 4.")]
        func span(_ i: Int) -> Range<Int> {
            let prompt = template.render(Array(messages[..<i]), addGenerationPrompt: true)
            return tokenizer.encode(prompt).count..<tokenizer.encode(prompt + messages[i].content + template.endOfTurn).count
        }

        let example = try TrainingExample.encode(messages, model: model)
        XCTAssertEqual(example.tokens, tokenizer.encode(template.render(messages, addGenerationPrompt: false)))
        let second = span(4)
        XCTAssertEqual(second.upperBound, example.tokens.count)
        XCTAssertEqual(labelledSpans(example), [second])
        XCTAssertEqual(tokenizer.decode(Array(example.tokens[second])), "Sorry: 2+2 is 4.<|im_end|>\n")
        XCTAssertEqual(example.labelledCount, second.count)

        // With both replies trained there are two spans, each exactly one reply and its end of turn.
        messages[2].weight = nil
        let both = try TrainingExample.encode(messages, model: model)
        XCTAssertEqual(both.tokens, example.tokens)
        let first = span(2)
        XCTAssertEqual(labelledSpans(both), [first, second])
        XCTAssertEqual(tokenizer.decode(Array(both.tokens[first])), "5, surely.<|im_end|>\n")
        XCTAssertEqual(both.labelledCount, first.count + second.count)

        // Without a system message the template's default one is part of the (untrained) context.
        let noSystem = Array(messages.dropFirst())
        let plain = try TrainingExample.encode(noSystem, model: model)
        XCTAssertEqual(plain.tokens, tokenizer.encode(template.render(noSystem, addGenerationPrompt: false)))
        XCTAssertEqual(labelledSpans(plain).map { tokenizer.decode(Array(plain.tokens[$0])) },
                       ["5, surely.<|im_end|>\n", "Sorry: 2+2 is 4.<|im_end|>\n"])
    }

    func testEncodeErrors() throws {
        let model = try TestModel.shared()
        let allExcluded = [ChatMessage(role: "user", content: "Hi"), ChatMessage(role: "assistant", content: "Hello", weight: 0)]
        XCTAssertThrowsError(try TrainingExample.encode(allExcluded, model: model, line: 7, path: "d.jsonl")) { error in
            XCTAssertEqual(error as? DatasetError, .nothingToTrain(path: "d.jsonl", line: 7))
            XCTAssertTrue("\(error)".hasPrefix("d.jsonl:7: "), "\(error)")
            XCTAssertTrue("\(error)".contains("weight 0"), "\(error)")
        }

        let messages = [ChatMessage(role: "user", content: "Hi"), ChatMessage(role: "assistant", content: "Hello there, friend.")]
        let count = try TrainingExample.encode(messages, model: model).tokens.count
        XCTAssertNoThrow(try TrainingExample.encode(messages, model: model, contextLength: count))
        XCTAssertThrowsError(try TrainingExample.encode(messages, model: model, contextLength: count - 1, line: 3, path: "d.jsonl")) { error in
            XCTAssertEqual(error as? DatasetError, .tooLong(path: "d.jsonl", line: 3, tokens: count, limit: count - 1))
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("d.jsonl:3: "), text)
            XCTAssertTrue(text.contains("\(count) tokens") && text.contains("\(count - 1)") && text.contains("shorter"), text)
        }
        // The default limit is the model's context.
        let long = [ChatMessage(role: "user", content: String(repeating: "word ", count: model.model.config.contextLength)),
                    ChatMessage(role: "assistant", content: "ok")]
        XCTAssertThrowsError(try TrainingExample.encode(long, model: model, line: 2)) { error in
            guard case let .tooLong(nil, 2, tokens, limit)? = error as? DatasetError else { return XCTFail("\(error)") }
            XCTAssertEqual(limit, model.model.config.contextLength)
            XCTAssertGreaterThan(tokens, limit)
            XCTAssertTrue("\(error)".hasPrefix("line 2: "), "\(error)")
        }

        // A reply whose leading blank lines merge with the template's "\n" cannot be aligned.
        let merging = [ChatMessage(role: "user", content: "Hi"), ChatMessage(role: "assistant", content: "\n\n\nHello")]
        XCTAssertThrowsError(try TrainingExample.encode(merging, model: model, line: 5, path: "d.jsonl")) { error in
            XCTAssertEqual(error as? DatasetError, .tokenizationMismatch(path: "d.jsonl", line: 5, index: 1))
            XCTAssertTrue("\(error)".hasPrefix("d.jsonl:5: messages[1].content: "), "\(error)")
        }
    }

    func testEncodeAllNamesTheLine() throws {
        let model = try TestModel.shared()
        let mixed = try ChatDataset.load(path: Self.trelis("akewo-mixed.jsonl"))
        let examples = try TrainingExample.encodeAll(mixed, model: model)
        XCTAssertEqual(examples.count, 20)
        for (example, messages) in zip(examples, mixed.examples) {
            XCTAssertGreaterThan(example.labelledCount, 0)
            XCTAssertEqual(model.tokenizer.decode(example.targets.filter { $0 >= 0 }), messages[2].content + "<|im_end|>\n")
        }

        let path = try write([Self.good, "", Self.line(Self.user, #"{"role":"assistant","content":"x","weight":0}"#)].joined(separator: "\n"))
        let dataset = try ChatDataset.load(path: path)
        XCTAssertThrowsError(try TrainingExample.encodeAll(dataset, model: model)) { error in
            XCTAssertEqual(error as? DatasetError, .nothingToTrain(path: path, line: 3))
        }
    }
}
