import Foundation

enum WorkerProcesses {
    /// The pids of the `hellotune worker` processes running on the store in `home`, found through /proc: a run
    /// records nothing about its worker before the worker itself does.
    static func pids(home: URL) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        let homeVariable = Data("HELLOTUNE_HOME=\(home.path)\0".utf8)
        return entries.compactMap(Int32.init).filter { pid in
            guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let argv = cmdline.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            guard argv.count >= 3, argv[1] == "worker", argv[2] == "--job",
                  let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            return environ.range(of: homeVariable) != nil
        }
    }
}
