import Foundation

/// Timestamps are stored as whole milliseconds since 1970, and every `Date` the store hands out is
/// rounded the same way, so a record returned by a write compares equal to the same record read back.
public enum StoreClock {
    public static func now() -> Date { date(milliseconds: milliseconds(Date())) }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    static func date(milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
}
