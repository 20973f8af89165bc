import Foundation
import Support
import ModelCore
import Training
import Store
import Backends

/// What an experiment runs on, built once from its `backend` setting: the rest of the runner asks these protocols
/// and never the setting.
struct RunBackends {
    let fineTuner: any FineTuner
    /// The local model that generates datasets (also on the OpenAI backend), loaded on first use.
    let datasets: LazyLocalModel
    /// The base and the fine-tuned model of one run, as the evaluator asks them.
    let evaluationModels: (FineTuneResult) throws -> [EvaluationModel]
    /// The evaluation's progress line.
    let evaluationMessage: String
}

extension ExperimentRunner {
    /// Seconds between two polls of a remote fine-tuning job unless HELLOTUNE_OPENAI_POLL_SECONDS says otherwise.
    public static let defaultPollInterval: Double = 10

    /// HELLOTUNE_OPENAI_POLL_SECONDS when set (it exists so that tests against a fake server can poll fast), else
    /// `defaultPollInterval`.
    public static func pollInterval(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Double {
        guard let text = environment["HELLOTUNE_OPENAI_POLL_SECONDS"], !text.isEmpty else { return defaultPollInterval }
        guard let seconds = Double(text), seconds > 0, seconds <= 3600 else { throw ExperimentError.invalidPollInterval(text) }
        return seconds
    }

    /// Chat requests in flight at once during an evaluation on the API.
    static let requestsInFlight = 4

    /// The local backend: a worker process fine-tunes the local model, which is also evaluated (base, and base with
    /// the run's adapter) and generates the datasets.
    func localBackends(_ base: LazyLocalModel) -> RunBackends {
        let tuner = LocalFineTuner(store: store, modelPath: modelPath, options: trainingOptions(seed: 0), workerBinary: workerBinary)
        tuner.log = log
        let cancel = self.cancel
        return RunBackends(fineTuner: tuner, datasets: base, evaluationModels: { result in
            guard case let .adapter(folder) = result else { throw ExperimentError.unexpectedResult(result) }
            let model = try base.get()
            let tuned = model.with(adapter: try AdapterIO.read(from: folder, modelConfig: model.model.config))
            return [EvaluationModel(name: Evaluator.baseName, model: model, cancel: cancel),
                    EvaluationModel(name: Evaluator.tunedName, model: tuned, cancel: cancel)]
        }, evaluationMessage: "sampling base and fine-tuned replies")
    }

    /// The OpenAI backend: the API fine-tunes and evaluates `config.model`; the local model only generates datasets,
    /// so it is loaded only when one is generated (a run on an imported dataset never touches it).
    func openAIBackends(datasets: LazyLocalModel) throws -> RunBackends {
        guard let openAI else { throw ExperimentError.openAINotConfigured }
        guard let model = config.model, !model.isEmpty else { throw ExperimentError.remoteModelMissing }
        let client = OpenAIClient(configuration: openAI, log: log)
        let tuner = OpenAIFineTuner(store: store, client: client, model: model, epochs: config.training.epochs,
                                    batchSize: config.training.batchSize,
                                    learningRateMultiplier: config.training.learningRateMultiplier, pollInterval: pollInterval)
        tuner.log = log
        return RunBackends(fineTuner: tuner, datasets: datasets, evaluationModels: { result in
            guard case let .remoteModel(tuned) = result else { throw ExperimentError.unexpectedResult(result) }
            return [EvaluationModel(name: Evaluator.baseName, backend: client, model: model, batchSize: Self.requestsInFlight),
                    EvaluationModel(name: Evaluator.tunedName, backend: client, model: tuned, batchSize: Self.requestsInFlight)]
        }, evaluationMessage: "asking the base and fine-tuned models")
    }
}

/// The local model, loaded on first use and kept, with its chat backend.
final class LazyLocalModel {
    let path: String
    private var loaded: LocalModel?
    private var backend: LocalChatBackend?

    init(path: String) { self.path = path }

    func get() throws -> LocalModel {
        if let loaded { return loaded }
        let model = try LocalModel(path: path)
        loaded = model
        return model
    }

    /// The model as a backend: generating datasets goes through its constrained generation.
    func chat() throws -> LocalChatBackend {
        if let backend { return backend }
        let made = LocalChatBackend(model: try get())
        backend = made
        return made
    }
}
