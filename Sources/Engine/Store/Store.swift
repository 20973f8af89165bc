import Foundation
import GRDB
import Support

/// The job database: experiments, jobs and their events, and generated samples, in one SQLite file that a
/// training worker, an evaluation and the CLI may all write at the same time.
public final class Store: Sendable {
    /// The newest schema this build reads and writes.
    public static let schemaVersion = StoreSchema.version

    /// How long a write waits for another process's write to finish before giving up.
    static let busyTimeout: Double = 5

    public static var defaultPath: String { Paths.home.appendingPathComponent("hellotune.sqlite").path }

    public static func openDefault() throws -> Store { try Store(path: defaultPath) }

    public let path: String
    let pool: DatabasePool

    /// Opens the database at `path`, creating it (and its folder) if needed and bringing its schema up to date.
    /// A file written by a newer hellotune is refused without being modified.
    public init(path: String) throws {
        self.path = path
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try Paths.ensureDirectory(folder)
        } catch {
            throw StoreError.unwritable(path: folder.path, reason: "cannot create the folder")
        }
        let lock = try SetupLock(path: path + "-setup.lock", timeout: 2 * Self.busyTimeout)
        defer { lock.release() }

        let existingVersion: Int
        if FileManager.default.fileExists(atPath: path) {
            existingVersion = try Self.inspect(path)
        } else {
            try PrivateFile.create(path)
            existingVersion = 0
        }
        var config = Configuration()
        config.busyMode = .timeout(Self.busyTimeout)
        config.foreignKeysEnabled = true
        config.label = "hellotune.store"
        pool = try Self.mapErrors(path) { try DatabasePool(path: path, configuration: config) }
        if existingVersion < Self.schemaVersion {
            try Self.mapErrors(path) { try StoreSchema.migrator.migrate(pool) }
        }
    }

    /// Closes the connections now rather than when the last reference goes away, so that the write-ahead log
    /// is folded back into the file.
    public func close() throws {
        try Self.mapErrors(path) { try pool.close() }
    }

    /// SQLite's own consistency check: "ok", or a list of what is damaged.
    public func integrityCheck() throws -> String {
        try read { db in
            try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "\n")
        }
    }

    /// The schema version recorded in the file.
    public func storedSchemaVersion() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0 }
    }

    // MARK: - Opening

    /// Reads an existing file's schema version through a read-only connection, which never writes the file
    /// (a read-write one would switch the journal mode or fold a leftover log into it), and refuses files
    /// that are not ours or are too new. Not by reading the header bytes directly: closing any descriptor of
    /// the database file drops every POSIX lock this process holds on it, those of open Stores included.
    /// The read-only connection may leave empty -wal and -shm files beside a refused file.
    private static func inspect(_ path: String) throws -> Int {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(busyTimeout)
        return try mapErrors(path) {
            let queue = try DatabaseQueue(path: path, configuration: config)
            defer { try? queue.close() }
            return try queue.read { db in
                let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                if version > schemaVersion {
                    throw StoreError.newerSchema(path: path, found: version, supported: schemaVersion)
                }
                if version == 0 {
                    let foreign = try String.fetchAll(db, sql: """
                        SELECT name FROM sqlite_master
                        WHERE name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations'
                        """)
                    if !foreign.isEmpty {
                        throw StoreError.notADatabase(
                            path: path, reason: "it holds other tables (\(foreign.prefix(3).joined(separator: ", "))) "
                                + "and no hellotune schema version")
                    }
                }
                return version
            }
        }
    }

    // MARK: - Access

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try Self.mapErrors(path) { try pool.read(body) }
    }

    /// One IMMEDIATE transaction: it takes the write lock up front, so a concurrent writer waits for the busy
    /// timeout instead of failing when a read inside the transaction turns into a write.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try Self.mapErrors(path) { try pool.write(body) }
    }

    /// Turns GRDB's errors into `StoreError`s that say what to do; callers of the store never see GRDB types.
    static func mapErrors<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError {
            let message = error.message ?? "\(error.resultCode)"
            switch error.resultCode {
            case .SQLITE_NOTADB, .SQLITE_CORRUPT:
                throw StoreError.notADatabase(path: path, reason: "SQLite says: \(message)")
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                throw StoreError.busy(path: path, seconds: busyTimeout)
            case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_FULL, .SQLITE_IOERR:
                throw StoreError.unwritable(path: path, reason: "SQLite says: \(message)")
            default:
                throw StoreError.sqlite(path: path, message: message)
            }
        }
    }
}
