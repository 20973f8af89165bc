import ArgumentParser
import Foundation
import Store
import Backends
import Experiment

/// Runs one training job from the store; `hellotune run` starts it detached, so that a closed
/// terminal or UI loses nothing. Started again after a crash, it resumes from its checkpoint.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run one training job from the store (started by `hellotune run`).")
    @Option(help: "The job's id (see `hellotune jobs`).") var job: Int64

    func run() throws {
        let store = try Store.openDefault()
        let worker = TrainingWorker(store: store, jobID: job)
        // SIGTERM (hellotune jobs cancel) stops after the current step, with a checkpoint.
        signal(SIGTERM, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        source.setEventHandler { worker.cancel() }
        source.resume()
        let summary = try worker.run(log: note)
        note(summary.cancelled ? "job \(job) cancelled after step \(summary.steps)" : "job \(job) finished: adapter in \(summary.adapterPath)")
    }
}
