import Foundation

/// Several job sources as one list, in the order given (the store's jobs first). A job whose kind and folder
/// an earlier source already listed is left out: a worker started by `hellotune run` writes the same run folder
/// that `LocalRunsJobSource` reads, and the store's record of it says more. Events, cancel and resume go to
/// the source that listed the job.
public final class MergedJobSource: JobSource, @unchecked Sendable {
    public let sources: [JobSource]
    private let lock = NSLock()
    private var owner: [String: Int] = [:]

    public init(_ sources: [JobSource]) { self.sources = sources }

    /// The last call's lists, per source, and what they merged to: a poll whose sources all list what they listed
    /// before (the store's list is then the very same array, compared in O(1)) returns the same merge.
    private var lastLists: [[JobSummary]?] = []
    private var lastMerge: [JobSummary] = []
    /// Standardised folder of each folder seen: 100,000 URL standardisations a poll cost more than the poll.
    private var standardized: [String: String] = [:]

    public func listJobs() async throws -> [JobSummary] {
        var lists: [[JobSummary]?] = []
        var problems: [String] = []
        for source in sources {
            do { lists.append(try await source.listJobs()) } catch {
                // One unreadable source (a store from a newer hellotune) does not hide the others' jobs.
                problems.append("\(error)")
                lists.append(nil)
            }
        }
        if let same = lock.withLock({ lists == lastLists ? lastMerge : nil }) {
            if same.isEmpty, let first = problems.first { throw JobSourceError(first) }
            return same
        }
        var all: [JobSummary] = []
        var owners: [String: Int] = [:]
        var earlier = Set<String>()
        for (index, list) in lists.enumerated() {
            guard let jobs = list else { continue }
            var keys = Set<String>()
            for job in jobs where owners[job.id] == nil {
                if let key = key(job) {
                    if earlier.contains(key) { continue }
                    keys.insert(key)
                }
                owners[job.id] = index
                all.append(job)
            }
            // Jobs of one source never hide each other; only a later source's copy is left out.
            earlier.formUnion(keys)
        }
        all = Self.foldedIntoRuns(all)
        lock.withLock {
            owner = owners
            lastLists = lists
            lastMerge = all
        }
        if all.isEmpty, let first = problems.first { throw JobSourceError(first) }
        return all
    }

    /// One row per experiment: a `hellotune run` row takes the store's jobs of its experiment (its training jobs,
    /// whose steps and loss it already shows) as its `parts`, in the place of the newest of them. A run shows the
    /// adapter its training wrote, for the playground.
    static func foldedIntoRuns(_ jobs: [JobSummary]) -> [JobSummary] {
        var runOf: [Int64: Int] = [:]
        for (i, job) in jobs.enumerated() where job.kind == "run" {
            if let experiment = job.experimentID, runOf[experiment] == nil { runOf[experiment] = i }
        }
        guard !runOf.isEmpty else { return jobs }
        var parts: [Int: [JobSummary]] = [:]
        var firstMember: [Int: Int] = [:]
        for (i, job) in jobs.enumerated() {
            guard job.kind != "run", let experiment = job.experimentID, let run = runOf[experiment] else { continue }
            parts[run, default: []].append(job)
            firstMember[run] = min(firstMember[run] ?? i, i)
        }
        guard !parts.isEmpty else { return jobs }
        var out: [JobSummary] = []
        out.reserveCapacity(jobs.count)
        func runRow(_ i: Int) -> JobSummary {
            var run = jobs[i]
            // Oldest first, as they ran.
            run.parts = (parts[i] ?? []).reversed()
            if run.adapterPath == nil { run.adapterPath = run.parts.last { $0.adapterPath != nil }?.adapterPath }
            return run
        }
        for (i, job) in jobs.enumerated() {
            if job.kind != "run", let experiment = job.experimentID, let run = runOf[experiment] {
                if firstMember[run] == i, run > i { out.append(runRow(run)) }
                continue
            }
            if job.kind == "run", parts[i] != nil {
                if (firstMember[i] ?? i) > i { out.append(runRow(i)) }
                continue
            }
            out.append(job)
        }
        return out
    }

    func key(_ job: JobSummary) -> String? {
        guard let folder = job.folder else { return nil }
        let path = lock.withLock { standardized[folder] } ?? {
            let path = URL(fileURLWithPath: folder).standardizedFileURL.path
            lock.withLock { standardized[folder] = path }
            return path
        }()
        return (job.kind ?? "") + "|" + path
    }

    func source(for id: String) -> JobSource {
        lock.lock()
        defer { lock.unlock() }
        return sources[owner[id] ?? 0]
    }

    public func events(of jobID: String) async throws -> [JobEvent] { try await source(for: jobID).events(of: jobID) }
    /// A run's row stops the run and cancels every job of it that has not ended (queued and validating ones too: a
    /// queued OpenAI job left behind would still start, and be paid for): one row, one stop.
    public func cancel(_ jobID: String) async throws -> String {
        let message = try await source(for: jobID).cancel(jobID)
        let parts = lock.withLock { lastMerge.first { $0.id == jobID }?.parts ?? [] }
        var messages = [message]
        for part in parts where part.status.map({ !$0.isFinal }) ?? false {
            do { messages.append(try await source(for: part.id).cancel(part.id)) } catch { messages.append("\(error)") }
        }
        return messages.joined(separator: "; ")
    }
    public func resume(_ jobID: String) async throws -> String { try await source(for: jobID).resume(jobID) }
}
