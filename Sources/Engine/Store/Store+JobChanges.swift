import Foundation
import GRDB

/// Says whether anything was committed to the store since it last looked, from any process: SQLite's
/// `PRAGMA data_version` on a connection of its own (the value moves when another connection commits; the pool's
/// readers are many, so one of them cannot answer). One query, however many jobs there are: what lets a screen that
/// polls every couple of seconds cost nothing while nothing happens.
public final class StoreChangeWatch: @unchecked Sendable {
    private let queue: DatabaseQueue
    private let lock = NSLock()
    private var last: Int64?

    init(path: String) throws {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(Store.busyTimeout)
        config.label = "hellotune.store.watch"
        queue = try Store.mapErrors(path) { try DatabaseQueue(path: path, configuration: config) }
    }

    /// True on the first call and whenever a commit happened since the previous call.
    public func changed() throws -> Bool {
        let version = try Store.mapErrors(queue.path) {
            try queue.read { db in try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? 0 }
        }
        return lock.withLock {
            defer { last = version }
            return last != version
        }
    }
}

extension Store {
    /// A watch of this store's commits, for pollers (see `StoreChangeWatch`).
    public func changeWatch() throws -> StoreChangeWatch { try StoreChangeWatch(path: path) }

    /// Every job's id and the time it last changed (ms), oldest first: two integers a row, read from the table
    /// without decoding the rows, so that a poller finds which jobs changed and reads only those.
    public func jobStamps() throws -> [(id: Int64, updatedAt: Int64)] {
        try read { db in
            var stamps: [(id: Int64, updatedAt: Int64)] = []
            let rows = try Row.fetchCursor(db, sql: "SELECT id, updatedAt FROM jobs ORDER BY id")
            while let row = try rows.next() { stamps.append((row[0], row[1])) }
            return stamps
        }
    }

    /// The jobs with these ids (those that exist), oldest first, read in chunks of a few hundred.
    public func jobs(ids: [Int64]) throws -> [JobRecord] {
        try read { db in
            var out: [JobRecord] = []
            for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
                let marks = chunk.map { _ in "?" }.joined(separator: ",")
                out += try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE id IN (\(marks)) ORDER BY id",
                                        arguments: StatementArguments(chunk)).map(JobRecord.init(row:))
            }
            return out.sorted { $0.id < $1.id }
        }
    }

    /// The newest event's id (0 without events): with `jobIDsWithEvents(after:)`, which jobs got events since.
    public func maxEventID() throws -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM events") ?? 0 }
    }

    /// The jobs that have events with an id in `after+1...upTo`, found through the events' id (no scan of older ones).
    public func jobIDsWithEvents(after: Int64, upTo: Int64 = .max) throws -> Set<Int64> {
        try read { db in
            Set(try Int64.fetchAll(db, sql: "SELECT DISTINCT jobID FROM events WHERE id > ? AND id <= ?",
                                   arguments: [after, upTo]))
        }
    }
}
