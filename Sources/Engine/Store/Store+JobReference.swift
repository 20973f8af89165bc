import Foundation

extension Store {
    /// The job a user names on the command line: its number in this store, the remote id an OpenAI job was given
    /// (`ftjob-…`, what `hellotune finetune` prints), or a run's name (its output folder's name, as the Jobs screen
    /// shows it, or the experiment's name when the experiment has one job).
    public func job(named reference: String) throws -> JobRecord {
        let text = reference.trimmingCharacters(in: .whitespaces)
        if let id = Int64(text) {
            guard let job = try job(id) else { throw StoreError.noSuchJob(id) }
            return job
        }
        let all = try jobs()
        var found = all.filter { $0.externalID == text }
        if found.isEmpty { found = all.filter { $0.outputDir.map { URL(fileURLWithPath: $0).lastPathComponent } == text } }
        if found.isEmpty {
            let experiments = Set(try experiments().filter { $0.name == text }.map(\.id))
            found = all.filter { $0.experimentID.map(experiments.contains) ?? false }
        }
        guard let first = found.first else { throw StoreError.noJobNamed(text) }
        guard found.count == 1 else { throw StoreError.ambiguousJobName(text, ids: found.map(\.id)) }
        return first
    }
}
