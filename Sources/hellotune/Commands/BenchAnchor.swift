import ArgumentParser
import Foundation
import Support
import ModelCore

/// `--anchor SCRIPT`: measure hellotune and an anchor script (../shared/anchors) in turn, pair after pair, and
/// summarise the ratios. One pair says little on a machine whose speed drifts by ±15% from minute to minute, and
/// the order of the two within a pair alternates so that a steady drift favours neither.
struct AnchorOptions: ParsableArguments {
    @Option(help: "Anchor script to measure against, pair after pair (e.g. ../shared/anchors/llama_cpp_bench.py).")
    var anchor: String?

    @Option(help: "Python that runs the anchor (the one its packages are installed in).")
    var python: String = "python3"

    @Option(help: "Pairs of measurements (hellotune and the anchor, in turn) with --anchor.")
    var pairs: Int = 3

    @Option(help: "Ratio to judge the pairs against with --anchor, e.g. 1.0 (default: none).")
    var bar: Double?

    func validate() throws {
        guard pairs >= 1, pairs <= 100 else { throw ValidationError("--pairs must be between 1 and 100, not \(pairs)") }
        if let bar, !(bar > 0 && bar.isFinite) { throw ValidationError("--bar must be a ratio above 0, not \(bar)") }
        if anchor == nil, pairs != 3 || bar != nil || python != "python3" {
            throw ValidationError("--pairs, --bar and --python compare with an anchor: add --anchor SCRIPT")
        }
        if let anchor {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: anchor, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw ValidationError("--anchor: no script at \(anchor)")
            }
        }
    }

    /// The interpreter as a path: `--python` as given if it names a file, else found on PATH.
    func interpreter() throws -> URL {
        if python.contains("/") {
            guard FileManager.default.isExecutableFile(atPath: python) else {
                throw ValidationError("--python: \(python) is not an executable file")
            }
            return URL(fileURLWithPath: python)
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(python)") {
            return URL(fileURLWithPath: "\(dir)/\(python)")
        }
        throw ValidationError("--python: \(python) is not on PATH; name the Python the anchor's packages are installed in")
    }
}

/// One side-by-side comparison: what hellotune runs (its own bench subcommand, with --json) and what the anchor
/// gets, and which of the JSON keys both print are rates to compare (higher is better).
struct AnchorComparison {
    var ownArguments: [String]
    var anchorArguments: [String]
    var anchorEnvironment: [String: String] = [:]
    var rates: [String]
    /// Printed beside the rates for both sides, not compared (e.g. peak_rss_mb, tokens_per_epoch).
    var shown: [String] = []
}

/// A bench child (hellotune's own measurement or the anchor's) failed or printed no usable result.
struct AnchorRunError: Error, CustomStringConvertible {
    var who: String
    var problem: String
    var description: String { "\(who): \(problem)" }
}

extension AnchorOptions {
    func compare(_ c: AnchorComparison, json: Bool) throws {
        guard let anchor else { return }
        let python = try interpreter()
        let script = URL(fileURLWithPath: anchor).standardizedFileURL.path
        let own = URL(fileURLWithPath: Explore.executablePath())
        let anchorName = URL(fileURLWithPath: script).lastPathComponent

        var rows: [[String: Any]] = []
        var ratios: [String: [Double]] = Dictionary(uniqueKeysWithValues: c.rates.map { ($0, []) })
        for pair in 1...pairs {
            let started = ISO8601DateFormatter().string(from: Date())
            // Odd pairs run hellotune first, even pairs the anchor first.
            let ownFirst = pair % 2 == 1
            var results: [String: [String: Any]] = [:]
            for side in ownFirst ? ["hellotune", "anchor"] : ["anchor", "hellotune"] {
                let who = side == "hellotune" ? "hellotune bench (pair \(pair))" : "anchor \(anchorName) (pair \(pair))"
                let output = side == "hellotune"
                    ? try Self.run(own, c.ownArguments, environment: [:], who: who)
                    : try Self.run(python, [script] + c.anchorArguments, environment: c.anchorEnvironment, who: who)
                let result = try Self.lastJSONObject(output, who: who, rates: c.rates)
                results[side] = result
                note("pair \(pair)/\(pairs), \(side): " + c.rates.map { "\($0) \(Self.figure(result[$0]))" }.joined(separator: ", "))
            }
            var row: [String: Any] = ["pair": pair, "first": ownFirst ? "hellotune" : "anchor", "started": started,
                                      "hellotune": results["hellotune"]!, "anchor": results["anchor"]!]
            var pairRatios: [String: Double] = [:]
            for key in c.rates {
                let r = Self.number(results["hellotune"]![key])! / Self.number(results["anchor"]![key])!
                ratios[key]!.append(r)
                pairRatios[key] = r
            }
            row["ratios"] = pairRatios
            rows.append(row)
        }

        var summary: [String: Any] = [:]
        for key in c.rates {
            let p = PairedRatios(ratios[key]!)
            var s: [String: Any] = ["pairs": p.count, "median": p.median, "geometric_mean": p.geometricMean]
            if let i = p.interval95 { s["interval95"] = [i.lowerBound, i.upperBound] }
            if let bar {
                s["bar"] = bar
                s["reaching_bar"] = p.reaching(bar)
                s["finding"] = Self.findingName(p.finding(bar: bar))
            }
            summary[key] = s
        }
        let document: [String: Any] = ["anchor": script, "python": python.path, "pairs": rows, "summary": summary]
        if json { printJSON(document); return }

        for row in rows {
            let own = row["hellotune"] as! [String: Any], other = row["anchor"] as! [String: Any]
            let cells = c.rates.map { key in
                "\(key) \(Self.figure(own[key])) / \(Self.figure(other[key])) = \(String(format: "%.2fx", (row["ratios"] as! [String: Double])[key]!))"
            } + c.shown.map { "\($0) \(Self.figure(own[$0])) / \(Self.figure(other[$0]))" }
            say("pair \(row["pair"]!) (\(row["first"]!) first, \(row["started"]!)): " + cells.joined(separator: " · "))
        }
        say("hellotune / \(anchorName), \(pairs) pair\(pairs == 1 ? "" : "s"):")
        for key in c.rates { say("  " + Self.summaryLine(key, PairedRatios(ratios[key]!), bar: bar)) }
    }

    static func summaryLine(_ key: String, _ p: PairedRatios, bar: Double?) -> String {
        var parts = [key, "median \(String(format: "%.2fx", p.median))",
                     "geometric mean \(String(format: "%.2fx", p.geometricMean))"]
        if let i = p.interval95 {
            parts.append("95% interval \(String(format: "%.2fx–%.2fx", i.lowerBound, i.upperBound))")
        } else {
            parts.append("no interval from one pair")
        }
        if let bar {
            let b = String(format: "%.2fx", bar)
            parts.append("at or above \(b) in \(p.reaching(bar)) of \(p.count)")
            switch p.finding(bar: bar) {
            case .met: parts.append("bar \(b): met (the whole interval is at or above it)")
            case .missed: parts.append("bar \(b): missed (the whole interval is below it)")
            case .notShown: parts.append("bar \(b): not shown either way (the interval contains it, or one pair)")
            }
        }
        return parts.joined(separator: " · ")
    }

    static func findingName(_ f: PairedRatios.Finding) -> String {
        switch f { case .met: "met"; case .missed: "missed"; case .notShown: "not shown" }
    }

    /// Runs a child to its end; its stdout, or an error with its exit status and the end of its stderr.
    static func run(_ executable: URL, _ arguments: [String], environment: [String: String], who: String) throws -> String {
        let p = Process()
        p.executableURL = executable
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        do { try p.run() } catch { throw AnchorRunError(who: who, problem: "could not start \(executable.path): \(error)") }
        let (stdout, stderr) = ProcessOutput.readToEnd(stdout: out, stderr: err)
        p.waitUntilExit()
        guard p.terminationReason == .exit, p.terminationStatus == 0 else {
            let how = p.terminationReason == .exit ? "exit status \(p.terminationStatus)" : "signal \(p.terminationStatus)"
            let tail = String(decoding: stderr, as: UTF8.self).split(separator: "\n").suffix(3).joined(separator: " | ")
            throw AnchorRunError(who: who, problem: "\(how)\(tail.isEmpty ? "" : "; its stderr ended: \(tail)")")
        }
        return String(decoding: stdout, as: UTF8.self)
    }

    /// The JSON object on the last non-empty line of `output`, with a positive number under every rate key.
    static func lastJSONObject(_ output: String, who: String, rates: [String]) throws -> [String: Any] {
        let lines = output.split(whereSeparator: \.isNewline).filter { !$0.allSatisfy(\.isWhitespace) }
        guard let last = lines.last else { throw AnchorRunError(who: who, problem: "printed nothing on stdout") }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(last.utf8))) as? [String: Any] else {
            throw AnchorRunError(who: who, problem: "line \(lines.count) of its stdout is not a JSON object: \(last.prefix(200))")
        }
        for key in rates {
            guard let v = number(object[key]) else {
                throw AnchorRunError(who: who, problem: "its JSON has no number under \"\(key)\": \(last.prefix(200))")
            }
            guard v > 0, v.isFinite else {
                throw AnchorRunError(who: who, problem: "\"\(key)\" is \(v); a rate must be above 0")
            }
        }
        return object
    }

    static func number(_ v: Any?) -> Double? {
        // JSON's true arrives as an NSNumber too, of its own class; a rate must be a number.
        guard let n = v as? NSNumber, !String(describing: type(of: n)).contains("Boolean") else { return nil }
        return n.doubleValue
    }

    static func figure(_ v: Any?) -> String {
        guard let d = number(v) else { return "–" }
        return String(format: "%.1f", d)
    }
}
