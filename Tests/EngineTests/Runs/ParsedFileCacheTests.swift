import Foundation
import XCTest
import Experiment
import Store

final class ParsedFileCacheTests: XCTestCase {
    func testParsesAgainOnlyWhenTheFileChanges() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parsed-cache-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("log.jsonl").path
        let cache = ParsedFileCache<String>()
        var parses = 0
        func read() -> String? {
            cache.value(at: path) { data in
                parses += 1
                return String(decoding: data, as: UTF8.self)
            }
        }

        XCTAssertNil(read(), "no file yet")
        XCTAssertEqual(parses, 0)
        try Data("one\n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(read(), "one\n")
        XCTAssertEqual(read(), "one\n")
        XCTAssertEqual(parses, 1, "an unchanged file is not parsed again")

        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data("two\n".utf8))
        try handle.close()
        XCTAssertEqual(read(), "one\ntwo\n", "an appended line shows")
        XCTAssertEqual(parses, 2)

        // Replaced by a file of the same size: only the modification time tells.
        try Data("six\nten\n".utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 60)], ofItemAtPath: path)
        XCTAssertEqual(read(), "six\nten\n")
        XCTAssertEqual(parses, 3)

        try FileManager.default.removeItem(atPath: path)
        XCTAssertNil(read(), "a removed file is forgotten")
    }
}
