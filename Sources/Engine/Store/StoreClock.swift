import Foundation

/// Timestamps are stored as whole milliseconds since 1970, and every `Date` the store hands out is
/// rounded the same way, so a record returned by a write compares equal to the same record read back.
public enum StoreClock {
    public static func now() -> Date { date(milliseconds: milliseconds(Date())) }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    static func date(milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    /// The change time of a row written at `now` that was last changed at `previous`: `now`, or one millisecond past
    /// `previous` when the clock has not moved past it (two writes in one millisecond, or `now` taken before a wait
    /// for the write lock). Pollers tell a changed job by its change time (`Store.jobStamps`); a second write with
    /// the same time would never be read.
    static func after(_ previous: Date, now: Date) -> Date {
        date(milliseconds: max(milliseconds(now), milliseconds(previous) + 1))
    }
}
