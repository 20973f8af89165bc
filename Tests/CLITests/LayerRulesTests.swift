import Foundation
import XCTest

/// The layers of README's "How the engine is built", read from the sources: every file imports only what its
/// target may. SwiftPM already refuses an undeclared dependency; this also catches a rule broken in Package.swift
/// itself, and says which file and which import.
final class LayerRulesTests: XCTestCase {
    static let system: Set<String> = ["Foundation", "FoundationNetworking", "Glibc", "Darwin", "Dispatch", "XCTest"]

    /// Our modules each engine target may import (besides the system ones).
    static let allowed: [String: Set<String>] = [
        "Support": ["CSpawn"],
        "ModelCore": ["Support", "CKernels", "CBLAS"],
        "Training": ["ModelCore", "Support", "CKernels"],
        "Store": ["Support", "GRDB"],
        "Backends": ["Training", "ModelCore", "Store", "Support"],
        "Experiment": ["Backends", "Training", "ModelCore", "Store", "Support"],
    ]

    static func imports(under folder: String) throws -> [(file: String, module: String)] {
        let root = NoShellTests.sources.appendingPathComponent(folder)
        let walker = try XCTUnwrap(FileManager.default.enumerator(atPath: root.path))
        var out: [(String, String)] = []
        while let relative = walker.nextObject() as? String {
            guard relative.hasSuffix(".swift") else { continue }
            let text = try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
            for line in text.split(separator: "\n") where line.hasPrefix("import ") || line.hasPrefix("@") {
                let words = line.split(separator: " ")
                guard let i = words.firstIndex(of: "import"), i + 1 < words.count,
                      words[..<i].allSatisfy({ $0.hasPrefix("@") }) else { continue }
                out.append(("\(folder)/\(relative)", String(words[i + 1])))
            }
        }
        return out
    }

    func testEngineTargetsImportOnlyTheLayersBelowThem() throws {
        var scanned = 0
        for (target, modules) in Self.allowed {
            let found = try Self.imports(under: "Engine/\(target)")
            XCTAssertFalse(found.isEmpty, "no sources under Engine/\(target)")
            for (file, module) in found where !Self.system.contains(module) {
                scanned += 1
                XCTAssertTrue(modules.contains(module), "\(file) imports \(module), which \(target) may not")
            }
        }
        XCTAssertGreaterThan(scanned, 50)
    }

    func testEveryEngineFolderIsATarget() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: NoShellTests.sources.appendingPathComponent("Engine").path)
        XCTAssertEqual(Set(folders.filter { !$0.hasPrefix(".") }), Set(Self.allowed.keys))
    }

    func testOnlyTheTerminalDriverTouchesCurses() throws {
        let curses = try Self.imports(under: "TUI").filter { $0.module == "CNCurses" }.map(\.file)
        XCTAssertEqual(curses, ["TUI/Terminal.swift"])
        for target in Self.allowed.keys {
            XCTAssertFalse(try Self.imports(under: "Engine/\(target)").contains { $0.module == "CNCurses" || $0.module == "TUI" })
        }
    }

    /// Launching runs, following workers and reading the store are engine services (Experiment/Runs); the TUI only
    /// asks them.
    func testTheTUISpawnsNoProcessAndOpensNoStore() throws {
        let root = NoShellTests.sources.appendingPathComponent("TUI")
        let walker = try XCTUnwrap(FileManager.default.enumerator(atPath: root.path))
        let forbidden = ["Process()", "SessionProcess", "DetachedProcess.start", "posix_spawn", "fork(", "execv",
                         "Store(path", "Store.open", "import GRDB", "DatabaseQueue", "DatabasePool", "sqlite3_"]
        var found: [String] = []
        while let relative = walker.nextObject() as? String {
            guard relative.hasSuffix(".swift") else { continue }
            let text = try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                for needle in forbidden where line.contains(needle) { found.append("TUI/\(relative):\(n + 1): \(needle)") }
            }
        }
        XCTAssertEqual(found, [])
    }

    /// One encode-then-generate path: outside the model core, only the local backend turns messages into tokens and
    /// decodes them, so every probe, screen and the dataset builder reach the model through the chat seam. (`bench`
    /// calls the forward pass itself, since it measures the engine.)
    func testOnlyTheLocalBackendDrivesTheGenerator() throws {
        let root = NoShellTests.sources
        let walker = try XCTUnwrap(FileManager.default.enumerator(atPath: root.path))
        let pattern = #"(^|[^A-Za-z])Generator\(|\.generateBatch\(|\.generate\(prompt"#
        var found: [String] = []
        while let relative = walker.nextObject() as? String {
            guard relative.hasSuffix(".swift"), !relative.hasPrefix("Engine/ModelCore/") else { continue }
            let text = try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
            if text.range(of: pattern, options: .regularExpression) != nil { found.append(relative) }
        }
        XCTAssertEqual(found.filter { !$0.hasPrefix("Engine/Backends/Local/") }, [])
        XCTAssertFalse(found.isEmpty, "the local backend drives the generator")
    }
}
