import GRDB

/// The tables, as an ordered list of migrations. Each migration also stamps `PRAGMA user_version`, inside
/// its own transaction, so that an older hellotune can refuse a newer file before touching it.
enum StoreSchema {
    /// Bump with every migration added below.
    static let version = 2

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE experiments (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL,
                    config TEXT NOT NULL,
                    status TEXT NOT NULL,
                    createdAt INTEGER NOT NULL,
                    updatedAt INTEGER NOT NULL
                );
                CREATE TABLE jobs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    experimentID INTEGER REFERENCES experiments(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    backend TEXT NOT NULL,
                    status TEXT NOT NULL,
                    config TEXT NOT NULL,
                    outputDir TEXT,
                    externalID TEXT,
                    cursor TEXT,
                    step INTEGER,
                    totalSteps INTEGER,
                    loss REAL,
                    tokensPerSecond REAL,
                    etaSeconds REAL,
                    pid INTEGER,
                    error TEXT,
                    createdAt INTEGER NOT NULL,
                    updatedAt INTEGER NOT NULL
                );
                CREATE INDEX jobs_experiment ON jobs(experimentID);
                CREATE INDEX jobs_status ON jobs(status);
                CREATE TABLE events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    jobID INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    externalID TEXT,
                    createdAt INTEGER NOT NULL
                );
                -- NULLs are distinct in a UNIQUE index: only events with a source id are deduplicated.
                CREATE UNIQUE INDEX events_external ON events(jobID, externalID);
                CREATE TABLE samples (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    experimentID INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
                    condition TEXT NOT NULL,
                    model TEXT NOT NULL,
                    promptID TEXT NOT NULL,
                    sampleIndex INTEGER NOT NULL,
                    prompt TEXT NOT NULL,
                    reply TEXT NOT NULL,
                    score TEXT,
                    createdAt INTEGER NOT NULL,
                    UNIQUE (experimentID, condition, model, promptID, sampleIndex)
                );
                PRAGMA user_version = 1;
                """)
        }
        // Human codes of self-reports: one per sample, the latest wins. Keyed by run and sample, so that a label
        // survives a rerun of the report; who and when are kept because coding by hand is a judgement.
        migrator.registerMigration("v2-labels") { db in
            try db.execute(sql: """
                CREATE TABLE labels (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    experimentID INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
                    sampleID INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
                    category TEXT NOT NULL,
                    labeller TEXT NOT NULL,
                    createdAt INTEGER NOT NULL,
                    UNIQUE (experimentID, sampleID)
                );
                PRAGMA user_version = 2;
                """)
        }
        return migrator
    }
}
