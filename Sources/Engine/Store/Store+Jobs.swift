import Foundation
import GRDB
import Support

extension Store {
    public func createJob(experimentID: Int64?, kind: String, backend: String, config: String,
                          outputDir: String?, status: JobStatus = .queued) throws -> JobRecord {
        try JSONText.validate(config, field: "jobs.config")
        let now = StoreClock.now()
        return try write { db in
            if let experimentID, try !Self.exists(db, table: "experiments", id: experimentID) {
                throw StoreError.noSuchExperiment(experimentID)
            }
            try db.execute(
                sql: """
                    INSERT INTO jobs (experimentID, kind, backend, status, config, outputDir, createdAt, updatedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [experimentID, kind, backend, status.rawValue, config, outputDir,
                            StoreClock.milliseconds(now), StoreClock.milliseconds(now)])
            return JobRecord(id: db.lastInsertedRowID, experimentID: experimentID, kind: kind, backend: backend,
                             statusText: status.rawValue, config: config, outputDir: outputDir,
                             createdAt: now, updatedAt: now)
        }
    }

    public func job(_ id: Int64) throws -> JobRecord? {
        try read { db in try Self.fetchJob(db, id) }
    }

    /// Jobs oldest first, all of them or one experiment's.
    public func jobs(experimentID: Int64? = nil) throws -> [JobRecord] {
        try read { db in
            let rows = if let experimentID {
                try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE experimentID = ? ORDER BY id",
                                 arguments: [experimentID])
            } else {
                try Row.fetchAll(db, sql: "SELECT * FROM jobs ORDER BY id")
            }
            return rows.map(JobRecord.init(row:))
        }
    }

    /// At most `limit` jobs with an id above `afterID`, oldest first: one page, so that a listing of any number of
    /// jobs holds one page in memory at a time.
    public func jobs(afterID: Int64, limit: Int) throws -> [JobRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE id > ? ORDER BY id LIMIT ?", arguments: [afterID, limit])
                .map(JobRecord.init(row:))
        }
    }

    /// Every job with an id up to `lastID` (all of them when nil), oldest first, a page at a time.
    public func forEachJob(upTo lastID: Int64? = nil, pageSize: Int = 1000, _ body: (JobRecord) throws -> Void) throws {
        var after: Int64 = 0
        while true {
            let page = try jobs(afterID: after, limit: pageSize)
            for job in page {
                if let lastID, job.id > lastID { return }
                try body(job)
            }
            guard let last = page.last, page.count == pageSize else { return }
            after = last.id
        }
    }

    /// Jobs of `backend` with no remote id in one of `statuses`, oldest first: the few a resubmit may reuse,
    /// found by the status index without reading every job.
    public func jobsWithoutExternalID(backend: String, statuses: [JobStatus]) throws -> [JobRecord] {
        try read { db in
            let marks = statuses.map { _ in "?" }.joined(separator: ", ")
            let arguments = StatementArguments(statuses.map(\.rawValue) + [backend])
            return try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE status IN (\(marks)) AND backend = ? AND externalID IS NULL ORDER BY id",
                                    arguments: arguments).map(JobRecord.init(row:))
        }
    }

    /// Reads, changes and writes back one job in a single transaction, so that a worker recording progress
    /// and a `jobs cancel` never overwrite each other's change. `id` and `createdAt` cannot be changed;
    /// `updatedAt` is set to now (see `StoreClock.after`), unless the change changed nothing (then nothing is
    /// written). A change that throws writes nothing.
    @discardableResult
    public func updateJob(_ id: Int64, _ change: (inout JobRecord) throws -> Void) throws -> JobRecord {
        let now = StoreClock.now()
        return try write { db in
            guard var job = try Self.fetchJob(db, id) else { throw StoreError.noSuchJob(id) }
            let original = job
            try change(&job)
            job.id = original.id
            job.createdAt = original.createdAt
            job.updatedAt = original.updatedAt
            if job == original { return original }
            job.updatedAt = StoreClock.after(original.updatedAt, now: now)
            if job.config != original.config { try JSONText.validate(job.config, field: "jobs.config") }
            if let experimentID = job.experimentID, experimentID != original.experimentID,
               try !Self.exists(db, table: "experiments", id: experimentID) {
                throw StoreError.noSuchExperiment(experimentID)
            }
            try db.execute(
                sql: """
                    UPDATE jobs SET experimentID = ?, kind = ?, backend = ?, status = ?, config = ?, outputDir = ?,
                        externalID = ?, cursor = ?, step = ?, totalSteps = ?, loss = ?, tokensPerSecond = ?,
                        etaSeconds = ?, pid = ?, error = ?, updatedAt = ?
                    WHERE id = ?
                    """,
                arguments: [job.experimentID, job.kind, job.backend, job.statusText, job.config, job.outputDir,
                            job.externalID, job.cursor, job.step, job.totalSteps, job.loss, job.tokensPerSecond,
                            job.etaSeconds, job.pid, job.error, StoreClock.milliseconds(job.updatedAt), id])
            return job
        }
    }

    /// Jobs marked running (or validating) whose local worker process no longer exists (kill -9, crash,
    /// reboot) become interrupted, so they do not show as running forever. Returns the jobs it changed.
    /// A pid reused by an unrelated process after a reboot keeps its job "running" until that process ends.
    @discardableResult
    public func markInterruptedJobs() throws -> [JobRecord] {
        let now = StoreClock.now()
        return try write { db in
            let candidates = try Row.fetchAll(db, sql: """
                SELECT * FROM jobs WHERE status IN (?, ?) AND pid IS NOT NULL
                """, arguments: [JobStatus.running.rawValue, JobStatus.validating.rawValue]).map(JobRecord.init(row:))
            var changed: [JobRecord] = []
            for var job in candidates {
                guard let pid = job.pid, !ProcessLiveness.isAlive(pid) else { continue }
                job.status = .interrupted
                job.updatedAt = StoreClock.after(job.updatedAt, now: now)
                if job.error == nil {
                    job.error = "the worker (pid \(pid)) ended without recording a result: killed, crashed or "
                        + "the machine restarted"
                }
                try db.execute(sql: "UPDATE jobs SET status = ?, error = ?, updatedAt = ? WHERE id = ?",
                               arguments: [job.statusText, job.error, StoreClock.milliseconds(job.updatedAt), job.id])
                changed.append(job)
            }
            return changed
        }
    }

    static func fetchJob(_ db: Database, _ id: Int64) throws -> JobRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]).map(JobRecord.init(row:))
    }

    static func exists(_ db: Database, table: String, id: Int64) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(table) WHERE id = ?)", arguments: [id]) ?? false
    }
}

extension JobRecord {
    init(row: Row) {
        self.init(id: row["id"], experimentID: row["experimentID"], kind: row["kind"], backend: row["backend"],
                  statusText: row["status"], config: row["config"], outputDir: row["outputDir"],
                  externalID: row["externalID"], cursor: row["cursor"], step: row["step"],
                  totalSteps: row["totalSteps"], loss: row["loss"], tokensPerSecond: row["tokensPerSecond"],
                  etaSeconds: row["etaSeconds"], pid: row["pid"], error: row["error"],
                  createdAt: StoreClock.date(milliseconds: row["createdAt"]),
                  updatedAt: StoreClock.date(milliseconds: row["updatedAt"]))
    }
}
