import Foundation
import Support

/// What an evaluation writes to `runs/NAME/results.json` and the Results screen shows.
public struct ResultsSummary: Codable, Equatable, Sendable {
    /// One condition (e.g. "fine-tuned, trigger", "base, trigger") with its success rate and 95% interval.
    public struct Condition: Codable, Equatable, Sendable {
        public var name: String
        public var successes: Int
        public var trials: Int
        public var rate: Double
        public var low: Double
        public var high: Double

        public init(name: String, successes: Int, trials: Int, rate: Double? = nil, low: Double, high: Double) {
            self.name = name
            self.successes = successes
            self.trials = trials
            self.rate = rate ?? (trials > 0 ? Double(successes) / Double(trials) : 0)
            self.low = low
            self.high = high
        }
    }

    /// A hypothesis (H1, H2) and the verdict the evaluation reached.
    public struct Hypothesis: Codable, Equatable, Sendable {
        public var id: String
        public var statement: String?
        public var verdict: String

        public init(id: String, statement: String? = nil, verdict: String) {
            self.id = id
            self.statement = statement
            self.verdict = verdict
        }
    }

    /// One answer the model gave (e.g. to "What is special about you?").
    public struct Sample: Codable, Equatable, Sendable {
        public var condition: String
        public var prompt: String
        public var reply: String
        /// How the answer was judged (e.g. "describes-rule", "spells-word", "other").
        public var category: String
        /// The stored sample (`samples.id`), so that it can be labelled; nil in summaries written before labels.
        public var sampleID: Int64?
        /// The researcher's label, which wins over `category` in the verdicts; nil when not labelled.
        public var humanCategory: String?

        public init(condition: String, prompt: String, reply: String, category: String, sampleID: Int64? = nil,
                    humanCategory: String? = nil) {
            self.condition = condition
            self.prompt = prompt
            self.reply = reply
            self.category = category
            self.sampleID = sampleID
            self.humanCategory = humanCategory
        }
    }

    /// The target word the replies are scored against.
    public var word: String
    /// The experiment in the store whose samples these are (what a label is stored under); nil in older summaries.
    public var experimentID: Int64?
    public var conditions: [Condition]
    public var hypotheses: [Hypothesis]
    public var samples: [Sample]

    public init(word: String, conditions: [Condition], hypotheses: [Hypothesis], samples: [Sample]) {
        self.word = word
        self.conditions = conditions
        self.hypotheses = hypotheses
        self.samples = samples
    }

    enum CodingKeys: String, CodingKey { case word, conditions, hypotheses, samples, experimentID }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        word = try c.decodeIfPresent(String.self, forKey: .word) ?? ""
        conditions = try c.decodeIfPresent([Condition].self, forKey: .conditions) ?? []
        hypotheses = try c.decodeIfPresent([Hypothesis].self, forKey: .hypotheses) ?? []
        samples = try c.decodeIfPresent([Sample].self, forKey: .samples) ?? []
        experimentID = try c.decodeIfPresent(Int64.self, forKey: .experimentID)
    }
}

/// Results of one run, as listed on the Results screen.
public struct ResultsEntry: Equatable, Sendable {
    public var run: String
    public var path: String
    public var summary: ResultsSummary
    /// The run's report as a web page (report.html beside results.json), when it was written.
    public var htmlReport: String?
    public init(run: String, path: String, summary: ResultsSummary, htmlReport: String? = nil) {
        self.run = run
        self.path = path
        self.summary = summary
        self.htmlReport = htmlReport
    }
}

public protocol ResultsSource: Sendable {
    /// Every run's results, newest first; empty when there are none yet.
    func loadResults() async throws -> [ResultsEntry]
}

/// Reads `results.json` from every folder under `runs/`.
public struct LocalResultsSource: ResultsSource {
    public var runsDirectory: URL
    public init(runsDirectory: URL = Paths.home.appendingPathComponent("runs")) { self.runsDirectory = runsDirectory }

    public static let fileName = "results.json"

    public func loadResults() async throws -> [ResultsEntry] {
        let fm = FileManager.default
        let names = (try? fm.contentsOfDirectory(atPath: runsDirectory.path)) ?? []
        var found: [(Date, ResultsEntry)] = []
        var problems: [String] = []
        for name in names {
            let url = runsDirectory.appendingPathComponent(name).appendingPathComponent(Self.fileName)
            guard let data = fm.contents(atPath: url.path) else { continue }
            do {
                let summary = try JSONDecoder().decode(ResultsSummary.self, from: data)
                let date = (try? fm.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date ?? .distantPast
                let html = runsDirectory.appendingPathComponent(name).appendingPathComponent(HTMLReport.fileName).path
                found.append((date, ResultsEntry(run: name, path: url.path, summary: summary,
                                                 htmlReport: fm.fileExists(atPath: html) ? html : nil)))
            } catch {
                problems.append("\(url.path): \(error)")
            }
        }
        if found.isEmpty, let first = problems.first { throw JobSourceError("unreadable results: \(first)") }
        return found.sorted { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1.run < $1.1.run }.map(\.1)
    }
}
