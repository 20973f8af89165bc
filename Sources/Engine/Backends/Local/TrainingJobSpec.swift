import Foundation
import Support
import ModelCore
import Training
import Store

/// What a training worker needs to run a job on its own: stored as the job's config in the store,
/// so a worker started later (or again, after a crash) needs nothing but the job id.
public struct TrainingJobSpec: Codable, Sendable, Equatable {
    public var model: String
    public var data: String
    public var outputDirectory: String
    public var options: TrainingOptions

    public init(model: String, data: String, outputDirectory: String, options: TrainingOptions) {
        self.model = model
        self.data = data
        self.outputDirectory = outputDirectory
        self.options = options
    }

    public func json() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }

    public static func decode(_ json: String) throws -> TrainingJobSpec {
        try JSONDecoder().decode(TrainingJobSpec.self, from: Data(json.utf8))
    }
}
