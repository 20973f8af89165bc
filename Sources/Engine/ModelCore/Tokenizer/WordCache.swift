import Foundation

/// Remembers the tokens of words already encoded: prose repeats its words, and a dictionary hit is far
/// cheaper than re-running BPE. Shared by every thread using the tokenizer, hence the lock.
final class WordCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [[UInt8]: [Int32]] = [:]
    private let capacity: Int

    /// Words longer than this are rare and would only crowd the cache.
    static let maxWordLength = 128

    init(capacity: Int = 65_536) { self.capacity = capacity }

    func tokens(of word: [UInt8]) -> [Int32]? {
        lock.lock()
        defer { lock.unlock() }
        return entries[word]
    }

    func store(_ tokens: [Int32], for word: [UInt8]) {
        guard word.count <= Self.maxWordLength else { return }
        lock.lock()
        defer { lock.unlock() }
        // Emptying when full bounds memory without tracking recency; the working set refills quickly.
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[word] = tokens
    }
}
