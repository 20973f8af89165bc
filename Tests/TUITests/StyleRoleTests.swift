import TUI
import XCTest
import Experiment
import Store

final class StyleRoleTests: XCTestCase {
    /// Theme files name roles by these strings; a renamed role would silently lose its colour.
    func testRoleNamesAreTheThemeKeys() {
        XCTAssertEqual(StyleRole.allCases.map(\.rawValue),
                       ["normal", "dim", "accent", "border", "title", "selection", "match", "mismatch", "warning", "error", "chart"])
    }
}
