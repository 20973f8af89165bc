import Foundation
import XCTest
import Training

/// Checkpoints written before they recorded the model still load: the model path is then nil.
final class CheckpointTests: XCTestCase {
    func testACheckpointWithoutAModelPathLoads() throws {
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
        [Float](arrayLiteral: 1, 2, 0.1, 0.2, 0.01, 0.02).withUnsafeBytes { data.append(contentsOf: $0) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ck-\(UUID().uuidString).bin")
        try data.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }

        let ck = try Checkpoint.read(from: url)
        XCTAssertNil(ck.header.modelPath)
        XCTAssertEqual(ck.header.step, 3)
        XCTAssertEqual(ck.lora, [1, 2])
        XCTAssertEqual(ck.v, [0.01, 0.02])
    }
}
