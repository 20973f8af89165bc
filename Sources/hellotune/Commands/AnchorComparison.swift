import ArgumentParser
import Dispatch
import Foundation
import Support
import Experiment

/// One side-by-side comparison: what hellotune runs (its own bench subcommand, with --json) and what the anchor
/// gets, and which of the JSON keys both print are rates to compare (higher is better). Each side runs in a fresh
/// process; the order within a pair alternates, so that with an even number of pairs a steady drift favours neither.
struct AnchorComparison {
    var ownArguments: [String]
    var anchorArguments: [String]
    var anchorEnvironment: [String: String] = [:]
    var rates: [String]
    /// Printed beside the rates for both sides, not compared (e.g. peak_rss_mb, tokens_per_epoch).
    var shown: [String] = []

    /// The child running now, stopped when hellotune is interrupted (it runs in a process group of its own, out of
    /// Ctrl-C's reach, and would go on loading the machine).
    private static let child = ChildRecord()

    func run(_ options: AnchorOptions, json: Bool) throws {
        guard let anchor = options.anchor else { return }
        let python = try options.interpreter()
        let script = URL(fileURLWithPath: anchor).standardizedFileURL.path
        let own = URL(fileURLWithPath: Explore.executablePath())
        let anchorName = URL(fileURLWithPath: script).lastPathComponent
        let pairs = options.pairs

        var handlers: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                Self.child.stop()
                note("\ninterrupted: the measurement running now was stopped")
                Foundation.exit(130)
            }
            source.resume()
            handlers.append(source)
        }
        defer { handlers.forEach { $0.cancel() } }

        var rows: [[String: Any]] = []
        var ratios: [String: [Double]] = Dictionary(uniqueKeysWithValues: rates.map { ($0, []) })
        for pair in 1...pairs {
            let started = ISO8601DateFormatter().string(from: Date())
            let ownFirst = pair % 2 == 1
            var results: [String: [String: Any]] = [:]
            for side in ownFirst ? ["hellotune", "anchor"] : ["anchor", "hellotune"] {
                let who = side == "hellotune" ? "hellotune bench (pair \(pair))" : "anchor \(anchorName) (pair \(pair))"
                let output = side == "hellotune"
                    ? try Self.runChild(own, ownArguments, environment: [:], who: who)
                    : try Self.runChild(python, [script] + anchorArguments, environment: anchorEnvironment, who: who)
                let result = try Self.lastJSONObject(output, who: who, rates: rates)
                results[side] = result
                note("pair \(pair)/\(pairs), \(side): " + rates.map { "\($0) \(Self.figure(result[$0]))" }.joined(separator: ", "))
            }
            var pairRatios: [String: Double] = [:]
            for key in rates {
                let r = Self.number(results["hellotune"]![key])! / Self.number(results["anchor"]![key])!
                guard r > 0, r.isFinite else {
                    throw AnchorRunError(who: "pair \(pair)", problem: "the ratio of \"\(key)\" is \(r), which cannot be summarised")
                }
                ratios[key]!.append(r)
                pairRatios[key] = r
            }
            rows.append(["pair": pair, "first": ownFirst ? "hellotune" : "anchor", "started": started,
                         "hellotune": results["hellotune"]!, "anchor": results["anchor"]!, "ratios": pairRatios])
        }

        if json {
            var summary: [String: Any] = [:]
            for key in rates {
                let p = PairedRatios(ratios[key]!)
                var s: [String: Any] = ["pairs": p.count, "median": p.median, "geometric_mean": p.geometricMean]
                if let i = p.interval95 { s["interval95"] = [i.lowerBound, i.upperBound] }
                if let bar = options.bar {
                    s["bar"] = bar
                    s["reaching_bar"] = p.reaching(bar)
                    s["finding"] = Self.findingName(p.finding(bar: bar))
                }
                summary[key] = s
            }
            printJSON(["anchor": script, "python": python.path, "pairs": rows, "summary": summary])
            return
        }
        for row in rows {
            let mine = row["hellotune"] as! [String: Any], other = row["anchor"] as! [String: Any]
            let pairRatios = row["ratios"] as! [String: Double]
            let cells = rates.map { "\($0) \(Self.figure(mine[$0])) / \(Self.figure(other[$0])) = \(String(format: "%.2fx", pairRatios[$0]!))" }
                + shown.map { "\($0) \(Self.figure(mine[$0])) / \(Self.figure(other[$0]))" }
            say("pair \(row["pair"]!) (\(row["first"]!) first, \(row["started"]!)): " + cells.joined(separator: " · "))
        }
        say("hellotune / \(anchorName), \(pairs) pair\(pairs == 1 ? "" : "s"):")
        for key in rates { say("  " + Self.summaryLine(key, PairedRatios(ratios[key]!), bar: options.bar)) }
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
            case .notShown: parts.append("bar \(b): not shown (the interval contains it, or there is one pair)")
            }
        }
        return parts.joined(separator: " · ")
    }

    static func findingName(_ f: PairedRatios.Finding) -> String {
        switch f { case .met: "met"; case .missed: "missed"; case .notShown: "not shown" }
    }

    /// Runs a child to its end; its stdout, or an error with its exit status and the end of its stderr.
    static func runChild(_ executable: URL, _ arguments: [String], environment: [String: String], who: String) throws -> String {
        let p = Process()
        defer { child.set(nil) }
        p.executableURL = executable
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        do { try p.run() } catch { throw AnchorRunError(who: who, problem: "could not start \(executable.path): \(error)") }
        child.set(p.processIdentifier)
        let (stdout, stderr) = ProcessOutput.readToEnd(stdout: out, stderr: err)
        p.waitUntilExit()
        guard p.terminationReason == .exit, p.terminationStatus == 0 else {
            let how = p.terminationReason == .exit ? "exit status \(p.terminationStatus)" : "signal \(p.terminationStatus)"
            let tail = String(decoding: stderr, as: UTF8.self).split(separator: "\n").suffix(3).joined(separator: " | ")
            throw AnchorRunError(who: who, problem: "\(how)\(tail.isEmpty ? "" : "; its stderr ended: \(tail)")")
        }
        return String(decoding: stdout, as: UTF8.self)
    }

    /// The JSON object on the last non-blank line of `output`, with a positive number under every rate key.
    static func lastJSONObject(_ output: String, who: String, rates: [String]) throws -> [String: Any] {
        guard let last = output.split(whereSeparator: \.isNewline).last(where: { !$0.allSatisfy(\.isWhitespace) }) else {
            throw AnchorRunError(who: who, problem: "printed nothing on stdout")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(last.utf8))) as? [String: Any] else {
            throw AnchorRunError(who: who, problem: "the last line of its stdout is not a JSON object: \(last.prefix(200))")
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
        guard let v, let n = v as? NSNumber, !JSONBoolean.isBoolean(v) else { return nil }
        return n.doubleValue
    }

    static func figure(_ v: Any?) -> String {
        guard let d = number(v) else { return "–" }
        return String(format: "%.1f", d)
    }
}

/// A bench child (hellotune's own measurement or the anchor's) failed or printed no usable result.
struct AnchorRunError: Error, CustomStringConvertible {
    var who: String
    var problem: String
    var description: String { "\(who): \(problem)" }
}
