import Foundation

/// A hosted fine-tuning API's endpoints (files, jobs, events, checkpoints), which `FineTuneJobTracker` drives;
/// `OpenAIClient` implements it. Experiments ask `FineTuner` instead, which `OpenAIFineTuner` implements over this.
public protocol FineTuneBackend: Sendable {
    func uploadFile(_ data: Data, filename: String, purpose: String) async throws -> RemoteFile
    func createJob(_ request: FineTuneJobRequest) async throws -> FineTuneJob
    func retrieveJob(_ id: String) async throws -> FineTuneJob
    func listJobs(after: String?, limit: Int?) async throws -> ListPage<FineTuneJob>
    /// The jobs whose metadata has `key` = `value`, as the API's metadata filter finds them.
    func jobs(withMetadata key: String, value: String) async throws -> [FineTuneJob]
    func retrieveFile(_ id: String) async throws -> RemoteFile
    func deleteFile(_ id: String) async throws
    /// A file's bytes (GET /files/ID/content): a job's result files.
    func fileContent(_ id: String) async throws -> Data
    func cancelJob(_ id: String) async throws -> FineTuneJob
    /// Pauses a running job; `resumeJob` runs a paused one again (the API may also pause a job by itself).
    func pauseJob(_ id: String) async throws -> FineTuneJob
    func resumeJob(_ id: String) async throws -> FineTuneJob
    /// One page of events as the API returns it: newest first. `after` is the id of the last (oldest)
    /// event of the previous page.
    func events(jobID: String, after: String?, limit: Int?) async throws -> ListPage<FineTuneEvent>
    func checkpoints(jobID: String, after: String?, limit: Int?) async throws -> ListPage<FineTuneCheckpoint>
}

extension FineTuneBackend {
    /// Polls an uploaded file until the API has `processed` it (a job created before then fails to validate);
    /// a file the API could not process is an error naming its status and details.
    public func waitUntilProcessed(_ file: RemoteFile, sleep: @Sendable (Double) async throws -> Void,
                                   maxWait: Double = 600) async throws -> RemoteFile {
        var current = file
        var waited = 0.0
        var delay = 0.5
        while true {
            switch current.status {
            case nil, "processed": return current
            case "error", "deleted": throw FineTuneTrackerError.fileNotProcessed(current.id, status: current.status ?? "",
                                                                                 details: current.statusDetails)
            default: break
            }
            guard waited < maxWait else {
                throw FineTuneTrackerError.fileNotProcessed(current.id, status: current.status ?? "",
                                                           details: "still not processed after \(Int(maxWait)) s")
            }
            try await sleep(delay)
            waited += delay
            delay = min(delay * 2, 10)
            current = try await retrieveFile(current.id)
        }
    }

    /// Every event newer than `knownID` (all of them when nil), reading as many pages as needed,
    /// de-duplicated by id and returned oldest first.
    public func allEvents(jobID: String, newerThan knownID: String? = nil, pageSize: Int = 100) async throws -> [FineTuneEvent] {
        var seen = Set<String>()
        var newestFirst: [FineTuneEvent] = []
        var after: String?
        pages: while true {
            let page = try await events(jobID: jobID, after: after, limit: pageSize)
            for event in page.data {
                if event.id == knownID { break pages }
                if seen.insert(event.id).inserted { newestFirst.append(event) }
            }
            guard page.hasMore, let last = page.data.last, last.id != after else { break }
            after = last.id
        }
        // Pages are newest first; keep that order for equal timestamps and reverse it.
        return newestFirst.enumerated().sorted { a, b in
            a.element.createdAt != b.element.createdAt ? a.element.createdAt < b.element.createdAt : a.offset > b.offset
        }.map(\.element)
    }
}
