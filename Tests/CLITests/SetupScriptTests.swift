import Foundation
import XCTest

/// scripts/setup.sh installs what a fresh Debian needs: git (SwiftPM runs it to resolve the dependencies; a clean
/// machine has none) and chromium (the HTML report's browser test).
final class SetupScriptTests: XCTestCase {
    func testSetupInstallsGitAndChromium() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/setup.sh")
        let text = try String(contentsOf: script, encoding: .utf8)
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("packages=(") }, "no packages=(...) line")
        let packages = line.dropFirst("packages=(".count).prefix { $0 != ")" }.split(separator: " ").map(String.init)
        for needed in ["git", "chromium", "libopenblas-dev", "tmux"] {
            XCTAssertTrue(packages.contains(needed), "setup.sh does not install \(needed): \(packages)")
        }
        // Each is checked with dpkg-query and installed with apt-get when missing.
        XCTAssertTrue(text.contains(#"for p in "${packages[@]}""#))
        XCTAssertTrue(text.contains(#"apt-get install -y -qq "${missing[@]}""#))
    }
}
