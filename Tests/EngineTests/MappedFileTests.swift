import Foundation
import XCTest
import ModelCore

/// MappedFile.swift: `release` hands a mapping's pages back (the process's file-backed memory falls) while the
/// bytes stay readable, faulted in again from the file; a heap copy keeps its bytes.
final class MappedFileTests: XCTestCase {
    /// This process's resident file-backed memory, in kB (/proc/self/status).
    private func residentFileKB() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("RssFile:") })
        return try XCTUnwrap(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
    }

    private func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 1469598103934665603
        for i in stride(from: 0, to: bytes.count, by: 4096) { h = (h ^ UInt64(bytes[i])) &* 1099511628211 }
        return h
    }

    func testReleasedPagesLeaveTheProcessAndReadBackTheSame() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hellotune-mapped-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        let size = 64 << 20
        try Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) }).write(to: url)
        let file = try MappedFile(path: url.path)
        let before = checksum(file.bytes)  // touches every page
        let resident = try residentFileKB()
        // all but the first and last 100 bytes: the pages those share stay
        file.release(file.bytes.baseAddress! + 100, count: size - 200)
        let released = try residentFileKB()
        XCTAssertGreaterThan(resident - released, 60 << 10, "resident file memory \(resident) kB, then \(released) kB")
        XCTAssertEqual(checksum(file.bytes), before, "the bytes read back from the file")

        let heap = MappedFile(copying: UnsafeRawBufferPointer(start: file.bytes.baseAddress, count: 1 << 20), path: "copy")
        let heapSum = checksum(heap.bytes)
        heap.release(heap.bytes.baseAddress!, count: 1 << 20)
        XCTAssertEqual(checksum(heap.bytes), heapSum, "a heap copy keeps its bytes")
    }
}
