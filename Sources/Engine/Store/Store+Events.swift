import Foundation
import GRDB

extension Store {
    /// Appends events in one transaction and returns how many were new: an event whose `externalID` is
    /// already stored for this job is skipped, so re-reading an OpenAI page after a restart adds nothing twice.
    @discardableResult
    public func appendEvents(jobID: Int64,
                             _ events: [(kind: String, payload: String, externalID: String?)]) throws -> Int {
        for (index, event) in events.enumerated() {
            try JSONText.validate(event.payload, field: "events[\(index)].payload")
        }
        let now = StoreClock.milliseconds(StoreClock.now())
        return try write { db in
            guard try Self.exists(db, table: "jobs", id: jobID) else { throw StoreError.noSuchJob(jobID) }
            let statement = try db.makeStatement(sql: """
                INSERT INTO events (jobID, kind, payload, externalID, createdAt) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (jobID, externalID) DO NOTHING
                """)
            var inserted = 0
            for event in events {
                try statement.execute(arguments: [jobID, event.kind, event.payload, event.externalID, now])
                inserted += db.changesCount
            }
            return inserted
        }
    }

    /// A job's events in the order they were stored, after `afterID` if given.
    public func events(jobID: Int64, afterID: Int64? = nil, limit: Int = 1000) throws -> [EventRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM events WHERE jobID = ? AND id > ? ORDER BY id LIMIT ?",
                             arguments: [jobID, afterID ?? 0, max(0, limit)]).map(EventRecord.init(row:))
        }
    }

    /// A job's `limit` most recent events, oldest of them first.
    public func latestEvents(jobID: Int64, limit: Int) throws -> [EventRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM events WHERE jobID = ? ORDER BY id DESC LIMIT ?",
                             arguments: [jobID, max(0, limit)]).map(EventRecord.init(row:)).reversed()
        }
    }
}

extension EventRecord {
    init(row: Row) {
        self.init(id: row["id"], jobID: row["jobID"], kind: row["kind"], payload: row["payload"],
                  externalID: row["externalID"], createdAt: StoreClock.date(milliseconds: row["createdAt"]))
    }
}
