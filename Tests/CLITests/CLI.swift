import Foundation
import XCTest
import Support

/// Runs the `hellotune` binary built next to the test bundle.
enum CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var binary: URL {
        // .build/<config>/hellotunePackageTests.xctest -> .build/<config>/hellotune
        var dir = Bundle(for: Marker.self).bundleURL
        while dir.pathExtension == "xctest" || dir.lastPathComponent == "Contents" { dir.deleteLastPathComponent() }
        return dir.appendingPathComponent("hellotune")
    }

    private final class Marker {}

    @discardableResult
    /// - executable: another program to run instead of hellotune (e.g. a shell that sets a limit, then execs it).
    static func run(_ args: [String], env: [String: String] = [:], stdin: String? = nil, timeout: TimeInterval = 300,
                    currentDirectory: URL? = nil, executable: URL? = nil) throws -> Result {
        let p = Process()
        p.executableURL = executable ?? binary
        p.arguments = args
        if let currentDirectory { p.currentDirectoryURL = currentDirectory }
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let input = Pipe()
        p.standardInput = input
        try p.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let output = ProcessOutput.readToEnd(stdout: out, stderr: err)
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: output.stdout, as: UTF8.self),
                      stderr: String(decoding: output.stderr, as: UTF8.self))
    }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hellotune-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

extension CLI {
    /// What points `hellotune` at a fake OpenAI API: its key and URL, a home of its own, no organisation or project
    /// from the caller's environment, and fast polling of fine-tuning jobs.
    static func openAIEnvironment(key: String, baseURL: URL, home: URL) -> [String: String] {
        ["OPENAI_API_KEY": key, "OPENAI_BASE_URL": baseURL.absoluteString, "OPENAI_ORG_ID": "", "OPENAI_PROJECT_ID": "",
         "HELLOTUNE_HOME": home.path, "HELLOTUNE_OPENAI_POLL_SECONDS": "0.02"]
    }

    /// The real Trelis datasets: $HELLOTUNE_DATASETS, else ../shared/datasets/trelis-hello next to the package, else
    /// /work/shared's (a clone made elsewhere, as CI's may be, has no ../shared).
    static func trelisDataset(_ name: String) -> URL {
        if let dir = ProcessInfo.processInfo.environment["HELLOTUNE_DATASETS"], !dir.isEmpty {
            return URL(fileURLWithPath: dir).appendingPathComponent(name)
        }
        let beside = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/datasets/trelis-hello/\(name)")
        let work = URL(fileURLWithPath: "/work/shared/datasets/trelis-hello/\(name)")
        return FileManager.default.fileExists(atPath: beside.path) || !FileManager.default.fileExists(atPath: work.path) ? beside : work
    }

    /// Every regular file under `folder`, recursively (hidden ones too).
    static func files(under folder: URL) -> [URL] {
        let e = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
        var out: [URL] = []
        while let url = e?.nextObject() as? URL {
            if (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true { out.append(url) }
        }
        return out
    }
}
