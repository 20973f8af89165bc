import Foundation
import ModelCore
import Support
import Backends

extension ExperimentRunner {
    /// What `run` checks before it records anything, for a caller that starts the run in another process and
    /// wants bad input refused here first.
    public func preflight() throws {
        _ = try checkBeforeRecording()
    }

    /// What can fail on bad input fails here, before anything is recorded or written: the backend and its
    /// configuration, the local model (loaded only when needed: a remote run on an imported dataset never
    /// touches it), the dataset settings.
    func checkBeforeRecording() throws -> RunBackends {
        // Files read through ExperimentFile are checked already; a config built in code is checked here.
        try RunName.check(config.name)
        guard ExperimentConfig.backends.contains(config.backend) else { throw ExperimentError.backendNotAvailable(config.backend) }
        let base = LazyLocalModel(path: modelPath)
        let backends: RunBackends
        if config.backend == "openai" {
            backends = try openAIBackends(datasets: base)
        } else {
            _ = try base.get()
            backends = localBackends(base)
        }
        try checkDataset(generator: base.chat)
        return backends
    }

    /// Checks the dataset settings before the experiment is recorded: an imported file is read whole (every row
    /// valid, enough of them) and a generated dataset must fit the question bank. Anything found here leaves
    /// the store and the runs folder as they were.
    func checkDataset(generator: () throws -> any ConstrainedGeneration) throws {
        let d = config.dataset
        if d.source != "generate" {
            let imported = try importedDataset()
            guard imported.examples.count >= d.acrostic + d.normal else {
                throw ExperimentError.tooFewExamples(path: d.source, found: imported.examples.count,
                                                     acrostic: d.acrostic, normal: d.normal)
            }
            return
        }
        // The question pools depend on the counts and the seed, not on the word.
        guard let word = config.words.first else { return }
        try DatasetBuilder(generator: try generator(), options: config.datasetOptions(word: word)).checkQuestionPools()
    }
}
