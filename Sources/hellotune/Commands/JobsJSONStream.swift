import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Store

/// `hellotune jobs list --json`, written a job at a time into one buffer that goes to stdout every 64 KB, so that
/// memory stays flat and 100,000 jobs take seconds. JSONSerialization with sorted keys spent 80% of a listing
/// comparing keys through ICU collation (~0.8 ms a job); here the keys are written in their sorted order by hand,
/// the stored config (JSON the store validated when it was written) is copied with its insignificant whitespace
/// dropped instead of parsed and re-encoded, and dates are formatted from their milliseconds. Strings are escaped as
/// JSON escapes them, plus U+007F...U+009F, as `terminalSafeJSON` does, so that nothing reaches a terminal raw.
struct JobsJSONStream {
    private var buffer: [UInt8] = []
    private var count = 0
    private let flushAt = 1 << 16
    private let fd: Int32

    init(fd: Int32 = STDOUT_FILENO) {
        self.fd = fd
        buffer.reserveCapacity(flushAt + 4096)
    }

    /// The whole array: `[`, each job, `]` and a newline, the array on one line as before.
    static func write(_ store: Store, fd: Int32 = STDOUT_FILENO) throws {
        var stream = JobsJSONStream(fd: fd)
        stream.bytes("[")
        try store.forEachJob { job in
            if stream.count > 0 { stream.bytes(",") }
            stream.job(job)
            stream.count += 1
            if stream.buffer.count >= stream.flushAt { try stream.flush() }
        }
        stream.bytes("]\n")
        try stream.flush()
    }

    /// One job; its keys in the order `JSONSerialization`'s `.sortedKeys` gave them.
    mutating func job(_ job: JobRecord) {
        bytes("{\"backend\":"); string(job.backend)
        bytes(",\"config\":"); embedded(job.config)
        bytes(",\"createdAt\":"); date(job.createdAt)
        bytes(",\"cursor\":"); optional(job.cursor)
        bytes(",\"error\":"); optional(job.error)
        bytes(",\"etaSeconds\":"); number(job.etaSeconds)
        bytes(",\"experimentID\":"); integer(job.experimentID)
        bytes(",\"externalID\":"); optional(job.externalID)
        bytes(",\"id\":"); integer(job.id)
        bytes(",\"kind\":"); string(job.kind)
        bytes(",\"loss\":"); number(job.loss)
        bytes(",\"outputDir\":"); optional(job.outputDir)
        bytes(",\"pid\":"); integer(job.pid.map(Int64.init))
        bytes(",\"status\":"); string(job.statusText)
        bytes(",\"step\":"); integer(job.step.map(Int64.init))
        bytes(",\"tokensPerSecond\":"); number(job.tokensPerSecond)
        bytes(",\"totalSteps\":"); integer(job.totalSteps.map(Int64.init))
        bytes(",\"updatedAt\":"); date(job.updatedAt)
        bytes("}")
    }

    var text: String { String(decoding: buffer, as: UTF8.self) }

    // MARK: - Values

    mutating func bytes(_ s: StaticString) {
        s.withUTF8Buffer { buffer.append(contentsOf: $0) }
    }

    mutating func optional(_ s: String?) {
        if let s { string(s) } else { bytes("null") }
    }

    mutating func integer(_ value: Int64?) {
        if let value { buffer.append(contentsOf: String(value).utf8) } else { bytes("null") }
    }

    /// JSON has no NaN or infinity (a diverged loss): those are null, as before.
    mutating func number(_ value: Double?) {
        guard let value, value.isFinite else { bytes("null"); return }
        buffer.append(contentsOf: "\(value)".utf8)
    }

    /// "2026-12-06T09:18:00.123Z", to the millisecond the store keeps.
    mutating func date(_ date: Date) {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded())
        var seconds = time_t(ms >= 0 ? ms / 1000 : (ms - 999) / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let text = String(format: "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                          Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec),
                          Int(ms - Int64(seconds) * 1000))
        buffer.append(contentsOf: text.utf8)
    }

    mutating func string(_ s: String) {
        buffer.append(UInt8(ascii: "\""))
        var utf8 = s.utf8.makeIterator()
        var pending: UInt8?
        while let byte = pending ?? utf8.next() {
            pending = nil
            switch byte {
            case UInt8(ascii: "\""): bytes("\\\"")
            case UInt8(ascii: "\\"): bytes("\\\\")
            case 0x0A: bytes("\\n")
            case 0x0D: bytes("\\r")
            case 0x09: bytes("\\t")
            case 0x08: bytes("\\b")
            case 0x0C: bytes("\\f")
            case 0x00..<0x20, 0x7F: escaped(byte)
            case 0xC2:
                // U+0080...U+009F (C1 controls, CSI among them) are C2 80...C2 9F in UTF-8.
                guard let next = utf8.next() else { buffer.append(byte); continue }
                if (0x80...0x9F).contains(next) { escaped(next) } else { buffer.append(byte); pending = next }
            default: buffer.append(byte)
            }
        }
        buffer.append(UInt8(ascii: "\""))
    }

    private mutating func escaped(_ scalar: UInt8) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        bytes("\\u00")
        buffer.append(hex[Int(scalar >> 4)])
        buffer.append(hex[Int(scalar & 0xF)])
    }

    /// Stored JSON text goes out as JSON, not as a string holding JSON: copied without its whitespace outside strings.
    /// Text that is not JSON after all (a store another tool wrote) goes out as a string, as before.
    mutating func embedded(_ text: String) {
        let start = buffer.count
        if !compacted(text) {
            buffer.removeSubrange(start...)
            string(text)
        }
    }

    /// Copies `text` without insignificant whitespace; false when it cannot be JSON (unbalanced brackets, a raw control
    /// character, a stray character outside strings). Not a full parser: the store parsed it when it was written.
    private mutating func compacted(_ text: String) -> Bool {
        var closers: [UInt8] = []
        var inString = false
        var escape = false
        var wrote = false
        var utf8 = text.utf8.makeIterator()
        while let byte = utf8.next() {
            if inString {
                if escape {
                    escape = false
                    buffer.append(byte)
                    continue
                }
                switch byte {
                case UInt8(ascii: "\\"): escape = true; buffer.append(byte)
                case UInt8(ascii: "\""): inString = false; buffer.append(byte)
                case 0x00..<0x20: return false
                case 0x7F: escaped(byte)
                case 0xC2:
                    guard let next = utf8.next() else { return false }
                    if (0x80...0x9F).contains(next) {
                        escaped(next)
                    } else {
                        buffer.append(byte)
                        buffer.append(next)
                        if next == UInt8(ascii: "\"") { inString = false } else if next == UInt8(ascii: "\\") { escape = true }
                    }
                default: buffer.append(byte)
                }
                continue
            }
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D: continue
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"): closers.append(UInt8(ascii: "}"))
            case UInt8(ascii: "["): closers.append(UInt8(ascii: "]"))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard closers.popLast() == byte else { return false }
            case UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"),
                 UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "t"), UInt8(ascii: "r"), UInt8(ascii: "u"),
                 UInt8(ascii: "f"), UInt8(ascii: "a"), UInt8(ascii: "l"), UInt8(ascii: "s"), UInt8(ascii: "n"):
                break
            default: return false
            }
            buffer.append(byte)
            wrote = true
        }
        return wrote && closers.isEmpty && !inString
    }

    // MARK: - Output

    mutating func flush() throws {
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw JobsJSONStreamError(reason: String(cString: strerror(errno)))
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// stdout could not be written (a closed pipe, a full disk).
struct JobsJSONStreamError: Error, CustomStringConvertible {
    var reason: String
    var description: String { "could not write the job list to stdout: \(reason)" }
}
