import ArgumentParser
import Foundation

/// `--anchor SCRIPT` and its flags, shared by `bench generate` and `bench train`: measure hellotune and an anchor
/// script (../shared/anchors) in turn, pair after pair (`AnchorComparison`).
struct AnchorOptions: ParsableArguments {
    @Option(help: "Anchor script to measure against, pair after pair (e.g. ../shared/anchors/llama_cpp_bench.py).")
    var anchor: String?

    @Option(help: "Python that runs the anchor (the one its packages are installed in); a path, or a name looked up on PATH.")
    var python: String = "python3"

    @Option(help: "Pairs of measurements with --anchor, hellotune first in odd pairs and the anchor first in even ones.")
    var pairs: Int = 4

    @Option(help: "Ratio to judge the pairs against with --anchor, e.g. 1.0 (default: none).")
    var bar: Double?

    func validate() throws {
        guard pairs >= 1, pairs <= 100 else { throw ValidationError("--pairs must be between 1 and 100, not \(pairs)") }
        if let bar, !(bar > 0 && bar.isFinite) { throw ValidationError("--bar must be a ratio above 0, not \(bar)") }
        if anchor == nil, pairs != 4 || bar != nil || python != "python3" {
            throw ValidationError("--pairs, --bar and --python compare with an anchor: add --anchor SCRIPT")
        }
        if let anchor {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: anchor, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw ValidationError("--anchor: no script at \(anchor)")
            }
            _ = try interpreter()
        }
    }

    /// The interpreter as a path: `--python` as given if it names a file, else found on PATH.
    func interpreter() throws -> URL {
        func isProgram(_ path: String) -> Bool {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
                && FileManager.default.isExecutableFile(atPath: path)
        }
        if python.contains("/") {
            guard isProgram(python) else {
                throw ValidationError("--python: \(python) is not an executable file")
            }
            return URL(fileURLWithPath: python)
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") where isProgram("\(dir)/\(python)") {
            return URL(fileURLWithPath: "\(dir)/\(python)")
        }
        throw ValidationError("--python: \(python) is not on PATH; name the Python the anchor's packages are installed in")
    }
}

extension ModelOptions {
    /// The model file both sides of an anchor comparison open, and the flags hellotune's own side gets with it. An
    /// adapter is refused: the anchors run the base model.
    func forAnchor() throws -> (path: String, flags: [String]) {
        guard adapter == nil else { throw ValidationError("--adapter: the anchor runs the base model, so compare without it") }
        let path = try path()
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("--model: no model at \(path) (run `hellotune model fetch`)")
        }
        return (path, (template.map { ["--template", $0] } ?? []) + (context.map { ["--context", String($0)] } ?? []))
    }
}
