import Foundation

/// Writes a schema version into a closed store's file header, as a newer hellotune would have left it.
public func stampSchemaVersion(_ version: UInt32, at path: String) throws {
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    try handle.seek(toOffset: 60)  // PRAGMA user_version, big-endian, in the SQLite file header
    try handle.write(contentsOf: withUnsafeBytes(of: version.bigEndian) { Data($0) })
    try handle.close()
}
