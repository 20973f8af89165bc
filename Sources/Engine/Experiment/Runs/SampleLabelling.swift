import Foundation
import Store

/// What the Results screen's label keys ask: store (or clear) a researcher's category for one self-report. The TUI
/// opens no store itself; it asks this.
public protocol SampleLabelling: Sendable {
    func label(experimentID: Int64, sampleID: Int64, category: SelfReportCategory?) async throws
}

/// Labels in the default store, under the login name.
public struct StoreSampleLabelling: SampleLabelling {
    public var labeller: String

    public init(labeller: String = ProcessInfo.processInfo.environment["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "researcher") {
        self.labeller = labeller
    }

    public func label(experimentID: Int64, sampleID: Int64, category: SelfReportCategory?) async throws {
        try HumanLabels(store: try Store.openDefault()).set(experimentID: experimentID, sampleID: sampleID, category: category,
                                                            labeller: labeller)
    }
}
