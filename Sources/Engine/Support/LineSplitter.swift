#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits bytes that arrive in chunks into lines ending in \n (a \r before it is dropped). It holds at most
/// `maxLineBytes` of one line: a longer line is only counted, never kept, so a file with a 100 MB line costs
/// the reader no more memory than one with short lines.
package struct LineSplitter {
    package enum Line {
        /// A line within the limit, without its line end; line numbers start at 1.
        case text(number: Int, bytes: [UInt8])
        /// A line over the limit: its length without the line end.
        case tooLong(number: Int, bytes: Int)
    }

    let maxLineBytes: Int
    private var buffer: [UInt8] = []
    /// The length so far of a line that outgrew the limit (its bytes were dropped).
    private var overflow: Int?
    private var lastByte: UInt8 = 0
    private var number = 0

    package init(maxLineBytes: Int) {
        self.maxLineBytes = maxLineBytes
    }

    package mutating func push(_ chunk: UnsafeRawBufferPointer, _ emit: (Line) throws -> Void) rethrows {
        guard let base = chunk.baseAddress else { return }
        var start = 0
        while start < chunk.count {
            let found = memchr(base + start, 0x0A, chunk.count - start)
            let end = found.map { base.distance(to: UnsafeRawPointer($0)) } ?? chunk.count
            append(UnsafeRawBufferPointer(rebasing: chunk[start..<end]))
            guard found != nil else { return }
            try endLine(emit)
            start = end + 1
        }
    }

    /// The last line, when the input does not end with a line end.
    package mutating func finish(_ emit: (Line) throws -> Void) rethrows {
        if !buffer.isEmpty || overflow != nil { try endLine(emit) }
    }

    private mutating func append(_ piece: UnsafeRawBufferPointer) {
        guard let last = piece.last else { return }
        lastByte = last
        if let n = overflow {
            overflow = n + piece.count
        } else if buffer.count + piece.count > maxLineBytes + 1 {
            // +1: a line of exactly the limit may still be followed by the \r of a CRLF line end.
            overflow = buffer.count + piece.count
            buffer = []
        } else {
            buffer.append(contentsOf: piece)
        }
    }

    private mutating func endLine(_ emit: (Line) throws -> Void) rethrows {
        number += 1
        defer { buffer.removeAll(keepingCapacity: overflow == nil); overflow = nil; lastByte = 0 }
        if let n = overflow {
            try emit(.tooLong(number: number, bytes: lastByte == 0x0D ? n - 1 : n))
            return
        }
        if buffer.last == 0x0D { buffer.removeLast() }
        // A UTF-8 byte-order mark at the start of the file is not part of the first line.
        if number == 1, buffer.starts(with: [0xEF, 0xBB, 0xBF]) { buffer.removeFirst(3) }
        if buffer.count > maxLineBytes {
            try emit(.tooLong(number: number, bytes: buffer.count))
        } else {
            try emit(.text(number: number, bytes: buffer))
        }
    }
}
