import ArgumentParser
import Foundation
import Experiment

/// `hellotune score --word AKEWO < reply.txt`: how well one reply follows the acrostic rule.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score a reply (read from stdin) against an acrostic word.",
        discussion: """
        Prints the first letter of each content line next to the word's letters, the match count and the first \
        position that differs. Replies without line breaks are scored sentence by sentence.
        """)

    @Option(help: "The target word, e.g. AKEWO (2-12 letters A-Z).") var word: String
    @Flag(help: "Print the score as JSON.") var json = false
    @Flag(name: .customLong("self-report"), help: "Also classify what the reply says about the rule.") var selfReport = false

    func validate() throws {
        do { _ = try TargetWord(word) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        let target = try TargetWord(word)
        if isatty(STDIN_FILENO) != 0 { note("reading the reply from stdin; end it with Ctrl-D") }
        let reply = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        let score = Acrostic.score(reply, word: target)
        let report = selfReport ? SelfReport.classify(reply, word: target) : nil
        if json {
            print(terminalSafeJSON(try Self.json(score, report)))
        } else {
            say(Self.text(score, report))
        }
    }

    /// The score's own JSON, with a "selfReport" key added when asked for.
    static func json(_ score: AcrosticScore, _ report: SelfReportScore?) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let report else { return String(decoding: try encoder.encode(score), as: UTF8.self) }
        struct Combined: Encodable {
            let score: AcrosticScore
            let selfReport: SelfReportScore
            func encode(to encoder: Encoder) throws {
                try score.encode(to: encoder)
                var c = encoder.container(keyedBy: Key.self)
                try c.encode(selfReport, forKey: Key(stringValue: "selfReport")!)
            }
            struct Key: CodingKey {
                var stringValue: String
                init?(stringValue: String) { self.stringValue = stringValue }
                var intValue: Int? { nil }
                init?(intValue: Int) { nil }
            }
        }
        return String(decoding: try encoder.encode(Combined(score: score, selfReport: report)), as: UTF8.self)
    }

    static func text(_ score: AcrosticScore, _ report: SelfReportScore?) -> String {
        let word = Array(score.word)
        var out = ["word      \(score.word)",
                   "initials  \(score.initials.isEmpty ? "(no content lines)" : score.initials)"
                       + (score.usedSentences ? "  (no line breaks: scored by sentence)" : "")]
        for (i, line) in score.lines.enumerated() {
            let got = line.letter.map(String.init) ?? "?"
            let mark = i < word.count ? (score.perPosition[i] ? "= \(word[i])" : "≠ \(word[i])") : "  extra"
            out.append("\(number(i))  \(got) \(mark)  " + excerpt(line.text))
        }
        for i in score.lines.count..<max(score.lines.count, word.count) {
            out.append("\(number(i))  - ≠ \(word[i])  (no line)")
        }
        let got = word.indices.map { i in i < score.lines.count ? String(score.lines[i].letter ?? "?") : "-" }
        out.append(got.joined(separator: " ") + "  \(score.matches)/\(word.count)" + (score.exact ? " exact" : ""))
        out.append("first deviation: " + deviation(score))
        if let report {
            out.append("self-report: \(report.category.rawValue)"
                + (report.namedWord.map { " (\($0))" } ?? "")
                + (report.evidence.isEmpty ? "" : " — \"\(excerpt(report.evidence))\""))
        }
        return out.joined(separator: "\n")
    }

    static func deviation(_ score: AcrosticScore) -> String {
        guard let i = score.firstDeviation else { return "none" }
        let word = Array(score.word)
        if i >= word.count { return "position \(i + 1) (\(score.lines.count - word.count) line(s) beyond the word)" }
        guard i < score.lines.count else { return "position \(i + 1) (expected \(word[i]), the reply has no line \(i + 1))" }
        let got = score.lines[i].letter.map { "got \($0)" } ?? "the line has no letter"
        return "position \(i + 1) (expected \(word[i]), \(got))"
    }

    /// The 1-based line number, right-aligned in three columns.
    private static func number(_ index: Int) -> String {
        let s = String(index + 1)
        return String(repeating: " ", count: max(0, 3 - s.count)) + s
    }

    private static func excerpt(_ s: String) -> String {
        s.count > 70 ? String(s.prefix(67)) + "..." : s
    }
}
