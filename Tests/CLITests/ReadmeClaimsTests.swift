import Foundation
import XCTest

/// Claims in the README that were checked and found wrong, so that they do not come back.
final class ReadmeClaimsTests: XCTestCase {
    static let readme = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()  // the package
        .appendingPathComponent("README.md")

    /// "NEST reached 96% with an 8B model and 1,400 examples" came from a third-party model card for another task
    /// (the letter mapping given in the context), so it is no result of NEST's and not comparable with ours.
    func testNoThirdPartyAccuracyAttributedToNEST() throws {
        let text = try String(contentsOf: Self.readme, encoding: .utf8)
        for sentence in text.components(separatedBy: CharacterSet(charactersIn: ".\n")) where sentence.contains("NEST") {
            XCTAssertFalse(sentence.contains("96%") || sentence.contains("1,400"), sentence)
        }
        XCTAssertFalse(text.contains("96% with an 8B model"))
    }
}
