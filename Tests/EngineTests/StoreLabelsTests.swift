import Foundation
import XCTest
import Store

/// The labels table: its migration from a schema-1 file, and labels stored, replaced, listed and removed.
final class StoreLabelsTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("hellotune-labels-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// A file written before labels (scripts/fixtures/make_store_v1.py) is brought to schema 2 when opened, keeping its
    /// experiment and sample, and its sample can then be labelled.
    func testSchemaOneFileMigratesAndKeepsItsRows() throws {
        let fixture = try XCTUnwrap(Bundle.module.url(forResource: "store-v1", withExtension: "sqlite", subdirectory: "Fixtures"))
        let path = folder.appendingPathComponent("hellotune.sqlite").path
        try FileManager.default.copyItem(atPath: fixture.path, toPath: path)
        let store = try Store(path: path)
        defer { try? store.close() }
        XCTAssertEqual(Store.schemaVersion, 2)
        XCTAssertEqual(try store.storedSchemaVersion(), 2)
        XCTAssertEqual(try store.experiment(1)?.name, "old")
        let samples = try store.samples(experimentID: 1)
        XCTAssertEqual(samples.map(\.reply), ["I keep it concise."])
        XCTAssertEqual(try store.labels(experimentID: 1), [])
        try store.setLabel(LabelRecord(experimentID: 1, sampleID: 1, category: "wrongRule", labeller: "ana",
                                       createdAt: Date(timeIntervalSince1970: 1_800_000_000)))
        XCTAssertEqual(try store.labels(experimentID: 1).map(\.category), ["wrongRule"])
        XCTAssertEqual(try store.integrityCheck(), "ok")
    }

    func testLabelRoundTripReplaceAndRemove() throws {
        let store = try Store(path: folder.appendingPathComponent("s.sqlite").path)
        defer { try? store.close() }
        let e = try store.createExperiment(name: "x", config: "{}")
        let other = try store.createExperiment(name: "y", config: "{}")
        for i in 0..<2 {
            try store.insertSample(SampleRecord(key: SampleKey(experimentID: e.id, condition: "AKEWO-s1/self-report-plain",
                                                               model: "tuned", promptID: "p", sampleIndex: i),
                                                prompt: "Q", reply: "R\(i)"))
        }
        let ids = try store.samples(experimentID: e.id).compactMap(\.id)
        let when = Date(timeIntervalSince1970: 1_800_000_000.5)
        try store.setLabel(LabelRecord(experimentID: e.id, sampleID: ids[1], category: "noRule", labeller: "ana", createdAt: when))
        XCTAssertEqual(try store.labels(experimentID: e.id),
                       [LabelRecord(experimentID: e.id, sampleID: ids[1], category: "noRule", labeller: "ana", createdAt: when)])
        // A second label of the same sample replaces the first, with its own author and time.
        let later = when.addingTimeInterval(60)
        try store.setLabel(LabelRecord(experimentID: e.id, sampleID: ids[1], category: "wrongRule", labeller: "ben", createdAt: later))
        XCTAssertEqual(try store.labels(experimentID: e.id),
                       [LabelRecord(experimentID: e.id, sampleID: ids[1], category: "wrongRule", labeller: "ben", createdAt: later)])
        XCTAssertEqual(try store.labels(experimentID: other.id), [])

        XCTAssertThrowsError(try store.setLabel(LabelRecord(experimentID: other.id, sampleID: ids[0], category: "noRule", labeller: "a"))) {
            XCTAssertEqual($0 as? StoreError, .sampleNotInExperiment(sample: ids[0], experiment: other.id))
        }
        XCTAssertThrowsError(try store.setLabel(LabelRecord(experimentID: e.id, sampleID: 999, category: "noRule", labeller: "a"))) {
            XCTAssertEqual($0 as? StoreError, .noSuchSample(999))
        }
        XCTAssertTrue(try store.removeLabel(experimentID: e.id, sampleID: ids[1]))
        XCTAssertFalse(try store.removeLabel(experimentID: e.id, sampleID: ids[1]))
        XCTAssertEqual(try store.labels(experimentID: e.id), [])
    }
}
