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

    public func listJobs() async throws -> [JobSummary] {
        var all: [JobSummary] = []
        var owners: [String: Int] = [:]
        var earlier = Set<String>()
        var problems: [String] = []
        for (index, source) in sources.enumerated() {
            let jobs: [JobSummary]
            do { jobs = try await source.listJobs() } catch {
                // One unreadable source (a store from a newer hellotune) does not hide the others' jobs.
                problems.append("\(error)")
                continue
            }
            var keys = Set<String>()
            for job in jobs where owners[job.id] == nil {
                if let key = Self.key(job) {
                    if earlier.contains(key) { continue }
                    keys.insert(key)
                }
                owners[job.id] = index
                all.append(job)
            }
            // Jobs of one source never hide each other; only a later source's copy is left out.
            earlier.formUnion(keys)
        }
        lock.withLock { owner = owners }
        if all.isEmpty, let first = problems.first { throw JobSourceError(first) }
        return all
    }

    static func key(_ job: JobSummary) -> String? {
        job.folder.map { (job.kind ?? "") + "|" + URL(fileURLWithPath: $0).standardizedFileURL.path }
    }

    func source(for id: String) -> JobSource {
        lock.lock()
        defer { lock.unlock() }
        return sources[owner[id] ?? 0]
    }

    public func events(of jobID: String) async throws -> [JobEvent] { try await source(for: jobID).events(of: jobID) }
    public func cancel(_ jobID: String) async throws -> String { try await source(for: jobID).cancel(jobID) }
    public func resume(_ jobID: String) async throws -> String { try await source(for: jobID).resume(jobID) }
}
