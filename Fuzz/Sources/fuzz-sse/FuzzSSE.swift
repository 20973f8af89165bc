import Foundation
import FuzzSupport
import Backends

/// Arbitrary bytes as a server-sent event stream. The events SSEParser gives must not depend on how the
/// stream is cut into chunks (whole, byte by byte, or at cuts the input chooses), and must be what the
/// specification's line-by-line algorithm gives, written here over bytes as plainly as possible.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSSE(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(fuzzBytes(data, size))
    let expected = referenceEvents(bytes)
    // Compared as bytes: String's == would take "é" and "e\u{301}" as the same event.
    func same(_ events: [String]) -> Bool { events.map { Array($0.utf8) } == expected.map { Array($0.utf8) } }

    // Inputs are far below SSEParser.maxLineBytes, so the parser must never refuse one.
    func events(_ body: () throws -> [String]) -> [String] {
        do { return try body() } catch {
            fuzzCheck(false, "the parser refused \(bytes.count) bytes: \(error)")
            return []
        }
    }

    var whole = SSEParser()
    let inOne = events { try whole.push(Data(bytes)) + whole.finish() }
    fuzzCheck(same(inOne), "one chunk gives \(inOne), the specification \(expected)")

    var single = SSEParser()
    var byByte: [String] = []
    for b in bytes { byByte += events { try single.push(Data([b])) } }
    byByte += events { try single.finish() }
    fuzzCheck(same(byByte), "byte by byte gives \(byByte), the specification \(expected)")

    // Cuts chosen by the input itself: each byte's low bits give the length of the next chunk (1 to 16).
    var cut = SSEParser()
    var chunked: [String] = []
    var start = 0
    var k = 0
    while start < bytes.count {
        let length = 1 + Int(bytes[k % bytes.count] & 15)
        let end = min(bytes.count, start + length)
        chunked += events { try cut.push(Data(bytes[start..<end])) }
        start = end
        k += 1
    }
    chunked += events { try cut.finish() }
    fuzzCheck(same(chunked), "chunked gives \(chunked), the specification \(expected)")
    return 0
}

/// The event stream interpretation of the HTML specification, for the `data` field only: lines end at
/// CR LF, LF or CR; a line starting with ':' is a comment; the field name runs to the first ':', and one
/// space after it is dropped; `data` values of one event are joined with LF; a blank line dispatches the
/// event when it has data; the end of the stream ends a last line and event. Lines are decoded as UTF-8
/// with U+FFFD for invalid bytes.
private func referenceEvents(_ bytes: [UInt8]) -> [String] {
    var lines: [ArraySlice<UInt8>] = []
    var i = 0, lineStart = 0
    while i < bytes.count {
        if bytes[i] == 0x0D || bytes[i] == 0x0A {
            lines.append(bytes[lineStart..<i])
            if bytes[i] == 0x0D, i + 1 < bytes.count, bytes[i + 1] == 0x0A { i += 1 }
            lineStart = i + 1
        }
        i += 1
    }
    if lineStart < bytes.count { lines.append(bytes[lineStart...]) }
    lines.append([])

    var events: [String] = []
    var data: [String]? = nil
    for line in lines {
        if line.isEmpty {
            if let d = data { events.append(d.joined(separator: "\n")) }
            data = nil
            continue
        }
        if line.first == 0x3A { continue }
        var field = line, value: ArraySlice<UInt8> = []
        if let colon = line.firstIndex(of: 0x3A) {
            field = line[..<colon]
            value = line[(colon + 1)...]
            if value.first == 0x20 { value = value.dropFirst() }
        }
        if Array(field) == Array("data".utf8) {
            data = (data ?? []) + [String(decoding: value, as: UTF8.self)]
        }
    }
    return events
}
