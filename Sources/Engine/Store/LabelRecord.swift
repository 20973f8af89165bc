import Foundation

/// A researcher's code for one stored sample (a self-report category), with who gave it and when.
/// The Store keeps the text as given; the Experiment layer says which names are categories.
public struct LabelRecord: Codable, Sendable, Equatable {
    public var experimentID: Int64
    /// `samples.id` of the labelled reply.
    public var sampleID: Int64
    public var category: String
    /// Who coded it (the login name, or what `--labeller` said).
    public var labeller: String
    public var createdAt: Date

    public init(experimentID: Int64, sampleID: Int64, category: String, labeller: String, createdAt: Date = StoreClock.now()) {
        self.experimentID = experimentID
        self.sampleID = sampleID
        self.category = category
        self.labeller = labeller
        self.createdAt = createdAt
    }
}
