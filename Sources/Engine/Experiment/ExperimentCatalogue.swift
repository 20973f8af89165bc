import Foundation

/// An experiment file Setup can start: its name (the file's `name`), where it is, and what it holds.
public struct ExperimentFileChoice: Codable, Sendable, Equatable {
    public var name: String
    public var path: String
    public var config: ExperimentConfig

    public init(name: String, path: String, config: ExperimentConfig) {
        self.name = name
        self.path = path
        self.config = config
    }
}

/// The experiment files a user has: those shipped with hellotune (experiments/*.toml) and their own
/// ($HELLOTUNE_HOME/experiments/*.toml).
public enum ExperimentCatalogue {
    /// The shipped experiments/ folder: beside the working directory (a checkout), or two levels above the binary
    /// (.build/release/hellotune in a checkout); nil when neither has one.
    public static func shippedFolder(executable: String, workingDirectory: URL) -> URL? {
        let exe = URL(fileURLWithPath: executable).resolvingSymlinksInPath()
        let candidates = [workingDirectory.appendingPathComponent("experiments"),
                          exe.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                              .appendingPathComponent("experiments")]
        return candidates.first { url in
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) && isDir.boolValue
        }
    }

    /// Every readable *.toml in the folders, sorted by name; a later folder's file replaces an earlier one of the same
    /// name (the user's copy over the shipped one). A file that does not parse is left out and named in `problems`.
    public static func files(in folders: [URL]) -> (choices: [ExperimentFileChoice], problems: [String]) {
        var byName: [String: ExperimentFileChoice] = [:]
        var problems: [String] = []
        for folder in folders {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".toml") }
            for file in names.sorted() {
                let path = folder.appendingPathComponent(file).path
                do {
                    let config = try ExperimentFile.load(path: path)
                    byName[config.name] = ExperimentFileChoice(name: config.name, path: path, config: config)
                } catch {
                    problems.append("\(path): \(error)")
                }
            }
        }
        return (byName.values.sorted { $0.name < $1.name }, problems)
    }
}
