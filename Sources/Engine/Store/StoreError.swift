import Foundation

/// Why the job database could not be used, each saying what to do about it.
public enum StoreError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// The file's schema version is above `Store.schemaVersion`; it was left untouched.
    case newerSchema(path: String, found: Int, supported: Int)
    /// The file is not an SQLite database, is damaged, or is some other program's database.
    case notADatabase(path: String, reason: String)
    /// The folder or file cannot be created or written.
    case unwritable(path: String, reason: String)
    /// Another process held the database (or its setup lock) past the wait limit.
    case busy(path: String, seconds: Double)
    case noSuchJob(Int64)
    /// No job has this remote id or run name.
    case noJobNamed(String)
    /// Several jobs answer to one name (an experiment with several runs).
    case ambiguousJobName(String, ids: [Int64])
    case noSuchExperiment(Int64)
    case noSuchSample(Int64)
    /// A label for a sample that belongs to another experiment than the one named.
    case sampleNotInExperiment(sample: Int64, experiment: Int64)
    /// A field that must hold JSON text does not.
    case invalidJSON(field: String, reason: String)
    /// Any other SQLite failure, with SQLite's own words.
    case sqlite(path: String, message: String)

    public var description: String {
        switch self {
        case let .newerSchema(path, found, supported):
            return "\(path) was written by a newer hellotune (schema \(found)); this one reads up to \(supported). "
                + "Upgrade hellotune, or point HELLOTUNE_HOME elsewhere."
        case let .notADatabase(path, reason):
            return "\(path) is not a usable hellotune database (\(reason)). Move it away (mv \(path) \(path).bad) "
                + "and hellotune will start a new one, or point HELLOTUNE_HOME elsewhere."
        case let .unwritable(path, reason):
            return "cannot write \(path) (\(reason)). Check that the folder exists and is writable, "
                + "or point HELLOTUNE_HOME at a writable folder."
        case let .busy(path, seconds):
            return "\(path) stayed locked by another process for \(Int(seconds)) s. "
                + "Check for a stuck hellotune process (ps aux | grep hellotune) and try again."
        case let .noSuchJob(id):
            return "no job \(id) (see `hellotune jobs list`)"
        case let .noJobNamed(name):
            return "no job is named '\(name)': give its number, its remote id (ftjob-…) or its run folder's name "
                + "(see `hellotune jobs list`)"
        case let .ambiguousJobName(name, ids):
            return "'\(name)' names \(ids.count) jobs (\(ids.map { "#\($0)" }.joined(separator: ", "))); give one of their "
                + "numbers or its run folder's name"
        case let .noSuchExperiment(id):
            return "no experiment \(id); create the experiment before recording jobs or samples for it."
        case let .noSuchSample(id):
            return "no sample \(id); only stored samples (insertSample) can be scored."
        case let .sampleNotInExperiment(sample, experiment):
            return "sample \(sample) is not one of experiment \(experiment)'s; list the run's samples with `hellotune label RUN --list`."
        case let .invalidJSON(field, reason):
            return "\(field) must be JSON text (\(reason)); encode the value with JSONEncoder before storing it."
        case let .sqlite(path, message):
            return "\(path): SQLite failed: \(message). If this repeats, move the file away "
                + "and hellotune will start a new one."
        }
    }

    public var errorDescription: String? { description }
}
