import Foundation
import Support
import Store

/// What a remote job leaves behind: its checkpoints, its result files, and the data files uploaded for it.
extension FineTuneJobTracker {
    /// Every checkpoint of the job, newest first (all pages).
    public func checkpoints(jobID: Int64) async throws -> [FineTuneCheckpoint] {
        let job = try stored(jobID)
        guard let remoteID = job.externalID else { throw FineTuneTrackerError.notSubmitted(jobID) }
        var all: [FineTuneCheckpoint] = []
        var after: String?
        while true {
            let page = try await backend.checkpoints(jobID: remoteID, after: after, limit: 100)
            all += page.data
            guard page.hasMore, let last = page.data.last, last.id != after else { return all }
            after = last.id
        }
    }

    /// The job's folder for files fetched from the API: its run folder, else `jobs/ID` under the home.
    public func folder(for job: JobRecord) -> URL {
        job.outputDir.map { URL(fileURLWithPath: $0) } ?? Paths.home.appendingPathComponent("jobs/\(job.id)")
    }

    /// Downloads the job's result files (the API lists them once the job has ended) into its folder, each named
    /// `result-ID-NAME` with only safe characters, whatever name the server gave it. Returns the files written.
    public func fetchResultFiles(jobID: Int64) async throws -> [URL] {
        let job = try stored(jobID)
        guard let remoteID = job.externalID else { throw FineTuneTrackerError.notSubmitted(jobID) }
        let remote = try await backend.retrieveJob(remoteID)
        let folder = folder(for: job)
        var written: [URL] = []
        for id in remote.resultFiles ?? [] {
            let info = try await backend.retrieveFile(id)
            let data = try await backend.fileContent(id)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            let url = folder.appendingPathComponent(Self.resultFileName(id: id, serverName: info.filename))
            try AtomicFile.write(data, to: url)
            written.append(url)
        }
        return written
    }

    /// `result-<id>-<name>`: letters, digits, '.', '_' and '-' only, at most 120 characters, so that a server's
    /// "../../x" or control characters never reach a path or a terminal.
    public static func resultFileName(id: String, serverName: String?) -> String {
        func safe(_ s: String) -> String {
            String(s.unicodeScalars.map { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0))
                ? Character($0) : "_" })
        }
        var name = "result-" + safe(id)
        if let serverName, !serverName.isEmpty {
            let last = serverName.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? ""
            name += "-" + safe(last).trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        return String(name.prefix(120))
    }

    /// Deletes the training and validation files uploaded for a job that has ended (the API needs them until
    /// then). A file already gone counts as deleted. Returns the ids deleted.
    @discardableResult
    public func deleteUploads(jobID: Int64) async throws -> [String] {
        let job = try stored(jobID)
        if job.externalID != nil, let status = job.status, !status.isFinal {
            throw FineTuneTrackerError.stillRunning(jobID, status: job.statusText)
        }
        var spec = try OpenAIJobSpec.decode(job.config)
        var deleted: [String] = []
        for id in [spec.trainingFile, spec.validationFile].compactMap({ $0 }) where spec.uploadsDeleted != true {
            do {
                try await backend.deleteFile(id)
            } catch let error as OpenAIError where error.status == 404 {
                // Deleted earlier, by hand or by the API's retention.
            }
            deleted.append(id)
        }
        spec.uploadsDeleted = true
        _ = try save(spec, jobID)
        return deleted
    }
}
