import Foundation
import XCTest
import Support
import ModelCore

/// docs/bad-inputs.md cannot rot: every row names tests that exist, and every row with a command is run here,
/// in docs/bad-inputs/ with an empty $HELLOTUNE_HOME, and must exit non-zero showing its message.
final class BadInputCatalogueTests: XCTestCase {
    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    struct Row {
        var number: Int
        var area: String
        var input: String
        /// Environment assignments and the arguments after `hellotune`; nil when the row has no command.
        var command: (env: [String: String], args: [String])?
        var message: String
        var tests: [String]
    }

    /// The areas the catalogue must cover.
    static let areas = ["model file", "dataset", "experiment file", "theme", "CLI argument", "HTTP response", "store", "checkpoint",
                        "adapter"]

    static func rows() throws -> [Row] {
        let text = try String(contentsOf: root.appendingPathComponent("docs/bad-inputs.md"), encoding: .utf8)
        var rows: [Row] = []
        for line in text.split(separator: "\n") where line.hasPrefix("| ") {
            let cells = splitCells(String(line))
            guard cells.count == 6, let number = Int(cells[0]) else { continue }
            let command = cells[3] == "—" ? nil : try parseCommand(codeSpan(cells[3]))
            let tests = cells[5].split(separator: ",").map { codeSpan($0.trimmingCharacters(in: .whitespaces)) }
            rows.append(Row(number: number, area: cells[1], input: cells[2], command: command,
                            message: codeSpan(cells[4]), tests: tests))
        }
        return rows
    }

    /// Cells of a Markdown table row; `\|` is a literal bar.
    static func splitCells(_ line: String) -> [String] {
        var cells: [String] = [], current = ""
        var chars = Array(line.dropFirst().dropLast(line.hasSuffix("|") ? 1 : 0))[...]
        while let c = chars.popFirst() {
            if c == "\\", chars.first == "|" { current.append("|"); chars.removeFirst() }
            else if c == "|" { cells.append(current.trimmingCharacters(in: .whitespaces)); current = "" }
            else { current.append(c) }
        }
        cells.append(current.trimmingCharacters(in: .whitespaces))
        return cells
    }

    /// The text of a `code` or ``code`` span.
    static func codeSpan(_ cell: String) -> String {
        if cell.hasPrefix("`` "), cell.hasSuffix(" ``") { return String(cell.dropFirst(3).dropLast(3)) }
        if cell.hasPrefix("`"), cell.hasSuffix("`"), cell.count >= 2 { return String(cell.dropFirst().dropLast()) }
        return cell
    }

    struct BadCommand: Error, CustomStringConvertible {
        var command: String
        var description: String { "not a hellotune command: \(command)" }
    }

    /// `[VAR=value ...] hellotune ARGS`, words split at spaces, "double quotes" keeping spaces.
    static func parseCommand(_ command: String) throws -> (env: [String: String], args: [String]) {
        var words: [String] = [], current = "", quoted = false, started = false
        for c in command {
            if c == "\"" { quoted.toggle(); started = true }
            else if c == " ", !quoted { if started { words.append(current) }; current = ""; started = false }
            else { current.append(c); started = true }
        }
        if started { words.append(current) }
        var env: [String: String] = [:]
        while let first = words.first, let eq = first.firstIndex(of: "="), first != "hellotune" {
            env[String(first[..<eq])] = String(first[first.index(after: eq)...])
            words.removeFirst()
        }
        guard words.first == "hellotune" else { throw BadCommand(command: command) }
        return (env, Array(words.dropFirst()))
    }

    func testCatalogueIsCompleteAndNumbered() throws {
        let rows = try Self.rows()
        XCTAssertGreaterThanOrEqual(rows.count, 250)
        XCTAssertEqual(rows.map(\.number), Array(1...rows.count), "rows are numbered 1, 2, 3...")
        for area in Self.areas { XCTAssertTrue(rows.contains { $0.area == area }, "no row for \(area)") }
        for row in rows {
            XCTAssertTrue(Self.areas.contains(row.area), "row \(row.number): unknown area \(row.area)")
            XCTAssertFalse(row.message.isEmpty, "row \(row.number) has no message")
            XCTAssertFalse(row.tests.isEmpty, "row \(row.number) names no test")
        }
    }

    /// `Class.testName`: a file under Tests/ declares the class and, in the same file, the test.
    func testEveryNamedTestExists() throws {
        var files: [String: String] = [:]
        let tests = Self.root.appendingPathComponent("Tests")
        let walker = try XCTUnwrap(FileManager.default.enumerator(atPath: tests.path))
        while let relative = walker.nextObject() as? String {
            guard relative.hasSuffix(".swift") else { continue }
            files[relative] = try String(contentsOf: tests.appendingPathComponent(relative), encoding: .utf8)
        }
        for row in try Self.rows() {
            for name in row.tests {
                let parts = name.split(separator: ".")
                guard parts.count == 2 else { XCTFail("row \(row.number): '\(name)' is not Class.testName"); continue }
                let found = files.values.contains {
                    $0.contains("class \(parts[0]): XCTestCase") && $0.contains("func \(parts[1])()")
                }
                XCTAssertTrue(found, "row \(row.number): no test \(name) under Tests/")
            }
        }
    }

    /// Each row with a command, as a user would type it in docs/bad-inputs/: a non-zero exit and the message.
    func testCommandsShowTheirMessages() throws {
        let model = ProcessInfo.processInfo.environment["HELLOTUNE_MODEL"] ?? Paths.defaultModel.path
        let folder = Self.root.appendingPathComponent("docs/bad-inputs")
        var ran = 0
        for row in try Self.rows() {
            guard let command = row.command else { continue }
            let home = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: home) }
            var env = ["HELLOTUNE_HOME": home.path, "OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""]
            env.merge(command.env) { $1 }
            let args = command.args.map { $0.replacingOccurrences(of: "$MODEL", with: model) }
            let r = try CLI.run(args, env: env, timeout: 120, currentDirectory: folder)
            ran += 1
            XCTAssertNotEqual(r.status, 0, "row \(row.number) (\(args.joined(separator: " "))) succeeded")
            XCTAssertTrue(r.stderr.contains(row.message),
                          "row \(row.number) (\(args.joined(separator: " "))):\nexpected: \(row.message)\ngot:      \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: home.appendingPathComponent("runs").path),
                           "row \(row.number) left a run folder")
        }
        XCTAssertGreaterThanOrEqual(ran, 25)
    }
}
