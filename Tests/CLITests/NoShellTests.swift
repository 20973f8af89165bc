import Foundation
import XCTest

/// No source spawns a shell, so no user text (a prompt, a path, a model name) can ever be read as a command:
/// processes start from an argument vector (Process with executableURL and arguments).
final class NoShellTests: XCTestCase {
    static var sources: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources")
    }

    static let forbidden = ["/bin/sh", "/bin/bash", "sh -c", "bash -c", "system(", "popen(", "posix_spawnp(", "execvp(", "execlp("]

    func testNoSourceSpawnsAShell() throws {
        let fm = FileManager.default
        let walker = try XCTUnwrap(fm.enumerator(atPath: Self.sources.path))
        var scanned = 0
        var found: [String] = []
        while let relative = walker.nextObject() as? String {
            guard relative.hasSuffix(".swift") || relative.hasSuffix(".c") || relative.hasSuffix(".h") else { continue }
            let text = try String(contentsOf: Self.sources.appendingPathComponent(relative), encoding: .utf8)
            scanned += 1
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                for needle in Self.forbidden where line.contains(needle) { found.append("Sources/\(relative):\(n + 1): \(needle)") }
            }
        }
        XCTAssertGreaterThan(scanned, 100, "the scan did not find the sources")
        XCTAssertEqual(found, [], "shell use found")
    }

    /// Every process hellotune starts runs a fixed program: the model fetch runs pip through /usr/bin/env with an
    /// argument vector, workers are hellotune itself. One exception, by name: `bench … --anchor` runs hellotune
    /// itself or the Python the user named with `--python` (a file, checked to be an executable, never a shell
    /// line), with an argument vector.
    func testProcessesStartFixedPrograms() throws {
        let walker = try XCTUnwrap(FileManager.default.enumerator(atPath: Self.sources.path))
        var programs: [String] = []
        while let relative = walker.nextObject() as? String {
            guard relative.hasSuffix(".swift") else { continue }
            let text = try String(contentsOf: Self.sources.appendingPathComponent(relative), encoding: .utf8)
            for line in text.split(separator: "\n") where line.contains("executableURL =") {
                programs.append("\(relative): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        XCTAssertFalse(programs.isEmpty)
        let allowed = ["URL(fileURLWithPath: \"/usr/bin/env\")",
                       "URL(fileURLWithPath: executable)", "URL(fileURLWithPath: exe)"]
        let named = ["hellotune/Commands/AnchorComparison.swift: p.executableURL = executable"]
        for p in programs where !named.contains(p) {
            XCTAssertTrue(allowed.contains { p.hasSuffix("executableURL = " + $0) }, "unexpected program: \(p)")
        }
        XCTAssertEqual(programs.filter { named.contains($0) }.count, named.count, "the named exceptions still exist")
        let fetcher = try String(contentsOf: Self.sources.appendingPathComponent("Engine/ModelCore/Fetch/ModelFetcher.swift"), encoding: .utf8)
        XCTAssertTrue(fetcher.contains(#"run(["python3", "-m", "pip", "download""#), "pip is not run with an argument vector")
    }
}
