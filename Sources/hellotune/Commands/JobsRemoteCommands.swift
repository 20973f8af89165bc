import ArgumentParser
import Foundation
import Support
import Store
import Backends

/// What an OpenAI job leaves behind, fetched from the API: its checkpoints and its result files.
extension JobsCommand {
    /// The tracker of an OpenAI job that reached the API, or a message saying why there is none.
    static func remoteTracker(_ id: Int64, store: Store, baseURL: String?, allowInsecure: Bool) throws -> FineTuneJobTracker {
        guard let job = try store.job(id) else { throw StoreError.noSuchJob(id) }
        guard job.backend == "openai" else {
            throw ValidationError("job \(id) ran on the \(job.backend) backend; its files are in \(job.outputDir ?? "its run folder")")
        }
        let client: OpenAIClient?
        do {
            client = try RemoteJobs.client(for: job, baseURL: baseURL, allowInsecure: allowInsecure)
        } catch {
            throw ValidationError("\(error)")
        }
        guard let client else { throw ValidationError(OpenAIError.missingAPIKey.description) }
        return FineTuneJobTracker(store: store, backend: client)
    }

    struct Checkpoints: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "An OpenAI job's checkpoints: the models saved at the ends of its last epochs.")
        @Argument(help: "The job's id.") var id: Int64
        @Option(name: .customLong("base-url"), help: "API base URL of the job (default: the one it was created on).")
        var baseURL: String?
        @Flag(name: .customLong("allow-insecure"), help: "Allow a plain-http --base-url to another machine (the key then crosses the network in clear).")
        var allowInsecure = false
        @Flag(help: "Print a JSON array.") var json = false

        func run() throws {
            let tracker = try JobsCommand.remoteTracker(id, store: try Store.openDefault(), baseURL: baseURL, allowInsecure: allowInsecure)
            let list = try runBlocking { try await tracker.checkpoints(jobID: id) }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                print(terminalSafeJSON(String(decoding: try encoder.encode(list), as: UTF8.self)))
                return
            }
            if list.isEmpty { say("job \(id): no checkpoints (yet)"); return }
            for c in list {
                let loss = c.metrics?.trainLoss.map { String(format: "  loss %.4f", $0) } ?? ""
                say("step \(c.stepNumber.map(String.init) ?? "?")  \(c.fineTunedModelCheckpoint ?? c.id)\(loss)")
            }
        }
    }

    struct Files: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch an OpenAI job's result files into its folder; --cleanup deletes the data uploaded for it.",
            discussion: """
            Result files (the API's step metrics) are written as result-ID-NAME into the job's run folder, or \
            $HELLOTUNE_HOME/jobs/ID for a job started by `hellotune finetune`. --cleanup then deletes the training \
            and validation files uploaded for the job from the API, once the job has ended.
            """)
        @Argument(help: "The job's id.") var id: Int64
        @Flag(help: "Also delete the job's uploaded data files from the API (the job must have ended).") var cleanup = false
        @Option(name: .customLong("base-url"), help: "API base URL of the job (default: the one it was created on).")
        var baseURL: String?
        @Flag(name: .customLong("allow-insecure"), help: "Allow a plain-http --base-url to another machine (the key then crosses the network in clear).")
        var allowInsecure = false

        func run() throws {
            let store = try Store.openDefault()
            let tracker = try JobsCommand.remoteTracker(id, store: store, baseURL: baseURL, allowInsecure: allowInsecure)
            // Brought up to date first: cleanup needs to know the job has ended.
            if try store.job(id)?.externalID != nil { _ = try runBlocking { try await tracker.sync(jobID: id) } }
            let written = try runBlocking { try await tracker.fetchResultFiles(jobID: id) }
            for url in written { say(url.path) }
            if written.isEmpty { note("job \(id): the API lists no result files (yet)") }
            if cleanup {
                let deleted = try runBlocking { try await tracker.deleteUploads(jobID: id) }
                note(deleted.isEmpty ? "job \(id): no uploaded files left to delete"
                     : "job \(id): deleted \(deleted.joined(separator: ", ")) from the API")
            }
        }
    }
}
