import Foundation
import Support

/// `samples.jsonl` in a run folder: one line per evaluation outcome (every generated reply and every probe
/// measurement), so that each number of the report can be traced to its replies without opening the store.
///
/// It is kept equal to the store: when an evaluation starts it is rewritten atomically from the outcomes the store
/// holds for the run, and each outcome the store newly accepts is appended as one line. A run killed mid-line
/// leaves at most one broken last line, which the next start rewrites away; a rerun never duplicates a line.
public enum SampleLog {
    public static let fileName = "samples.jsonl"

    /// One line's fields: the outcome's key, its prompt and reply, its scores, and the self-report category and
    /// evidence (or the naming evidence) lifted out for grep and jq.
    public struct Line: Codable, Equatable, Sendable {
        public let model: String
        public let condition: EvaluationCondition
        /// `EvaluationCondition.probe`: "compliance", "self-report", "reading-control", ...
        public let probe: String
        public let promptID: String
        public let index: Int
        public let prompt: String
        public let reply: String
        public let finishReason: String?
        public let scores: SampleScore
        /// Self-reports: the `SelfReportCategory`; nil for other probes.
        public let category: SelfReportCategory?
        /// The sentence that decided the category, or that named the word in a naming probe; nil when none did.
        public let evidence: String?

        public init(_ o: SampleOutcome) {
            model = o.model
            condition = o.condition
            probe = o.condition.probe
            promptID = o.promptID
            index = o.index
            prompt = o.prompt
            reply = o.reply
            finishReason = o.finishReason?.rawValue
            scores = o.score
            category = o.score.selfReport?.category
            let evidence = o.score.selfReport?.evidence ?? o.score.naming?.evidence
            self.evidence = evidence?.isEmpty == false ? evidence : nil
        }
    }

    /// The line of one outcome, newline included; keys sorted.
    public static func line(_ o: SampleOutcome) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(Line(o)) + Data("\n".utf8)
    }

    /// Replaces the file with `outcomes`, in key order, all at once.
    public static func write(_ outcomes: [SampleOutcome], to url: URL) throws {
        var data = Data()
        for o in outcomes.sorted(by: { $0.key < $1.key }) { data += try line(o) }
        try AtomicFile.write(data, to: url)
    }

    /// Adds one outcome's line at the end, in one write.
    public static func append(_ o: SampleOutcome, to url: URL) throws {
        let data = try line(o)
        let handle = try AppendFile.open(url)
        defer { try? handle.close() }
        try handle.write(contentsOf: data)
    }

    /// The lines of a file, each decoded; the message names the line that is not one.
    public static func read(_ url: URL) throws -> [Line] {
        let text = try String(contentsOf: url, encoding: .utf8)
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try text.split(separator: "\n", omittingEmptySubsequences: true).enumerated().map { i, line in
            do {
                return try decoder.decode(Line.self, from: Data(line.utf8))
            } catch {
                throw SampleLogError.badLine(path: url.path, line: i + 1, reason: "\(error)")
            }
        }
    }
}

public enum SampleLogError: Error, CustomStringConvertible, Equatable {
    case badLine(path: String, line: Int, reason: String)

    public var description: String {
        switch self {
        case let .badLine(path, line, reason):
            return "\(path):\(line): not a sample line (\(reason)); rerun the experiment to rewrite the file from the store."
        }
    }
}
