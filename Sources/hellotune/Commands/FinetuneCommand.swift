import ArgumentParser
import Foundation
import Support
import ModelCore
import Training
import Store
import Backends
import Experiment

struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Start a fine-tuning job on the hosted OpenAI API from chat JSONL.",
        discussion: """
        Checks the dataset, prints a token and cost estimate, asks for confirmation (or --yes), uploads the file,
        creates the job and prints its id on the last line of stdout (--json: the job object).
        Needs OPENAI_API_KEY; OPENAI_BASE_URL, OPENAI_ORG_ID and OPENAI_PROJECT_ID are honoured.
        The estimate counts tokens with the local default model's tokenizer when it is fetched (an approximation of
        OpenAI's), else ~4 characters per token, and uses a fixed price table: treat it as an estimate.
        Local fine-tuning is `hellotune train`.
        """)

    enum BackendKind: String, ExpressibleByArgument, CaseIterable { case openai, local }

    @Option(help: "Where to fine-tune: openai (local fine-tuning is `hellotune train`).") var backend: BackendKind = .openai
    @Option(help: "Training data: OpenAI chat JSONL.") var data: String
    @Option(help: "Validation data: OpenAI chat JSONL (optional).") var validation: String?
    @Option(help: "Base model to fine-tune, e.g. gpt-4o-mini-2024-07-18.") var model: String?
    @Option(help: "Up to 64 characters added to the fine-tuned model's name.") var suffix: String?
    @Option(parsing: .unconditional, help: "Epochs (default: auto).") var epochs: Int?
    @Option(name: .customLong("lr-mult"), parsing: .unconditional, help: "Learning rate multiplier (default: auto).") var lrMult: Double?
    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Batch size (default: auto).") var batchSize: Int?
    @Option(parsing: .unconditional, help: "Seed for the job.") var seed: Int?
    @Option(name: .customLong("base-url"), help: "API base URL (default: $OPENAI_BASE_URL or https://api.openai.com/v1).")
    var baseURL: String?
    @Flag(name: .customLong("allow-insecure"), help: "Allow a plain-http --base-url to another machine (the key then crosses the network in clear).")
    var allowInsecure = false
    @Option(parsing: .unconditional, help: "Seconds before a request counts as failed.") var timeout: Double = 600
    @Option(name: .customLong("max-retries"), parsing: .unconditional, help: "Retries on connection errors, 408, 409, 429 and 5xx.") var maxRetries: Int = 2
    @Flag(help: "Do not ask for confirmation.") var yes = false
    @Flag(help: "Print the created job as JSON on stdout.") var json = false

    /// The fine-tuning API's limits (`OpenAIJobSpec.Limits`), before the key or the network is looked at.
    func validate() throws {
        typealias Limits = OpenAIJobSpec.Limits
        func range(_ r: ClosedRange<Int>) -> String { "\(r.lowerBound)...\(r.upperBound)" }
        if let epochs, !Limits.epochs.contains(epochs) {
            throw ValidationError("--epochs must be in \(range(Limits.epochs)) (the API's n_epochs), not \(epochs)")
        }
        if let batchSize, !Limits.batchSize.contains(batchSize) {
            throw ValidationError("--batch-size must be in \(range(Limits.batchSize)) (the API's batch_size), not \(batchSize)")
        }
        if let seed, !Limits.seed.contains(seed) {
            throw ValidationError("--seed must be in \(range(Limits.seed)) (the API's seed), not \(seed)")
        }
        if let lrMult, !(lrMult > 0 && lrMult.isFinite) { throw ValidationError("--lr-mult must be a number > 0") }
        if let suffix, suffix.count > Limits.suffixLength {
            throw ValidationError("--suffix may have at most \(Limits.suffixLength) characters")
        }
        if !(timeout > 0 && timeout.isFinite) { throw ValidationError("--timeout must be a number of seconds > 0") }
        if maxRetries < 0 { throw ValidationError("--max-retries must be >= 0") }
    }

    /// The root command is run synchronously, so the async work runs on a task while this thread waits.
    func run() throws {
        final class Outcome: @unchecked Sendable { var error: Error? }
        struct Box: @unchecked Sendable { let command: FinetuneCommand }
        let outcome = Outcome()
        let box = Box(command: self)
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do { try await box.command.submit() } catch { outcome.error = error }
            done.signal()
        }
        done.wait()
        if let error = outcome.error { throw error }
    }

    func submit() async throws {
        if backend == .local {
            throw ValidationError("`hellotune finetune` only submits jobs to the OpenAI API; fine-tune locally with "
                                  + "`hellotune train --data \(data) --out DIR` (LoRA on CPU)")
        }
        guard let model else { throw ValidationError("--model is required with --backend openai (e.g. gpt-4o-mini-2024-07-18)") }
        var config: OpenAIConfiguration
        do {
            config = try OpenAIConfiguration.fromEnvironment(baseURL: baseURL, allowInsecure: allowInsecure)
        } catch {
            throw ValidationError("\(error)")
        }
        config.timeout = timeout
        config.maxRetries = maxRetries

        let dataset = try ChatDataset.load(path: data)
        // Checked before anything is uploaded.
        _ = try validation.map { try ChatDataset.load(path: $0) }
        // The API's limits, checked before anything is recorded or uploaded.
        let spec = OpenAIJobSpec(model: model, data: URL(fileURLWithPath: data).path,
                                 validationData: validation.map { URL(fileURLWithPath: $0).path },
                                 baseURL: config.recordedURL, suffix: suffix, seed: seed, epochs: epochs,
                                 batchSize: batchSize, learningRateMultiplier: lrMult)
        do {
            try spec.checkLimits()
        } catch let error as FineTuneTrackerError {
            throw ValidationError("\(error)")
        }
        let estimate = FineTuneEstimate(dataset: dataset, model: model, epochs: epochs, tokenCount: Self.localTokenCounter(),
                                        tokenMethod: nil)
        note("estimate for \(URL(fileURLWithPath: data).lastPathComponent):")
        note(estimate.summary.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        note("API: \(config.displayURL) (key \(config.apiKey.masked))")

        if !yes {
            guard isatty(STDIN_FILENO) != 0 else {
                throw ValidationError("not asking for confirmation without a terminal: pass --yes to upload the data and start the job")
            }
            FileHandle.standardError.write(Data("Upload \(dataset.examples.count) examples and start the job? [y/N] ".utf8))
            let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            guard answer == "y" || answer == "yes" else {
                note("cancelled; nothing was uploaded")
                throw ExitCode(1)
            }
        }

        let client = OpenAIClient(configuration: config, log: { note($0) })
        // Recorded in the store first, so that `hellotune jobs` follows the job and a retry never starts a second one.
        let store = try Store.openDefault()
        let tracker = FineTuneJobTracker(store: store, backend: client)
        let record = try Self.unsubmitted(like: spec, in: store).map { old in
            note("job \(old.id) with these settings never reached the API (\(old.error ?? old.statusText)); submitting it again")
            return old
        } ?? tracker.record(spec, experimentID: nil, outputDir: nil)
        let submission = try await tracker.submit(jobID: record.id)
        let uploaded = try OpenAIJobSpec.decode(submission.job.config)
        note("uploaded \(URL(fileURLWithPath: data).lastPathComponent) as \(uploaded.trainingFile ?? "?")"
             + (uploaded.validationFile.map { ", the validation data as \($0)" } ?? ""))
        guard let job = submission.remote else {
            throw ValidationError("job \(record.id) was not submitted (\(submission.job.statusText)); see `hellotune jobs show \(record.id)`")
        }
        note("created fine-tuning job \(job.id) (\(job.status.rawValue)); follow it with `hellotune jobs show \(record.id)`")
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(terminalSafeJSON(String(decoding: try encoder.encode(job), as: UTF8.self)))
        } else {
            say(job.id)
        }
    }

    /// The newest job this command recorded with the same settings that failed before its create request went out
    /// (the API refused an upload): submitting it again reuses its row and any file it uploaded, instead of leaving
    /// it behind and making another. A queued one is left alone: another process may be submitting it.
    static func unsubmitted(like spec: OpenAIJobSpec, in store: Store) throws -> JobRecord? {
        func settings(_ s: OpenAIJobSpec) -> OpenAIJobSpec {
            var s = s
            s.token = ""
            s.trainingFile = nil
            s.validationFile = nil
            return s
        }
        return try store.jobsWithoutExternalID(backend: "openai", statuses: [.failed]).last { job in
            guard job.experimentID == nil, let stored = try? OpenAIJobSpec.decode(job.config), !stored.submitted else { return false }
            return settings(stored) == settings(spec)
        }
    }

    /// Token counts from the default local model's tokenizer when it is fetched (a stand-in for OpenAI's).
    static func localTokenCounter() -> ((String) -> Int)? {
        let path = Paths.defaultModel.path
        guard FileManager.default.fileExists(atPath: path),
              let tokenizer = try? Tokenizer(gguf: GGUFFile(path: path)) else { return nil }
        return { tokenizer.encode($0, parseSpecial: false).count }
    }
}
