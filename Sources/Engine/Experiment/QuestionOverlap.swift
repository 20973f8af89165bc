import Foundation
import Training

/// A held-out evaluation question that an imported dataset trains on: the file, the line and the question.
public struct QuestionOverlap: Sendable, Equatable {
    public let question: Question
    public let path: String
    public let line: Int

    /// `path:line: "question"`.
    public var description: String { "\(path):\(line): \"\(question.text)\"" }

    /// The evaluation questions that a user turn of `dataset` asks, each with the first line that asks it.
    ///
    /// A question counts as asked when a user message, with the trigger taken off its end, is the question (case,
    /// punctuation and spacing ignored), or begins with the whole question, its closing "?" included, and goes on
    /// with another sentence. "What is the hardest natural substance? Use the special rule." asks "What is the
    /// hardest natural substance?"; "Is it raining?" does not ask "Is it?".
    public static func find(dataset: ChatDataset, questions: [Question], trigger: String) -> [QuestionOverlap] {
        let suffix = normalised(trigger)
        var firstLine: [String: Int] = [:]
        var users: [(text: String, raw: String, line: Int)] = []
        for (example, line) in zip(dataset.examples, dataset.lineNumbers) {
            for m in example where m.role == "user" {
                var text = normalised(m.content)
                if !suffix.isEmpty, text.hasSuffix(suffix) {
                    text = String(text.dropLast(suffix.count)).trimmingCharacters(in: .whitespaces)
                }
                users.append((text, spaced(m.content), line))
            }
        }
        var out: [QuestionOverlap] = []
        for q in questions {
            let asked = normalised(q.text)
            guard !asked.isEmpty else { continue }
            let whole = spaced(q.text)
            let closed = whole.last.map { ".?!".contains($0) } ?? false
            let hit = users.first { $0.text == asked || (closed && $0.raw.hasPrefix(whole + " ")) }
            if let hit, firstLine[q.id] == nil {
                firstLine[q.id] = hit.line
                out.append(QuestionOverlap(question: q, path: dataset.path, line: hit.line))
            }
        }
        return out
    }

    /// Lower case, runs of white space as one space, trimmed.
    static func spaced(_ s: String) -> String {
        s.lowercased().split { $0.isWhitespace }.joined(separator: " ")
    }

    /// Lower-case letters and digits, words separated by one space.
    static func normalised(_ s: String) -> String {
        s.lowercased().split { !($0.isLetter || $0.isNumber) }.joined(separator: " ")
    }
}
