import Foundation
import XCTest
import Training

/// Checkpoints written before they recorded the model (or their checksum) still load; a damaged one does not.
final class CheckpointTests: XCTestCase {
    /// A version-1 checkpoint (no checksum, no model path) of two parameters, as older builds wrote it.
    func versionOneFile(values: [Float] = [1, 2, 0.1, 0.2, 0.01, 0.02]) throws -> URL {
        let options = try JSONSerialization.jsonObject(with: JSONEncoder().encode(TrainingOptions()))
        let header: [String: Any] = [
            "options": options, "step": 3, "adamStep": 3, "datasetDigest": "ab12", "parameterCount": 2,
            "epochLosses": [1.5], "epochTokensPerSecond": [200.0], "epochLossSum": 0.0, "epochLabelled": 0,
            "elapsedSeconds": 1.0,
        ]
        let json = try JSONSerialization.data(withJSONObject: header)
        var data = Data("HTCK".utf8)
        withUnsafeBytes(of: UInt32(1).littleEndian) { data.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        values.withUnsafeBytes { data.append(contentsOf: $0) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ck-\(UUID().uuidString).bin")
        try data.write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// The robustness issue's case: bytes changed in a saved checkpoint resumed into an adapter of NaNs. Every byte
    /// is now covered by the SHA-256 written after it.
    func testAChangedByteAnywhereIsRefused() throws {
        let ck = try Checkpoint.read(from: try versionOneFile())
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ck-\(UUID().uuidString).bin")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        try ck.write(to: url)
        XCTAssertEqual(try Checkpoint.read(from: url), ck, "a version-2 checkpoint reads back as written")
        let good = try Data(contentsOf: url)
        for offset in [20, good.count / 2, good.count - 80, good.count - 1] {
            var bad = good
            bad[offset] ^= 0x01
            try bad.write(to: url)
            XCTAssertThrowsError(try Checkpoint.read(from: url), "byte \(offset)") { error in
                guard case let .corruptCheckpoint(path, reason)? = error as? TrainingError else { return XCTFail("\(error)") }
                XCTAssertEqual(path, url.path)
                XCTAssertTrue(reason.contains("SHA-256") || reason.contains("header"), reason)
            }
        }
    }

    func testNonFiniteValuesInAnOldCheckpointAreRefused() throws {
        let url = try versionOneFile(values: [1, .nan, 0.1, 0.2, 0.01, 0.02])
        XCTAssertThrowsError(try Checkpoint.read(from: url)) { error in
            XCTAssertEqual("\(error)", "checkpoint \(url.path) is unreadable (LoRA parameter 1 is nan). Delete it to start over.")
        }
    }

    func testACheckpointWithoutAModelPathLoads() throws {
        let url = try versionOneFile()
        let ck = try Checkpoint.read(from: url)
        XCTAssertNil(ck.header.modelPath)
        XCTAssertEqual(ck.header.step, 3)
        XCTAssertEqual(ck.lora, [1, 2])
        XCTAssertEqual(ck.v, [0.01, 0.02])
    }
}
