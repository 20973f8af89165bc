import Foundation

/// This process's resident memory, from /proc/self/status (Linux), for tests that show a limit is enforced
/// before the memory it guards is allocated.
enum PeakMemory {
    /// Resets the high-water mark of resident memory to the current size (writing 5 to /proc/self/clear_refs),
    /// so that `peakGrowth` measures only what follows. Returns the resident size now.
    @discardableResult
    static func reset() throws -> Int {
        try Data("5".utf8).write(to: URL(fileURLWithPath: "/proc/self/clear_refs"))
        return try value("VmRSS")
    }

    /// The peak resident memory since `reset`, minus the resident size `reset` returned.
    static func peakGrowth(since base: Int) throws -> Int {
        try value("VmHWM") - base
    }

    /// A /proc/self/status field in bytes.
    static func value(_ field: String) throws -> Int {
        let text = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
              let kib = Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") else {
            throw CocoaError(.fileReadCorruptFile)
        }
        return kib * 1024
    }
}
