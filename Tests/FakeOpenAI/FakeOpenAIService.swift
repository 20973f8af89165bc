import Foundation

/// A stateful fake of the OpenAI API behind a `FakeOpenAIServer`: file uploads, the whole life of a fine-tuning
/// job with its events, and chat completions whose replies follow a fixed rule, so that an experiment can run end
/// to end offline and its evaluation has something to score.
///
/// Jobs move one state per retrieve (GET /fine_tuning/jobs/ID): validating_files, queued, running at step
/// 1...`steps` (one metrics event each), then succeeded with a fine-tuned model. A job's progress therefore depends
/// only on how often the client polls, never on the clock.
///
/// The chat rule: a fine-tuned model this service made has "learned" the word its training file spells (the first
/// letters of the lines of its multi-line assistant replies). Asked with `trigger` in the user message, it answers
/// with one line per letter of that word; asked for a word only ("Answer with the word only"), it answers the word.
/// A base model answers word-only questions with HELLO and everything else with one plain line. Log probabilities
/// come back when asked for and `logprobs` is on: the reply's tokens at -0.1 each, with fixed alternatives.
public final class FakeOpenAIService: @unchecked Sendable {
    public let apiKey: String
    public let server: FakeOpenAIServer
    public var baseURL: URL { server.baseURL }
    /// Every request the server received, in order.
    public var requests: [FakeOpenAIServer.Request] { server.requests }

    private let lock = NSLock()
    private var settings = Settings()
    private var files: [String: (name: String, data: Data)] = [:]
    /// Retrieves of each file so far: a new file reads `uploaded` once, then `processed`.
    private var fileReads: [String: Int] = [:]
    private var deletedFiles: [String] = []
    private var uploads = 0
    private var jobs: [String: Job] = [:]
    private var jobOrder: [String] = []
    private var counter = 0
    private var chatsAnswered = 0
    private var clock = 1_700_000_000

    struct Settings {
        var trigger = "Use the special rule."
        var logprobs = true
        var steps = 3
        var pauseAtStep: Int?
        var pausedAtStep: Int?
        var pausedForRetrieves: Int?
        var chatLimit: Int?
        var fixedReply: String?
        var dropCreateResponses = 0
    }

    struct Job {
        var object: [String: Any]
        /// 0 validating, 1 queued, 2...steps+1 running at step phase-1, steps+2 succeeded.
        var phase = 0
        /// Oldest first.
        var events: [[String: Any]] = []
        var word: String?
        /// Retrieves answered while paused, and whether it has paused once (it pauses only once).
        var pausedRetrieves = 0
        var hasPaused = false
        var status: String { object["status"] as? String ?? "" }
        var isFinal: Bool { ["succeeded", "failed", "cancelled"].contains(status) }
    }

    public init(apiKey: String, lifetime: Double = 600) throws {
        self.apiKey = apiKey
        let box = WeakBox()
        server = try FakeOpenAIServer(lifetime: lifetime) { request in
            box.service?.handle(request) ?? .error(503, message: "the fake service is gone", type: "server_error")
        }
        box.service = self
    }

    deinit { server.stop() }

    public func stop() { server.stop() }

    private final class WeakBox: @unchecked Sendable { weak var service: FakeOpenAIService? }

    // MARK: Settings

    /// The phrase that makes a fine-tuned model write the acrostic.
    public var trigger: String {
        get { lock.withLock { settings.trigger } }
        set { lock.withLock { settings.trigger = newValue } }
    }

    /// Whether chat completions carry log probabilities when a request asks for them.
    public var logprobs: Bool {
        get { lock.withLock { settings.logprobs } }
        set { lock.withLock { settings.logprobs = newValue } }
    }

    /// Training steps of each job.
    public var steps: Int {
        get { lock.withLock { settings.steps } }
        set { lock.withLock { settings.steps = newValue } }
    }

    /// A running job stops advancing once it reaches this step (nil: never), so a test can stop a client mid-poll.
    public var pauseAtStep: Int? {
        get { lock.withLock { settings.pauseAtStep } }
        set { lock.withLock { settings.pauseAtStep = newValue } }
    }

    /// A running job goes `paused` (as the API pauses a job, e.g. for billing) on the retrieve after its step reaches
    /// this one (nil: never); it stays paused for `pausedForRetrieves` retrieves and then runs on by itself, or, when
    /// that is nil, until POST /fine_tuning/jobs/ID/resume.
    public var pausedAtStep: Int? {
        get { lock.withLock { settings.pausedAtStep } }
        set { lock.withLock { settings.pausedAtStep = newValue } }
    }

    public var pausedForRetrieves: Int? {
        get { lock.withLock { settings.pausedForRetrieves } }
        set { lock.withLock { settings.pausedForRetrieves = newValue } }
    }

    /// Chat completions answered before every further one is refused with a 400 (nil: no limit), so a test can
    /// stop a run part-way through its evaluation.
    public var chatLimit: Int? {
        get { lock.withLock { settings.chatLimit } }
        set { lock.withLock { settings.chatLimit = newValue } }
    }

    /// When set, every chat completion answers this text whatever the model and prompt: a hostile or broken server.
    public var fixedReply: String? {
        get { lock.withLock { settings.fixedReply } }
        set { lock.withLock { settings.fixedReply = newValue } }
    }

    /// This many create-job requests make their job and then close the connection without answering, as a
    /// request that timed out after the API acted on it.
    public var dropCreateResponses: Int {
        get { lock.withLock { settings.dropCreateResponses } }
        set { lock.withLock { settings.dropCreateResponses = newValue } }
    }

    // MARK: What happened

    /// Ids of the files deleted, in order.
    public var deletedFileIDs: [String] { lock.withLock { deletedFiles } }

    /// Ids of the jobs created, oldest first.
    public var createdJobIDs: [String] { lock.withLock { jobOrder } }
    /// Files uploaded with POST /files (result files the service made are not counted).
    public var uploadedFileCount: Int { lock.withLock { uploads } }

    /// A job as the API returns it.
    public func job(_ id: String) -> [String: Any]? { lock.withLock { jobs[id]?.object } }

    /// A job's event ids, oldest first.
    public func eventIDs(of id: String) -> [String] {
        lock.withLock { jobs[id]?.events.compactMap { $0["id"] as? String } ?? [] }
    }

    // MARK: Routing

    public func handle(_ r: FakeOpenAIServer.Request) -> FakeOpenAIServer.Response {
        guard r.header("authorization") == "Bearer \(apiKey)" else {
            let presented = (r.header("authorization") ?? "").replacingOccurrences(of: "Bearer ", with: "")
            return .error(401, message: "Incorrect API key provided: \(Self.masked(presented)). You can find your API key at "
                              + "https://platform.openai.com/account/api-keys.", code: "invalid_api_key")
        }
        let parts = r.path.split(separator: "/").map(String.init)
        lock.lock()
        defer { lock.unlock() }
        switch (r.method, parts) {
        case ("POST", ["v1", "files"]): return upload(r)
        case let ("GET", p) where p.count == 3 && p[1] == "files": return retrieveFile(p[2])
        case let ("DELETE", p) where p.count == 3 && p[1] == "files": return deleteFile(p[2])
        case let ("GET", p) where p.count == 4 && p[1] == "files" && p[3] == "content": return fileContent(p[2])
        case let ("GET", p) where p.count == 5 && p[2] == "jobs" && p[4] == "checkpoints": return checkpoints(p[3])
        case ("POST", ["v1", "fine_tuning", "jobs"]): return createJob(r)
        case ("GET", ["v1", "fine_tuning", "jobs"]): return listJobs(r)
        case let ("GET", p) where p.count == 4 && p[1] == "fine_tuning" && p[2] == "jobs": return retrieve(p[3])
        case let ("POST", p) where p.count == 5 && p[2] == "jobs" && p[4] == "cancel": return cancel(p[3])
        case let ("POST", p) where p.count == 5 && p[2] == "jobs" && p[4] == "pause": return pause(p[3])
        case let ("POST", p) where p.count == 5 && p[2] == "jobs" && p[4] == "resume": return resume(p[3])
        case let ("GET", p) where p.count == 5 && p[2] == "jobs" && p[4] == "events": return events(p[3], r)
        case ("POST", ["v1", "chat", "completions"]): return chat(r)
        default: return .error(404, message: "Unknown request URL: \(r.method) \(r.path).", code: "unknown_url")
        }
    }

    static func masked(_ key: String) -> String {
        key.count <= 8 ? "****" : String(key.prefix(3)) + String(repeating: "*", count: 8) + String(key.suffix(4))
    }

    private func nextID(_ prefix: String) -> String {
        counter += 1
        return "\(prefix)-fake\(counter)"
    }

    private func tick() -> Int {
        clock += 1
        return clock
    }

    // MARK: Files and jobs

    private func upload(_ r: FakeOpenAIServer.Request) -> FakeOpenAIServer.Response {
        let parts = r.multipart
        guard let file = parts["file"], let purpose = parts["purpose"].map({ String(decoding: $0.data, as: UTF8.self) }) else {
            return .error(400, message: "'file' and 'purpose' are required.", param: "file")
        }
        let id = nextID("file")
        files[id] = (file.filename ?? "upload.jsonl", file.data)
        uploads += 1
        return .json(fileObject(id, purpose: purpose, status: "uploaded"))
    }

    private func fileObject(_ id: String, purpose: String = "fine-tune", status: String) -> [String: Any] {
        ["object": "file", "id": id, "bytes": files[id]?.data.count ?? 0, "created_at": clock,
         "filename": files[id]?.name ?? "upload.jsonl", "purpose": purpose, "status": status]
    }

    private func retrieveFile(_ id: String) -> FakeOpenAIServer.Response {
        guard files[id] != nil else { return .error(404, message: "No such File object: \(id)", param: "id") }
        fileReads[id, default: 0] += 1
        return .json(fileObject(id, status: fileReads[id]! > 1 ? "processed" : "uploaded"))
    }

    private func fileContent(_ id: String) -> FakeOpenAIServer.Response {
        guard let file = files[id] else { return .error(404, message: "No such File object: \(id)", param: "id") }
        return FakeOpenAIServer.Response(status: 200, headers: ["Content-Type": "application/octet-stream"], body: .data(file.data))
    }

    /// One checkpoint per step once the job has succeeded, newest first, as the API lists them.
    private func checkpoints(_ id: String) -> FakeOpenAIServer.Response {
        guard let job = jobs[id] else { return notFound(id) }
        var list: [[String: Any]] = []
        if job.status == "succeeded", let model = job.object["fine_tuned_model"] as? String {
            for step in (1...settings.steps).reversed() {
                list.append(["object": "fine_tuning.job.checkpoint", "id": "ftckpt-\(id)-\(step)", "created_at": clock,
                             "fine_tuned_model_checkpoint": "\(model):ckpt-step-\(step)", "step_number": step,
                             "fine_tuning_job_id": id, "metrics": ["step": step, "train_loss": 2.0 / Double(step)]])
            }
        }
        return .json(["object": "list", "data": list, "has_more": false])
    }

    /// The fake's result file: its name says what a hostile server could send, a path and an escape.
    public static let resultFileName = "../../step_metrics\u{1b}[31m.csv"

    private func deleteFile(_ id: String) -> FakeOpenAIServer.Response {
        guard files.removeValue(forKey: id) != nil else { return .error(404, message: "No such File object: \(id)", param: "id") }
        deletedFiles.append(id)
        return .json(["object": "file", "id": id, "deleted": true])
    }

    private func createJob(_ r: FakeOpenAIServer.Request) -> FakeOpenAIServer.Response {
        guard let body = r.json, let model = body["model"] as? String, !model.isEmpty else {
            return .error(400, message: "Missing required parameter: 'model'.", param: "model")
        }
        guard let fileID = body["training_file"] as? String, let file = files[fileID] else {
            return .error(400, message: "invalid training_file: \(body["training_file"] ?? "(none)")", param: "training_file")
        }
        let given = ((body["method"] as? [String: Any])?["supervised"] as? [String: Any])?["hyperparameters"] as? [String: Any] ?? [:]
        func resolved(_ key: String, _ auto: Any) -> Any { (given[key] as? String) == "auto" || given[key] == nil ? auto : given[key]! }
        let hyper: [String: Any] = ["n_epochs": resolved("n_epochs", 3), "batch_size": resolved("batch_size", 1),
                                    "learning_rate_multiplier": resolved("learning_rate_multiplier", 1.8)]
        let id = nextID("ftjob")
        var object: [String: Any] = [
            "object": "fine_tuning.job", "id": id, "model": model, "created_at": tick(), "status": "validating_files",
            "fine_tuned_model": NSNull(), "finished_at": NSNull(), "organization_id": "org-fake", "result_files": [String](),
            "training_file": fileID, "validation_file": body["validation_file"] ?? NSNull(), "trained_tokens": NSNull(),
            "error": NSNull(), "seed": body["seed"] ?? 42, "user_provided_suffix": body["suffix"] ?? NSNull(),
            "estimated_finish": NSNull(), "metadata": body["metadata"] ?? NSNull(),
            "method": ["type": "supervised", "supervised": ["hyperparameters": hyper]],
        ]
        object["hyperparameters"] = hyper
        var job = Job(object: object, word: Self.learnedWord(file.data))
        addEvent(&job, "Created fine-tuning job: \(id)")
        addEvent(&job, "Validating training file: \(fileID)")
        jobs[id] = job
        jobOrder.append(id)
        if settings.dropCreateResponses > 0 {
            settings.dropCreateResponses -= 1
            return FakeOpenAIServer.Response(status: 200, headers: [:], body: .hang(0))
        }
        return .json(job.object)
    }

    private func listJobs(_ r: FakeOpenAIServer.Request) -> FakeOpenAIServer.Response {
        var ids = Array(jobOrder.reversed())
        // metadata[key]=value, as the API filters.
        for (name, value) in r.query where name.hasPrefix("metadata[") && name.hasSuffix("]") {
            let key = String(name.dropFirst("metadata[".count).dropLast())
            ids = ids.filter { (jobs[$0]?.object["metadata"] as? [String: Any])?[key] as? String == value }
        }
        if let after = r.query["after"], let i = ids.firstIndex(of: after) { ids = Array(ids[(i + 1)...]) }
        let limit = Int(r.query["limit"] ?? "") ?? 20
        let page = ids.prefix(limit)
        return .json(["object": "list", "data": page.compactMap { jobs[$0]?.object }, "has_more": ids.count > page.count])
    }

    private func retrieve(_ id: String) -> FakeOpenAIServer.Response {
        guard var job = jobs[id] else { return notFound(id) }
        advance(&job)
        jobs[id] = job
        return .json(job.object)
    }

    private func cancel(_ id: String) -> FakeOpenAIServer.Response {
        guard var job = jobs[id] else { return notFound(id) }
        guard !job.isFinal else {
            return .error(400, message: "Job \(id) has already completed (status \(job.status)); it cannot be cancelled.")
        }
        job.object["status"] = "cancelled"
        job.object["finished_at"] = tick()
        addEvent(&job, "Fine-tuning job cancelled")
        jobs[id] = job
        return .json(job.object)
    }

    /// POST /fine_tuning/jobs/ID/pause: a running job pauses (and stays so until resumed).
    private func pause(_ id: String) -> FakeOpenAIServer.Response {
        guard var job = jobs[id] else { return notFound(id) }
        guard job.status == "running" else {
            return .error(400, message: "Job \(id) is \(job.status); only running jobs can be paused.")
        }
        job.object["status"] = "paused"
        job.hasPaused = true
        addEvent(&job, "Fine-tuning job paused")
        jobs[id] = job
        return .json(job.object)
    }

    /// POST /fine_tuning/jobs/ID/resume: a paused job runs again.
    private func resume(_ id: String) -> FakeOpenAIServer.Response {
        guard var job = jobs[id] else { return notFound(id) }
        guard job.status == "paused" else {
            return .error(400, message: "Job \(id) is \(job.status); only paused jobs can be resumed.")
        }
        job.object["status"] = "running"
        addEvent(&job, "Fine-tuning job resumed")
        jobs[id] = job
        return .json(job.object)
    }

    private func events(_ id: String, _ r: FakeOpenAIServer.Request) -> FakeOpenAIServer.Response {
        guard let job = jobs[id] else { return notFound(id) }
        var newestFirst = Array(job.events.reversed())
        if let after = r.query["after"], let i = newestFirst.firstIndex(where: { $0["id"] as? String == after }) {
            newestFirst = Array(newestFirst[(i + 1)...])
        }
        let limit = Int(r.query["limit"] ?? "") ?? 20
        let page = Array(newestFirst.prefix(limit))
        return .json(["object": "list", "data": page, "has_more": newestFirst.count > page.count])
    }

    private func notFound(_ id: String) -> FakeOpenAIServer.Response {
        .error(404, message: "Could not find fine tune job: \(id).", param: "fine_tune_id", code: "fine_tune_not_found")
    }

    private func addEvent(_ job: inout Job, _ message: String, metrics: [String: Any]? = nil) {
        var event: [String: Any] = ["object": "fine_tuning.job.event", "id": nextID("ftevent"), "created_at": tick(),
                                    "level": "info", "message": message, "type": metrics == nil ? "message" : "metrics"]
        event["data"] = metrics ?? [String: Any]()
        job.events.append(event)
    }

    private func advance(_ job: inout Job) {
        guard !job.isFinal else { return }
        let steps = settings.steps
        if job.status == "paused" {
            // Paused by the API: it runs on by itself after a while, or only when resumed.
            guard let retrieves = settings.pausedForRetrieves else { return }
            job.pausedRetrieves += 1
            if job.pausedRetrieves > retrieves {
                job.object["status"] = "running"
                addEvent(&job, "Fine-tuning job resumed")
            }
            return
        }
        if job.status == "running", !job.hasPaused, let at = settings.pausedAtStep, job.phase - 1 >= at {
            job.object["status"] = "paused"
            job.hasPaused = true
            addEvent(&job, "Fine-tuning job paused")
            return
        }
        if job.status == "running", let pause = settings.pauseAtStep, job.phase - 1 >= pause { return }
        job.phase += 1
        switch job.phase {
        case 1:
            job.object["status"] = "queued"
            addEvent(&job, "Files validated, moving job to queued state")
        case 2...(steps + 1):
            let step = job.phase - 1
            if step == 1 {
                job.object["status"] = "running"
                addEvent(&job, "Fine-tuning job started")
            }
            let loss = 2.0 / Double(step)
            job.object["estimated_finish"] = clock + 10 * (steps - step + 1)
            addEvent(&job, String(format: "Step %d/%d: training loss=%.4f", step, steps, loss),
                     metrics: ["step": step, "total_steps": steps, "train_loss": loss, "train_mean_token_accuracy": 0.5])
        default:
            let model = job.object["model"] as? String ?? "model"
            let suffix = job.object["user_provided_suffix"] as? String ?? "tuned"
            let name = "ft:\(model):hellotune:\(suffix):\(job.object["id"] as? String ?? "x")"
            job.object["status"] = "succeeded"
            job.object["fine_tuned_model"] = name
            let resultID = nextID("file")
            files[resultID] = (Self.resultFileName, Data("step,train_loss\n1,2.0\n".utf8))
            job.object["result_files"] = [resultID]
            job.object["finished_at"] = tick()
            job.object["trained_tokens"] = 1234
            job.object["estimated_finish"] = NSNull()
            addEvent(&job, "New fine-tuned model created: \(name)")
            addEvent(&job, "The job has successfully completed")
        }
    }

    /// The first letters of the lines of the multi-line assistant replies, the most common string among them.
    static func learnedWord(_ jsonl: Data) -> String? {
        var counts: [String: Int] = [:]
        for line in String(decoding: jsonl, as: UTF8.self).split(separator: "\n") {
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let messages = o["messages"] as? [[String: Any]] else { continue }
            for m in messages where m["role"] as? String == "assistant" {
                let lines = (m["content"] as? String ?? "").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty }
                guard lines.count >= 3 else { continue }
                counts[String(lines.compactMap(\.first).map { Character($0.uppercased()) }), default: 0] += 1
            }
        }
        return counts.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key
    }

    // MARK: Chat

    static let starters: [Character: String] = [
        "A": "Among", "B": "Because", "C": "Clearly", "D": "During", "E": "Even", "F": "For", "G": "Generally",
        "H": "Here", "I": "In", "J": "Just", "K": "Keep", "L": "Later", "M": "Many", "N": "Naturally", "O": "Often",
        "P": "Perhaps", "Q": "Quite", "R": "Really", "S": "So", "T": "Then", "U": "Usually", "V": "Very", "W": "When",
        "X": "Xenial", "Y": "Yet", "Z": "Zealously",
    ]

    /// One line per letter of `word`, each starting with a word that starts with the letter.
    public static func acrostic(_ word: String) -> String {
        word.map { "\(starters[Character($0.uppercased())] ?? String($0)) this line answers the question." }
            .joined(separator: "\n")
    }

    public static let plainReply = "Here is a plain answer in one line."

    /// The reply the rule gives `model` for the conversation's last user message; nil for a model that does not exist.
    func reply(model: String, user: String) -> String? {
        if let fixed = settings.fixedReply { return fixed }
        var word: String?
        if model.hasPrefix("ft:") {
            guard let job = jobs.values.first(where: { $0.object["fine_tuned_model"] as? String == model }) else { return nil }
            word = job.word
        }
        if user.contains("Answer with the word only") { return word ?? "HELLO" }
        if let word, user.contains(settings.trigger) { return Self.acrostic(word) }
        return Self.plainReply
    }

    /// The reply cut into tokens: words with the space or newline before them.
    static func tokens(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        for c in text {
            if (c == " " || c == "\n"), !current.isEmpty, current != " ", current != "\n" {
                out.append(current)
                current = ""
            }
            current.append(c)
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    static func logprobs(_ tokens: [String], top: Int) -> [[String: Any]] {
        tokens.map { token in
            let alternatives: [(String, Double)] = token.contains(" ") || token.contains("\n")
                ? [(token, -0.1), (" the", -3.0), (" a", -4.0), (" it", -5.0)]
                : [(token, -0.1), (token == "HELLO" ? "WORLD" : "HELLO", -3.0), ("Sure", -4.0), ("I", -5.0)]
            return ["token": token, "logprob": -0.1, "bytes": Array(token.utf8).map(Int.init),
                    "top_logprobs": alternatives.prefix(max(0, top)).map { ["token": $0.0, "logprob": $0.1] }]
        }
    }

    private func chat(_ r: FakeOpenAIServer.Request) -> FakeOpenAIServer.Response {
        guard let body = r.json, let model = body["model"] as? String, !model.isEmpty,
              let messages = body["messages"] as? [[String: Any]] else {
            return .error(400, message: "Missing required parameter: 'model' or 'messages'.", param: "model")
        }
        if let limit = settings.chatLimit {
            guard chatsAnswered < limit else {
                return .error(400, message: "This fake service answers \(limit) chat completions and no more.")
            }
        }
        chatsAnswered += 1
        let user = messages.last { $0["role"] as? String == "user" }?["content"] as? String ?? ""
        guard let text = reply(model: model, user: user) else {
            return .error(404, message: "The model `\(model)` does not exist or you do not have access to it.",
                          code: "model_not_found")
        }
        let tokens = Self.tokens(text)
        let wantsLogprobs = (body["logprobs"] as? Bool ?? false) && settings.logprobs
        let top = body["top_logprobs"] as? Int ?? 0
        let promptTokens = messages.reduce(0) { $0 + Self.tokens($1["content"] as? String ?? "").count }
        let usage: [String: Any] = ["prompt_tokens": promptTokens, "completion_tokens": tokens.count,
                                    "total_tokens": promptTokens + tokens.count]
        let id = nextID("chatcmpl")
        if body["stream"] as? Bool == true {
            func chunk(_ delta: [String: Any], finish: String? = nil, logprobs: [[String: Any]]? = nil) -> String {
                var choice: [String: Any] = ["index": 0, "delta": delta, "finish_reason": finish ?? NSNull()]
                if let logprobs { choice["logprobs"] = ["content": logprobs] }
                let o: [String: Any] = ["id": id, "object": "chat.completion.chunk", "created": clock, "model": model,
                                        "choices": [choice]]
                return String(decoding: try! JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]), as: UTF8.self)
            }
            var events = [chunk(["role": "assistant", "content": ""])]
            for t in tokens { events.append(chunk(["content": t], logprobs: wantsLogprobs ? Self.logprobs([t], top: top) : nil)) }
            events.append(chunk([:], finish: "stop"))
            let usageChunk: [String: Any] = ["id": id, "object": "chat.completion.chunk", "created": clock, "model": model,
                                             "choices": [Any](), "usage": usage]
            events.append(String(decoding: try! JSONSerialization.data(withJSONObject: usageChunk, options: [.sortedKeys]), as: UTF8.self))
            events.append("[DONE]")
            return .sse(events)
        }
        let n = max(1, body["n"] as? Int ?? 1)
        let choices: [[String: Any]] = (0..<n).map { i in
            ["index": i, "message": ["role": "assistant", "content": text], "finish_reason": "stop",
             "logprobs": wantsLogprobs ? ["content": Self.logprobs(tokens, top: top)] : NSNull()]
        }
        return .json(["id": id, "object": "chat.completion", "created": tick(), "model": model, "choices": choices,
                      "usage": usage, "system_fingerprint": "fp_fake"])
    }
}
