import CKernels
import Foundation

/// Splits work across the machine's cores. On 2 cores one chunk per core keeps the
/// synchronisation cost (paid ~150 times per decoded token) at its minimum.
public enum Parallel {
    public static let threadCount: Int = {
        var n = max(1, ProcessInfo.processInfo.activeProcessorCount)
        if let s = ProcessInfo.processInfo.environment["HELLOTUNE_THREADS"], let v = Int(s), v > 0 { n = v }
        ht_parallel_set_threads(Int32(n))
        return Int(ht_parallel_threads())
    }()

    /// Calls `body(start, end)` on disjoint ranges covering 0..<count, in parallel.
    /// Ranges are multiples of `granularity` (except the last), so SIMD blocks are never split.
    @inline(__always)
    public static func forRanges(_ count: Int, granularity: Int = 1, minimumPerThread: Int = 1,
                                 _ body: (Int, Int) -> Void) {
        forChunks(count, granularity: granularity, minimumPerThread: minimumPerThread) { _, s, e in body(s, e) }
    }

    /// Like `forRanges`, also passing the chunk's index (< threadCount), so each chunk can own a
    /// slice of a scratch buffer.
    public static func forChunks(_ count: Int, granularity: Int = 1, minimumPerThread: Int = 1,
                                 _ body: (Int, Int, Int) -> Void) {
        let units = (count + granularity - 1) / granularity
        let threads = min(threadCount, max(1, units * granularity / max(1, minimumPerThread)), units)
        if threads <= 1 {
            if count > 0 { body(0, 0, count) }
            return
        }
        withoutActuallyEscaping(body) { escaping in
            var job = Job(run: { t in
                let start = units * t / threads * granularity
                let end = min(count, units * (t + 1) / threads * granularity)
                if start < end { escaping(t, start, end) }
            })
            withUnsafeMutablePointer(to: &job) { ptr in
                ht_parallel_run(Int32(threads), { ctx, i in
                    ctx!.assumingMemoryBound(to: Job.self).pointee.run(Int(i))
                }, ptr)
            }
        }
    }

    /// What the C pool calls back into: a Swift closure behind a plain pointer.
    private struct Job {
        let run: (Int) -> Void
    }

    /// Calls `body(i)` for every i in 0..<count, spread over the cores.
    @inline(__always)
    public static func forEach(_ count: Int, minimumPerThread: Int = 1, _ body: (Int) -> Void) {
        forRanges(count, minimumPerThread: max(1, minimumPerThread)) { s, e in for i in s..<e { body(i) } }
    }
}
