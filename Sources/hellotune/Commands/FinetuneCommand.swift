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
    @Option(help: "Epochs (default: auto).") var epochs: Int?
    @Option(name: .customLong("lr-mult"), help: "Learning rate multiplier (default: auto).") var lrMult: Double?
    @Option(name: .customLong("batch-size"), help: "Batch size (default: auto).") var batchSize: Int?
    @Option(help: "Seed for the job.") var seed: Int?
    @Option(name: .customLong("base-url"), help: "API base URL (default: $OPENAI_BASE_URL or https://api.openai.com/v1).")
    var baseURL: String?
    @Option(help: "Seconds before a request counts as failed.") var timeout: Double = 600
    @Option(name: .customLong("max-retries"), help: "Retries on connection errors, 408, 409, 429 and 5xx.") var maxRetries: Int = 2
    @Flag(help: "Do not ask for confirmation.") var yes = false
    @Flag(help: "Print the created job as JSON on stdout.") var json = false

    func validate() throws {
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if let lrMult, !(lrMult > 0) { throw ValidationError("--lr-mult must be > 0") }
        if let suffix, suffix.count > 64 { throw ValidationError("--suffix may have at most 64 characters") }
        if timeout <= 0 { throw ValidationError("--timeout must be > 0") }
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
            print("Local fine-tuning runs in this process with `hellotune train --data \(data) --out DIR` (LoRA on CPU); " +
                  "`hellotune finetune` only submits jobs to the OpenAI API.")
            return
        }
        guard let model else { throw ValidationError("--model is required with --backend openai (e.g. gpt-4o-mini-2024-07-18)") }
        var config: OpenAIConfiguration
        do {
            config = try OpenAIConfiguration.fromEnvironment(baseURL: baseURL)
        } catch {
            throw ValidationError("\(error)")
        }
        config.timeout = timeout
        config.maxRetries = maxRetries

        let dataset = try ChatDataset.load(path: data)
        // Checked before anything is uploaded.
        _ = try validation.map { try ChatDataset.load(path: $0) }
        let estimate = FineTuneEstimate(dataset: dataset, model: model, epochs: epochs, tokenCount: Self.localTokenCounter(),
                                        tokenMethod: nil)
        note("estimate for \(URL(fileURLWithPath: data).lastPathComponent):")
        note(estimate.summary.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        note("API: \(config.baseURL.absoluteString) (key \(config.apiKey.masked))")

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
        let spec = OpenAIJobSpec(model: model, data: URL(fileURLWithPath: data).path,
                                 validationData: validation.map { URL(fileURLWithPath: $0).path },
                                 baseURL: config.baseURL.absoluteString, suffix: suffix, seed: seed, epochs: epochs,
                                 batchSize: batchSize, learningRateMultiplier: lrMult)
        let record = try tracker.record(spec, experimentID: nil, outputDir: nil)
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

    /// Token counts from the default local model's tokenizer when it is fetched (a stand-in for OpenAI's).
    static func localTokenCounter() -> ((String) -> Int)? {
        let path = Paths.defaultModel.path
        guard FileManager.default.fileExists(atPath: path),
              let tokenizer = try? Tokenizer(gguf: GGUFFile(path: path)) else { return nil }
        return { tokenizer.encode($0, parseSpecial: false).count }
    }
}
