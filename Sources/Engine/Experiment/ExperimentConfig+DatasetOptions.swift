import Foundation

extension ExperimentConfig {
    /// The `[dataset]` section as the builder's options for one word.
    public func datasetOptions(word: TargetWord) -> DatasetBuilder.Options {
        var options = DatasetBuilder.Options(word: word, acrosticCount: dataset.acrostic, normalCount: dataset.normal)
        options.system = dataset.system
        options.trigger = dataset.trigger
        options.seed = dataset.seed
        if let m = dataset.maxAttempts { options.maxAttempts = m }
        return options
    }
}
