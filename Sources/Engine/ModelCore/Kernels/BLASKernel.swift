import CBLAS
import Foundation

/// Picks OpenBLAS's kernel for this CPU. Debian's OpenBLAS 0.3.21 does not recognise recent Xeons
/// and EPYCs and falls back to "Prescott" (SSE3, ~45 GFLOP/s sgemm on 2 cores) where the AVX-512
/// "SkylakeX" kernels run at 140-200. OpenBLAS reads OPENBLAS_CORETYPE only while it loads, which
/// happens before `main`, so the process sets the variable and re-executes itself once.
public enum BLASKernel {
    static let chosenMarker = "HELLOTUNE_BLAS_CHOSEN"

    /// The core type this CPU should use, from /proc/cpuinfo's flags (nil: let OpenBLAS decide).
    public static func recommendedCoreType(cpuFlags: Set<String>? = nil) -> String? {
        guard let flags = cpuFlags ?? readCPUFlags() else { return nil }
        if ["avx512f", "avx512vl", "avx512bw", "avx512dq"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }

    static func readCPUFlags() -> Set<String>? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return nil }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    /// Call first thing in `main`. Never overrides a value the user set.
    public static func selectAndReexecIfNeeded() {
        let env = ProcessInfo.processInfo.environment
        guard env["OPENBLAS_CORETYPE"] == nil, env[chosenMarker] == nil,
              let core = recommendedCoreType() else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv(chosenMarker, core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // exec failed (no /proc): carry on with OpenBLAS's own choice.
    }

    /// The kernel OpenBLAS is running, and who chose it.
    public static var report: String {
        let name = String(cString: openblas_get_corename())
        let env = ProcessInfo.processInfo.environment
        let who: String
        if let chosen = env[chosenMarker], env["OPENBLAS_CORETYPE"] == chosen {
            who = "chosen by hellotune from the CPU's features"
        } else if env["OPENBLAS_CORETYPE"] != nil {
            who = "from OPENBLAS_CORETYPE"
        } else {
            who = "OpenBLAS's own detection"
        }
        return "\(name) (\(who)), single-threaded inside the engine's \(Parallel.threadCount)-thread pool"
    }
}
