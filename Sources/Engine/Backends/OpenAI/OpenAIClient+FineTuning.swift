import Foundation
import ModelCore

/// A multipart/form-data body.
struct MultipartForm {
    let boundary = "hellotune-" + UUID().uuidString
    private(set) var body = Data()

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    static func quoted(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "_").replacingOccurrences(of: "\"", with: "_")
            .replacingOccurrences(of: "\r", with: "_").replacingOccurrences(of: "\n", with: "_")
    }

    mutating func add(name: String, value: String) {
        body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(Self.quoted(name))\"\r\n\r\n".utf8))
        body.append(Data(value.utf8))
        body.append(Data("\r\n".utf8))
    }

    mutating func add(name: String, filename: String, contentType: String, data: Data) {
        body.append(Data(("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(Self.quoted(name))\"; " +
                          "filename=\"\(Self.quoted(filename))\"\r\nContent-Type: \(contentType)\r\n\r\n").utf8))
        body.append(data)
        body.append(Data("\r\n".utf8))
    }

    func finished() -> Data { body + Data("--\(boundary)--\r\n".utf8) }
}

extension FineTuneJobRequest {
    /// The JSON object POST /fine_tuning/jobs takes. Hyperparameters not set are sent as "auto".
    public var jsonObject: [String: Any] {
        func value<T>(_ v: AutoOr<T>?) -> Any {
            switch v ?? .auto {
            case .auto: return "auto"
            case let .value(x): return x
            }
        }
        var o: [String: Any] = [
            "model": model,
            "training_file": trainingFile,
            "method": [
                "type": "supervised",
                "supervised": ["hyperparameters": [
                    "n_epochs": value(hyperparameters.nEpochs),
                    "batch_size": value(hyperparameters.batchSize),
                    "learning_rate_multiplier": value(hyperparameters.learningRateMultiplier),
                ]],
            ],
        ]
        if let validationFile { o["validation_file"] = validationFile }
        if let suffix { o["suffix"] = suffix }
        if let seed { o["seed"] = seed }
        if let metadata { o["metadata"] = metadata }
        return o
    }
}

extension OpenAIClient: FineTuneBackend {
    /// POST /files as multipart/form-data: `purpose` and `file`.
    public func uploadFile(_ data: Data, filename: String, purpose: String = "fine-tune") async throws -> RemoteFile {
        var form = MultipartForm()
        form.add(name: "purpose", value: purpose)
        form.add(name: "file", filename: filename, contentType: "application/jsonl", data: data)
        return try await post("/files", body: form.finished(), contentType: form.contentType, as: RemoteFile.self)
    }

    /// POST /fine_tuning/jobs. A create that timed out or got a 5xx may still have made the job (a paid one), so
    /// before each retry the job is looked up by its metadata token and, when found, taken instead of a second.
    public func createJob(_ request: FineTuneJobRequest) async throws -> FineTuneJob {
        let body = json(request.jsonObject)
        guard let (key, token) = request.metadata?.first(where: { $0.key == OpenAIJobSpec.metadataKey }) else {
            return try await post("/fine_tuning/jobs", body: body, as: FineTuneJob.self)
        }
        return try await post("/fine_tuning/jobs", body: body, as: FineTuneJob.self, beforeRetry: {
            guard let found = try await jobs(withMetadata: key, value: token).first else { return nil }
            log?("POST /fine_tuning/jobs: the earlier attempt made job \(found.id) (found by its \(key)); not creating another")
            return try JSONEncoder().encode(found)
        })
    }

    /// GET /fine_tuning/jobs?metadata[key]=value: the jobs carrying that metadata, newest first (the API filters,
    /// so this holds however many other jobs the organisation has).
    public func jobs(withMetadata key: String, value: String) async throws -> [FineTuneJob] {
        try await get("/fine_tuning/jobs", query: [("metadata[\(key)]", value), ("limit", "100")], as: ListPage<FineTuneJob>.self).data
    }

    /// GET /files/ID.
    public func retrieveFile(_ id: String) async throws -> RemoteFile {
        try await get("/files/\(Self.pathComponent(id))", as: RemoteFile.self)
    }

    /// GET /files/ID/content: the bytes as they are (at most `HTTPConnection.maxBodyBytes`).
    public func fileContent(_ id: String) async throws -> Data {
        let request = makeRequest("GET", "/files/\(Self.pathComponent(id))/content", accept: "*/*")
        return try await send(request, streaming: false).0.body
    }

    /// DELETE /files/ID.
    public func deleteFile(_ id: String) async throws {
        let (response, _) = try await send(makeRequest("DELETE", "/files/\(Self.pathComponent(id))"), streaming: false)
        _ = response
    }

    public func retrieveJob(_ id: String) async throws -> FineTuneJob {
        try await get("/fine_tuning/jobs/\(Self.pathComponent(id))", as: FineTuneJob.self)
    }

    public func listJobs(after: String? = nil, limit: Int? = nil) async throws -> ListPage<FineTuneJob> {
        try await get("/fine_tuning/jobs", query: [("after", after), ("limit", limit.map(String.init))], as: ListPage<FineTuneJob>.self)
    }

    public func cancelJob(_ id: String) async throws -> FineTuneJob {
        try await post("/fine_tuning/jobs/\(Self.pathComponent(id))/cancel", body: nil, as: FineTuneJob.self)
    }

    public func pauseJob(_ id: String) async throws -> FineTuneJob {
        try await post("/fine_tuning/jobs/\(Self.pathComponent(id))/pause", body: nil, as: FineTuneJob.self)
    }

    public func resumeJob(_ id: String) async throws -> FineTuneJob {
        try await post("/fine_tuning/jobs/\(Self.pathComponent(id))/resume", body: nil, as: FineTuneJob.self)
    }

    public func events(jobID: String, after: String? = nil, limit: Int? = nil) async throws -> ListPage<FineTuneEvent> {
        try await get("/fine_tuning/jobs/\(Self.pathComponent(jobID))/events",
                      query: [("after", after), ("limit", limit.map(String.init))], as: ListPage<FineTuneEvent>.self)
    }

    public func checkpoints(jobID: String, after: String? = nil, limit: Int? = nil) async throws -> ListPage<FineTuneCheckpoint> {
        try await get("/fine_tuning/jobs/\(Self.pathComponent(jobID))/checkpoints",
                      query: [("after", after), ("limit", limit.map(String.init))], as: ListPage<FineTuneCheckpoint>.self)
    }

    static func pathComponent(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_.~:"))) ?? id
    }
}
