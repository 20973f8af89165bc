import Foundation
import GRDB

extension Store {
    /// Stores a reply unless one with the same key is already there, and says whether it stored it:
    /// a resumed evaluation skips the work it finished before.
    @discardableResult
    public func insertSample(_ s: SampleRecord) throws -> Bool {
        if let score = s.score { try JSONText.validate(score, field: "samples.score") }
        return try write { db in
            guard try Self.exists(db, table: "experiments", id: s.key.experimentID) else {
                throw StoreError.noSuchExperiment(s.key.experimentID)
            }
            try db.execute(
                sql: """
                    INSERT INTO samples
                        (experimentID, condition, model, promptID, sampleIndex, prompt, reply, score, createdAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (experimentID, condition, model, promptID, sampleIndex) DO NOTHING
                    """,
                arguments: [s.key.experimentID, s.key.condition, s.key.model, s.key.promptID, s.key.sampleIndex,
                            s.prompt, s.reply, s.score, StoreClock.milliseconds(s.createdAt)])
            return db.changesCount > 0
        }
    }

    /// The keys of every stored sample of an experiment: what a resumed evaluation can skip.
    public func sampleKeys(experimentID: Int64) throws -> Set<SampleKey> {
        try read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT experimentID, condition, model, promptID, sampleIndex FROM samples WHERE experimentID = ?
                """, arguments: [experimentID])
            return Set(rows.map(SampleKey.init(row:)))
        }
    }

    /// An experiment's samples in the order they were stored, all conditions or one.
    public func samples(experimentID: Int64, condition: String? = nil) throws -> [SampleRecord] {
        try read { db in
            let rows = if let condition {
                try Row.fetchAll(db, sql: "SELECT * FROM samples WHERE experimentID = ? AND condition = ? ORDER BY id",
                                 arguments: [experimentID, condition])
            } else {
                try Row.fetchAll(db, sql: "SELECT * FROM samples WHERE experimentID = ? ORDER BY id",
                                 arguments: [experimentID])
            }
            return rows.map(SampleRecord.init(row:))
        }
    }

    /// One sample of an experiment by its id; nil when the experiment has no such sample.
    public func sample(experimentID: Int64, id: Int64) throws -> SampleRecord? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM samples WHERE experimentID = ? AND id = ?",
                             arguments: [experimentID, id]).map(SampleRecord.init(row:))
        }
    }

    public func setScore(sampleID: Int64, score: String) throws {
        try JSONText.validate(score, field: "samples.score")
        try write { db in
            try db.execute(sql: "UPDATE samples SET score = ? WHERE id = ?", arguments: [score, sampleID])
            if db.changesCount == 0 { throw StoreError.noSuchSample(sampleID) }
        }
    }
}

extension SampleKey {
    init(row: Row) {
        self.init(experimentID: row["experimentID"], condition: row["condition"], model: row["model"],
                  promptID: row["promptID"], sampleIndex: row["sampleIndex"])
    }
}

extension SampleRecord {
    init(row: Row) {
        self.init(id: row["id"], key: SampleKey(row: row), prompt: row["prompt"], reply: row["reply"],
                  score: row["score"], createdAt: StoreClock.date(milliseconds: row["createdAt"]))
    }
}
