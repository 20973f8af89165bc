import Foundation

/// What a file parses to, kept while its size and modification time stay the same. The Jobs screen polls every
/// two seconds, and a long run's log.jsonl holds thousands of lines: parsing each log again at every poll
/// spent the CPU a training job on the same two cores needed. Logs only grow (or are replaced), so a change
/// always shows in the size or the time.
public final class ParsedFileCache<Value>: @unchecked Sendable {
    private struct Entry {
        let size: UInt64
        let modified: Date
        let value: Value
    }
    private let lock = NSLock()
    private var entries: [String: Entry] = [:]

    public init() {}

    /// The parsed file at `path`, parsed again only when it changed; nil when it cannot be read.
    public func value(at path: String, parse: (Data) -> Value) -> Value? {
        // Stat before reading: a file that grows in between is then parsed again at the next call, never kept
        // stale under its newer size.
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = (attributes[.size] as? NSNumber)?.uint64Value,
              let modified = attributes[.modificationDate] as? Date else {
            forget(path)
            return nil
        }
        lock.lock()
        let cached = entries[path]
        lock.unlock()
        if let cached, cached.size == size, cached.modified == modified { return cached.value }
        guard let data = FileManager.default.contents(atPath: path) else {
            forget(path)
            return nil
        }
        let value = parse(data)
        lock.lock()
        entries[path] = Entry(size: size, modified: modified, value: value)
        lock.unlock()
        return value
    }

    private func forget(_ path: String) {
        lock.lock()
        entries[path] = nil
        lock.unlock()
    }
}
