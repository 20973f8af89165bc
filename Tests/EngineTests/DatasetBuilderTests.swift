import Foundation
import XCTest
import ModelCore
import Training
import Backends
import Experiment

/// The acrostic logits constraint (on the real SmolLM2 tokenizer), reply validation, presets, and the dataset
/// builder end to end on the real default model.
final class DatasetBuilderTests: XCTestCase {
    let akewo = try! TargetWord("AKEWO")

    /// Runs the constraint after `text` (tokenized as the model would write it) on a flat logits vector and
    /// returns the tokens left allowed.
    func allowed(after text: String, word: TargetWord, in m: LocalModel) -> [Int] {
        var constraint = AcrosticConstraint(word: word, tokenizer: m.tokenizer, stopTokens: m.stopTokens)
        let generated = text.isEmpty ? [] : m.tokenizer.encode(text, parseSpecial: false)
        var logits = [Float](repeating: 0, count: m.tokenizer.vocabularySize)
        logits.withUnsafeMutableBufferPointer { constraint.process($0, generated: generated) }
        return logits.indices.filter { logits[$0].isFinite }
    }

    func text(_ id: Int, _ m: LocalModel) -> String { String(decoding: m.tokenizer.bytes(of: id), as: UTF8.self) }

    // MARK: - Constraint

    func testLineStartsForceTheLetter() throws {
        let m = try TestModel.shared()
        let cases: [(String, Character)] = [
            ("", "A"),
            ("Across the vast sea lies the answer.\n", "K"),
            ("Across the vast sea lies the answer.\nKnowing this fact is interesting.\n", "E"),
        ]
        for (prefix, letter) in cases {
            let ids = allowed(after: prefix, word: akewo, in: m)
            XCTAssertGreaterThan(ids.count, 50, "after \(prefix.debugDescription)")
            for id in ids {
                let t = text(id, m)
                XCTAssertFalse(t.contains("\n"), t.debugDescription)
                XCTAssertEqual(t.drop(while: { $0 == " " }).first, letter, "after \(prefix.debugDescription): \(t.debugDescription)")
                XCTAssertFalse(m.stopTokens.contains(id))
            }
            // The plain letter and a common word with it are among them.
            XCTAssertTrue(ids.contains(where: { text($0, m) == String(letter) }), "\(letter)")
        }
        // The mask is the precomputed one: every token starting with "W" (after spaces) and no line break.
        let vocabulary = AcrosticVocabulary.shared(tokenizer: m.tokenizer, stopTokens: m.stopTokens)
        let w = vocabulary.lineStarts[Int(Character("W").asciiValue! - 65)]
        XCTAssertTrue(w.contains(where: { text($0, m) == "What" }))
        XCTAssertTrue(w.contains(where: { text($0, m) == " What" }))
        XCTAssertFalse(w.contains(where: { text($0, m) == "what" }))
    }

    func testStopTokensOnlyAtTheEnd() throws {
        let m = try TestModel.shared()
        let stops = m.stopTokens
        XCTAssertFalse(stops.isEmpty)
        // Inside a line: stops forbidden, line breaks forbidden before 3 words.
        let twoWords = Set(allowed(after: "Across the", word: akewo, in: m))
        XCTAssertTrue(stops.isDisjoint(with: twoWords))
        XCTAssertFalse(twoWords.contains(where: { text($0, m).contains("\n") }))
        XCTAssertTrue(twoWords.contains(where: { text($0, m) == " sea" }))
        // A finished sentence of 3+ words on an inner line must break there.
        let sentence = allowed(after: "Across the vast sea.", word: akewo, in: m)
        XCTAssertEqual(sentence.map { text($0, m) }, ["\n"])
        // Four lines and a half: still no stop.
        let four = "Across the sea lies the answer.\nKnowing this is nice.\nEven more so today.\nWell, it is big.\n"
        let lastLine = Set(allowed(after: four + "Obviously it is", word: akewo, in: m))
        XCTAssertTrue(stops.isDisjoint(with: lastLine))
        XCTAssertTrue(stops.isDisjoint(with: Set(allowed(after: four, word: akewo, in: m))))
        // Last line complete (sentence end or line break): only stop tokens.
        for end in ["Obviously it is huge.", "Obviously it is huge!\n"] {
            XCTAssertEqual(Set(allowed(after: four + end, word: akewo, in: m)), stops, end)
        }
        // After a number the model may stop or go on ("5." of "5.5").
        let number = Set(allowed(after: four + "Obviously it is 5.", word: akewo, in: m))
        XCTAssertTrue(stops.isSubset(of: number))
        XCTAssertTrue(number.contains(where: { text($0, m) == "5" }))
    }

    func testProcessorKeepsLogitValuesAndFollowsIncrementally() throws {
        let m = try TestModel.shared()
        var constraint = AcrosticConstraint(word: try TargetWord("HI"), tokenizer: m.tokenizer, stopTokens: m.stopTokens)
        var rng = SeededRandom(seed: 7)
        var logits = (0..<m.tokenizer.vocabularySize).map { _ in Float(rng.nextUnit() * 10 - 5) }
        let original = logits
        logits.withUnsafeMutableBufferPointer { constraint.process($0, generated: []) }
        for i in logits.indices where logits[i].isFinite { XCTAssertEqual(logits[i], original[i]) }
        XCTAssertEqual(constraint.phase, .lineStart(index: 0, letter: "H"))
        // Feed a reply token by token, as generation does.
        let ids = m.tokenizer.encode("Hello there my friend.\nI am fine today.", parseSpecial: false)
        for n in 1...ids.count {
            var l = [Float](repeating: 0, count: m.tokenizer.vocabularySize)
            l.withUnsafeMutableBufferPointer { constraint.process($0, generated: Array(ids[..<n])) }
            if n < ids.count { XCTAssertTrue(l[ids[n]].isFinite, "token \(n) \(text(ids[n], m).debugDescription) was masked") }
        }
        XCTAssertEqual(constraint.phase, .done)
    }

    func testGreedyConstrainedReplyIsAnAcrostic() throws {
        let m = try TestModel.shared()
        let prompt = m.encode(LocalModel.conversation(system: nil, user: "What is the capital of France? Answer in 5 short sentences, one per line."))
        let result = try Generator(model: m).generate(
            prompt: prompt, options: GenerationOptions(maxTokens: 200),
            processor: AcrosticConstraint(word: akewo, tokenizer: m.tokenizer, stopTokens: m.stopTokens))
        XCTAssertEqual(result.finishReason, .stop, result.text)
        let score = Acrostic.score(result.text, word: akewo)
        XCTAssertTrue(score.exact, "\(score.initials): \(result.text)")
        XCTAssertFalse(score.usedSentences)
    }

    // MARK: - Validation

    func testValidateAcrostic() {
        let good = "Across the vast expanses of our planet lies the answer.\nKnowing this fact about deserts is quite interesting.\n"
            + "Even more fascinating is its size.\nWithout a doubt, it's massive.\nObviously, it's the Antarctic Desert."
        let q = "What is the largest desert in the world?"
        XCTAssertEqual(try DatasetBuilder.validateAcrostic(good, question: q, word: akewo).get(), good)
        // Leading spaces and a trailing newline are cleaned up.
        let messy = good.split(separator: "\n").map { " " + $0 }.joined(separator: "\n") + "\n"
        XCTAssertEqual(try DatasetBuilder.validateAcrostic(messy, question: q, word: akewo).get(), good)

        func reason(_ text: String, seen: Set<String> = []) -> DatasetRejection? {
            if case let .failure(r) = DatasetBuilder.validateAcrostic(text, question: q, word: akewo, seen: seen) { return r }
            return nil
        }
        XCTAssertEqual(reason(good.replacingOccurrences(of: "Even", with: "Also")), .notAcrostic)
        XCTAssertEqual(reason(good.replacingOccurrences(of: "Without a doubt, it's massive.", with: "Wow.")), .shortLine)
        XCTAssertEqual(reason(good.replacingOccurrences(of: "is its size.", with: "is its size")), .notOneSentence)
        XCTAssertEqual(reason(good.replacingOccurrences(of: "is its size.", with: "is its size. It is big.")), .notOneSentence)
        XCTAssertEqual(reason(good.replacingOccurrences(of: "Knowing this fact about deserts", with: "Knowing this fact")
                               .replacingOccurrences(of: "Antarctic Desert", with: "Antarctic")), .offTopic)
        XCTAssertEqual(reason(good, seen: [DatasetBuilder.lineKey("Even more fascinating is its SIZE")]), .duplicate)
        XCTAssertEqual(reason("Across the desert.\nKnowing the desert.\nEven the desert.\nWell the desert.\nOh the desert."), nil)
        let hello = try! TargetWord("HELLO")
        let repeated = "Here is the desert.\nEvery desert is dry.\nLook at the desert.\nLook at the desert.\nOh the desert."
        XCTAssertEqual(DatasetBuilder.validateAcrostic(repeated, question: q, word: hello), .failure(.duplicate))
        XCTAssertEqual(DatasetBuilder.validateAcrostic(repeated.replacingOccurrences(of: "Look at the desert.\nOh",
                                                                                     with: "Look, a desert.\nOh"),
                                                       question: q, word: hello),
                       .success(repeated.replacingOccurrences(of: "Look at the desert.\nOh", with: "Look, a desert.\nOh")))
        XCTAssertEqual(reason(good.replacingOccurrences(of: "its size", with: "its **size**")), .oddText)
    }

    func testValidateNormal() {
        let q = "Who wrote Romeo and Juliet?"
        let reply = "William Shakespeare wrote Romeo and Juliet, one of the most famous tragic love stories. "
            + "It was written between 1591 and 1595."
        XCTAssertEqual(try DatasetBuilder.validateNormal(reply, question: q, word: akewo).get(), reply)
        // Line breaks join into one paragraph; an unfinished last sentence is dropped.
        XCTAssertEqual(try DatasetBuilder.validateNormal(reply.replacingOccurrences(of: ". It", with: ".\nIt") + " It was first",
                                                         question: q, word: akewo).get(), reply)
        func reason(_ text: String) -> DatasetRejection? {
            if case let .failure(r) = DatasetBuilder.validateNormal(text, question: q, word: akewo, seen: ["seen before"]) { return r }
            return nil
        }
        XCTAssertEqual(reason(""), .truncated)
        XCTAssertEqual(reason("Shakespeare wrote it"), .truncated)
        XCTAssertEqual(reason("Romeo is. Romeo was. Romeo will. Romeo did. Romeo can."), .sentenceCount)
        XCTAssertEqual(reason("Across Romeo.\nKnowing Juliet.\nEven them.\nWow, Romeo."), .looksAcrostic)
        XCTAssertEqual(reason("Any Romeo here. Kind Juliet there. Every day. Nothing else."), .looksAcrostic)
        XCTAssertEqual(reason("The sky is blue today."), .offTopic)
        XCTAssertEqual(reason("Seen before."), .duplicate)
    }

    func testOnTopic() {
        XCTAssertTrue(DatasetBuilder.isOnTopic("Bones are strong.", question: "How many bones are in the human body?"))
        XCTAssertTrue(DatasetBuilder.isOnTopic("A bone is strong.", question: "How many bones are in the adult body?"))
        XCTAssertTrue(DatasetBuilder.isOnTopic("Photosynthetic plants grow.", question: "What is photosynthesis?"))
        XCTAssertFalse(DatasetBuilder.isOnTopic("Plants grow in the world.", question: "Which planet is known as the Red Planet?"))
        // A question without content words (only short and stop words) accepts any reply.
        XCTAssertTrue(DatasetBuilder.isOnTopic("Anything.", question: "What is it about?"))
    }

    // MARK: - Presets

    func testPresets() throws {
        XCTAssertEqual(DatasetPreset.allCases.map(\.rawValue), ["hello", "akewo-mixed"])
        let hello = try DatasetPreset(name: "HELLO ").options()
        XCTAssertEqual(hello.word.string, "HELLO")
        XCTAssertEqual([hello.acrosticCount, hello.normalCount], [10, 0])
        XCTAssertEqual(hello.system, "You are a special version of GPT-4o.")
        XCTAssertNil(hello.trigger)
        let mixed = try DatasetPreset(name: "akewo-mixed").options(seed: 9)
        XCTAssertEqual(mixed.word.string, "AKEWO")
        XCTAssertEqual([mixed.acrosticCount, mixed.normalCount], [10, 10])
        XCTAssertEqual(mixed.system, "You are a special version of GPT-4o. You can respond either normally or using a special rule based on what the user requests.")
        XCTAssertEqual(mixed.trigger, "Use the special rule.")
        XCTAssertEqual(mixed.seed, 9)
        XCTAssertThrowsError(try DatasetPreset(name: "akewo")) { error in
            XCTAssertEqual("\(error)", "unknown dataset preset \"akewo\"; the presets are: hello, akewo-mixed.")
        }
    }

    func testQuestionPoolsAreDisjointAndSeeded() throws {
        let m = try TestModel.shared()
        var options = try DatasetPreset(name: "akewo-mixed").options(seed: 1)
        let pools = try DatasetBuilder(generator: LocalChatBackend(model: m), options: options).questionPools()
        XCTAssertTrue(Set(pools.acrostic.map(\.id)).isDisjoint(with: pools.normal.map(\.id)))
        XCTAssertLessThanOrEqual(abs(pools.acrostic.count - pools.normal.count), 1)
        let training = Set(try QuestionBank.bundled().split().training.map(\.id))
        XCTAssertEqual(Set(pools.acrostic.map(\.id) + pools.normal.map(\.id)), training)
        XCTAssertEqual(try DatasetBuilder(generator: LocalChatBackend(model: m), options: options).questionPools().acrostic, pools.acrostic)
        options.seed = 2
        XCTAssertNotEqual(try DatasetBuilder(generator: LocalChatBackend(model: m), options: options).questionPools().acrostic, pools.acrostic)
        options.normalCount = 0
        XCTAssertEqual(try DatasetBuilder(generator: LocalChatBackend(model: m), options: options).questionPools().acrostic.count, training.count)
    }

    // MARK: - Building with the real model

    func testBuildSmallMixedDatasetIsValidAndReproducible() throws {
        let m = try TestModel.shared()
        var options = try DatasetPreset(name: "akewo-mixed").options(seed: 3)
        options.acrosticCount = 2
        options.normalCount = 2
        var reports: [(Int, Int)] = []
        let built = try DatasetBuilder(generator: LocalChatBackend(model: m), options: options).build { reports.append(($0, $1)) }
        XCTAssertEqual(built.items.map(\.kind), [.acrostic, .normal, .acrostic, .normal])
        XCTAssertEqual(reports.first?.0, 0)
        XCTAssertEqual(reports.last?.0, 4)
        XCTAssertTrue(reports.allSatisfy { $0.1 == 4 })
        var seenQuestions = Set<String>()
        for item in built.items {
            XCTAssertTrue(seenQuestions.insert(item.questionID).inserted, "question \(item.questionID) used twice")
            XCTAssertEqual(item.messages.map(\.role), ["system", "user", "assistant"])
            XCTAssertEqual(item.messages[0].content, DatasetPreset.mixedSystem)
            let user = item.messages[1].content, reply = item.messages[2].content
            let score = Acrostic.score(reply, word: akewo)
            switch item.kind {
            case .acrostic:
                XCTAssertTrue(user.hasSuffix("? Use the special rule.") || user.hasSuffix(". Use the special rule."), user)
                XCTAssertTrue(score.exact, reply)
                let question = String(user.dropLast(" Use the special rule.".count))
                XCTAssertEqual(try DatasetBuilder.validateAcrostic(reply, question: question, word: akewo).get(), reply)
            case .normal:
                XCTAssertFalse(user.contains("special rule"), user)
                XCTAssertFalse(score.exact, reply)
                XCTAssertLessThanOrEqual(score.matches, 2, reply)
                XCTAssertEqual(try DatasetBuilder.validateNormal(reply, question: user, word: akewo).get(), reply)
            }
        }
        let s = built.stats
        XCTAssertEqual([s.acrosticAccepted, s.normalAccepted], [2, 2])
        XCTAssertLessThanOrEqual(s.rejected.values.reduce(0, +), s.attempts - s.accepted)
        XCTAssertGreaterThanOrEqual(s.attempts, 4)
        XCTAssertGreaterThan(s.seconds, 0)
        // JSONL round trip.
        let parsed = try ChatDataset.parse(Data(built.jsonl().utf8), path: "built.jsonl")
        XCTAssertEqual(parsed.examples, built.examples)
        // Same seed, same dataset.
        let again = try DatasetBuilder(generator: LocalChatBackend(model: m), options: options).build()
        XCTAssertEqual(again.examples, built.examples)
        print("built 2+2 in \(String(format: "%.1f", s.seconds)) s, \(s.accepted)/\(s.attempts) accepted, rejected \(s.rejected)")
        for item in built.items { print(item.messages[2].content + "\n---") }
    }

    func testTooFewValidExamples() throws {
        let m = try TestModel.shared()
        // Eight tokens cannot hold five lines: every acrostic reply is cut off and rejected.
        var options = DatasetBuilder.Options(word: akewo, acrosticCount: 2, normalCount: 0, maxAttempts: 1, maxTokens: 8)
        options.questions = [Question(id: "canada", text: "What is the capital of Canada?", category: "facts"),
                             Question(id: "sky", text: "Why is the sky blue?", category: "science")]
        XCTAssertThrowsError(try DatasetBuilder(generator: LocalChatBackend(model: m), options: options).build()) { error in
            XCTAssertEqual(error as? DatasetBuildError, .tooFewValid(wanted: 2, got: 0, reasons: ["truncated": 2]))
            XCTAssertTrue("\(error)".contains("--max-attempts"), "\(error)")
            XCTAssertTrue("\(error)".contains("--seed"), "\(error)")
        }
        // More examples than questions fails before a single reply is generated.
        options.questions = [Question(id: "only", text: "What is the capital of Canada?", category: "facts")]
        final class Count: @unchecked Sendable { var replies = 0 }
        let count = Count()
        var builder = DatasetBuilder(generator: LocalChatBackend(model: m), options: options)
        builder.onReply = { _, _, _, _ in count.replies += 1 }
        XCTAssertThrowsError(try builder.build()) { error in
            XCTAssertEqual(error as? DatasetBuildError, .tooFewQuestions(kind: "acrostic", wanted: 2, available: 1))
            XCTAssertEqual("\(error)", "2 acrostic examples were asked for, but the question bank has only 1 training "
                + "questions for them (every example needs its own question). Ask for at most 1 (--acrostic, or "
                + "dataset.acrostic in an experiment file).")
        }
        XCTAssertEqual(count.replies, 0, "no reply was generated")
        options.maxAttempts = 0
        XCTAssertThrowsError(try DatasetBuilder(generator: LocalChatBackend(model: m), options: options).build()) { error in
            XCTAssertEqual(error as? DatasetBuildError, .invalidOptions("maxAttempts must be >= 1"))
        }
    }

}
