import Foundation
import GRDB

extension Store {
    /// Stores a human label, replacing the sample's earlier one (a researcher who changes their mind is recorded
    /// with the new time).
    public func setLabel(_ l: LabelRecord) throws {
        try write { db in
            guard try Self.exists(db, table: "experiments", id: l.experimentID) else {
                throw StoreError.noSuchExperiment(l.experimentID)
            }
            guard let owner = try Int64.fetchOne(db, sql: "SELECT experimentID FROM samples WHERE id = ?",
                                                 arguments: [l.sampleID]) else {
                throw StoreError.noSuchSample(l.sampleID)
            }
            guard owner == l.experimentID else {
                throw StoreError.sampleNotInExperiment(sample: l.sampleID, experiment: l.experimentID)
            }
            try db.execute(
                sql: """
                    INSERT INTO labels (experimentID, sampleID, category, labeller, createdAt) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (experimentID, sampleID)
                    DO UPDATE SET category = excluded.category, labeller = excluded.labeller, createdAt = excluded.createdAt
                    """,
                arguments: [l.experimentID, l.sampleID, l.category, l.labeller, StoreClock.milliseconds(l.createdAt)])
        }
    }

    /// Removes a sample's label; says whether there was one.
    @discardableResult
    public func removeLabel(experimentID: Int64, sampleID: Int64) throws -> Bool {
        try write { db in
            try db.execute(sql: "DELETE FROM labels WHERE experimentID = ? AND sampleID = ?",
                           arguments: [experimentID, sampleID])
            return db.changesCount > 0
        }
    }

    /// An experiment's labels, by sample id.
    public func labels(experimentID: Int64) throws -> [LabelRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM labels WHERE experimentID = ? ORDER BY sampleID",
                             arguments: [experimentID]).map { row in
                LabelRecord(experimentID: row["experimentID"], sampleID: row["sampleID"], category: row["category"],
                            labeller: row["labeller"], createdAt: StoreClock.date(milliseconds: row["createdAt"]))
            }
        }
    }
}
