import Foundation
import GRDB

extension Store {
    public func createExperiment(name: String, config: String, status: String = "created") throws -> ExperimentRecord {
        try JSONText.validate(config, field: "experiments.config")
        let now = StoreClock.now()
        return try write { db in
            try db.execute(
                sql: "INSERT INTO experiments (name, config, status, createdAt, updatedAt) VALUES (?, ?, ?, ?, ?)",
                arguments: [name, config, status, StoreClock.milliseconds(now), StoreClock.milliseconds(now)])
            return ExperimentRecord(id: db.lastInsertedRowID, name: name, config: config, status: status,
                                    createdAt: now, updatedAt: now)
        }
    }

    /// All experiments, oldest first.
    public func experiments() throws -> [ExperimentRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM experiments ORDER BY id").map(ExperimentRecord.init(row:))
        }
    }

    public func experiment(_ id: Int64) throws -> ExperimentRecord? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM experiments WHERE id = ?", arguments: [id])
                .map(ExperimentRecord.init(row:))
        }
    }

    public func setExperimentStatus(_ id: Int64, _ status: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE experiments SET status = ?, updatedAt = ? WHERE id = ?",
                           arguments: [status, StoreClock.milliseconds(StoreClock.now()), id])
            if db.changesCount == 0 { throw StoreError.noSuchExperiment(id) }
        }
    }
}

extension ExperimentRecord {
    init(row: Row) {
        self.init(id: row["id"], name: row["name"], config: row["config"], status: row["status"],
                  createdAt: StoreClock.date(milliseconds: row["createdAt"]),
                  updatedAt: StoreClock.date(milliseconds: row["updatedAt"]))
    }
}
