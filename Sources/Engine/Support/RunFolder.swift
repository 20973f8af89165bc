import Foundation

extension Paths {
    /// Where every experiment run keeps its files.
    public static var runs: URL { home.appendingPathComponent("runs", isDirectory: true) }

    /// The folder `name` under $HELLOTUNE_HOME/runs; see `folder(_:under:)`.
    public static func runFolder(_ name: String) throws -> URL {
        try folder(name, under: runs)
    }

    /// The folder `name` directly under `parent`, refused unless it stays there. Names are checked where they are
    /// read (`RunName`); this is the last guard before files are written, for names from anywhere else (an older
    /// store, the Setup screen) and for a folder that is a symbolic link leading out.
    public static func folder(_ name: String, under parent: URL) throws -> URL {
        let folder = parent.appendingPathComponent(name, isDirectory: true)
        let base = parent.resolvingSymlinksInPath().standardizedFileURL.path
        let resolved = folder.resolvingSymlinksInPath().standardizedFileURL.path
        guard !name.isEmpty, !name.contains("/"), name != ".", name != "..", !name.contains("\0"),
              resolved.hasPrefix(base.hasSuffix("/") ? base : base + "/") else {
            throw PathError.outsideFolder(name: name, path: resolved, parent: base)
        }
        return folder
    }
}

/// A path built from a name that would leave the folder it belongs in.
public enum PathError: Error, CustomStringConvertible, Equatable, Sendable {
    case outsideFolder(name: String, path: String, parent: String)

    public var description: String {
        switch self {
        case let .outsideFolder(name, path, parent):
            return "the folder name \"\(name)\" leads to \(path), outside \(parent); nothing was written there. "
                + "Rename the experiment (name = in its file) with letters, digits, '.', '_' and '-' only."
        }
    }
}
