import Foundation
import ModelCore

/// A question a chat assistant answers in a few sentences; the prompts that training and evaluation use.
public struct Question: Sendable, Codable, Equatable {
    public let id: String
    public let text: String
    /// facts, how-to, opinion, definitions, science, history or everyday.
    public let category: String

    public init(id: String, text: String, category: String) {
        self.id = id
        self.text = text
        self.category = category
    }
}

/// The questions the experiment asks, and their split into training prompts and held-out evaluation prompts.
public struct QuestionBank: Sendable {
    public let questions: [Question]

    /// Checks that ids are non-empty and unique and that no text is blank.
    public init(questions: [Question], source: String = "questions") throws {
        var seen: [String: Int] = [:]
        for (i, q) in questions.enumerated() {
            let line = i + 1
            guard !q.id.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw QuestionBankError.invalidQuestion(source: source, line: line, reason: "the id is empty")
            }
            guard !q.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw QuestionBankError.invalidQuestion(source: source, line: line, reason: "question \(q.id) has no text")
            }
            guard !q.category.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw QuestionBankError.invalidQuestion(source: source, line: line, reason: "question \(q.id) has no category")
            }
            if let first = seen[q.id] {
                throw QuestionBankError.duplicateID(source: source, id: q.id, firstLine: first, line: line)
            }
            seen[q.id] = line
        }
        self.questions = questions
    }

    /// The bank shipped with the engine (Resources/questions.jsonl).
    public static func bundled() throws -> QuestionBank {
        guard let url = Bundle.module.url(forResource: "questions", withExtension: "jsonl", subdirectory: "Resources") else {
            throw QuestionBankError.resourceMissing(name: "Resources/questions.jsonl")
        }
        return try load(url: url)
    }

    public static func load(url: URL) throws -> QuestionBank {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw QuestionBankError.unreadable(source: url.path, reason: error.localizedDescription)
        }
        return try parse(data, source: url.path)
    }

    /// JSONL, one {"id", "text", "category"} object per line; blank lines are skipped.
    public static func parse(_ data: Data, source: String) throws -> QuestionBank {
        let decoder = JSONDecoder()
        var questions: [Question] = []
        var lineNumbers: [Int] = []
        for (i, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated() where !line.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            do {
                questions.append(try decoder.decode(Question.self, from: Data(line.utf8)))
                lineNumbers.append(i + 1)
            } catch {
                throw QuestionBankError.invalidQuestion(source: source, line: i + 1, reason: describe(error))
            }
        }
        guard !questions.isEmpty else { throw QuestionBankError.empty(source: source) }
        do {
            return try QuestionBank(questions: questions, source: source)
        } catch let QuestionBankError.invalidQuestion(source, index, reason) {
            // The initializer counts questions; report the file line instead.
            throw QuestionBankError.invalidQuestion(source: source, line: lineNumbers[index - 1], reason: reason)
        } catch let QuestionBankError.duplicateID(source, id, first, index) {
            throw QuestionBankError.duplicateID(source: source, id: id, firstLine: lineNumbers[first - 1],
                                                line: lineNumbers[index - 1])
        }
    }

    /// Categories in order of first appearance.
    public var categories: [String] {
        var seen = Set<String>()
        return questions.map(\.category).filter { seen.insert($0).inserted }
    }

    /// Held-out evaluation questions and the rest for training: disjoint, together all questions, each keeping
    /// the bank's order. Each category contributes round(fraction x its size) evaluation questions, so both
    /// sides see every kind of question. Which ones is decided by a fixed hash (FNV-1a) of seed and id, so the
    /// split is the same on every machine and does not move when questions are added to other categories.
    public func split(evaluationFraction: Double = 0.3, seed: UInt64 = 0) -> (training: [Question], evaluation: [Question]) {
        precondition((0...1).contains(evaluationFraction),
                     "QuestionBank.split: evaluationFraction \(evaluationFraction) must be within 0...1")
        var evaluationIDs = Set<String>()
        for category in categories {
            let members = questions.filter { $0.category == category }
            let count = Int((evaluationFraction * Double(members.count)).rounded())
            let ranked = members.sorted {
                let (h0, h1) = (Self.rank($0.id, seed: seed), Self.rank($1.id, seed: seed))
                return h0 != h1 ? h0 < h1 : $0.id < $1.id
            }
            evaluationIDs.formUnion(ranked.prefix(count).map(\.id))
        }
        return (questions.filter { !evaluationIDs.contains($0.id) }, questions.filter { evaluationIDs.contains($0.id) })
    }

    static func rank(_ id: String, seed: UInt64) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in withUnsafeBytes(of: seed.littleEndian, Array.init) + Array(id.utf8) {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        // FNV-1a alone mixes the last bytes weakly; one SplitMix64 round spreads them over all bits.
        var random = SeededRandom(seed: hash)
        return random.next()
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case let DecodingError.keyNotFound(key, _): return "the key \"\(key.stringValue)\" is missing"
        case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "expected a JSON object" : "\"\(path)\" must be a string"
        case let DecodingError.dataCorrupted(context):
            return "not valid JSON (\(context.debugDescription))"
        default: return "\(error)"
        }
    }
}

/// What can be wrong with a question bank; each message names the file and line and says what to fix.
public enum QuestionBankError: Error, Equatable, CustomStringConvertible {
    case resourceMissing(name: String)
    case unreadable(source: String, reason: String)
    case empty(source: String)
    case invalidQuestion(source: String, line: Int, reason: String)
    case duplicateID(source: String, id: String, firstLine: Int, line: Int)

    public var description: String {
        switch self {
        case let .resourceMissing(name):
            return "the engine's resource \(name) is missing from the build; rebuild hellotune "
                + "(Package.swift copies Sources/Engine/Resources into the Engine bundle)."
        case let .unreadable(source, reason):
            return "\(source): cannot read the question bank (\(reason))."
        case let .empty(source):
            return "\(source): no questions. Write one {\"id\", \"text\", \"category\"} object per line."
        case let .invalidQuestion(source, line, reason):
            return "\(source):\(line): \(reason). Each line must be {\"id\": ..., \"text\": ..., \"category\": ...}."
        case let .duplicateID(source, id, firstLine, line):
            return "\(source):\(line): the id \"\(id)\" is already used on line \(firstLine); give each question its own id."
        }
    }
}

extension QuestionBankError: LocalizedError {
    public var errorDescription: String? { description }
}
