import Foundation
import XCTest

extension XCTestCase {
    /// A fresh folder for this test alone (its HELLOTUNE_HOME), removed when the test ends.
    func temporaryHome() throws -> URL {
        let home = try CLI.temporaryDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: home) }
        return home
    }
}
