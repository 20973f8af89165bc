import Foundation

/// Stops the fuzzer with `message` when an invariant does not hold. A trap, not an error: libFuzzer
/// saves the input that caused it as a crash file.
public func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                      file: StaticString = #fileID, line: UInt = #line) {
    if !condition() {
        FileHandle.standardError.write(Data("invariant failed at \(file):\(line): \(message())\n".utf8))
        fatalError("fuzz invariant failed", file: file, line: line)
    }
}

/// The fuzzer's input as bytes.
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(start: size > 0 ? data : nil, count: size)
}

/// The fuzzer's input as text; invalid UTF-8 becomes U+FFFD, as when a file is read leniently.
public func fuzzText(_ data: UnsafePointer<UInt8>?, _ size: Int) -> String {
    String(decoding: fuzzBytes(data, size), as: UTF8.self)
}

/// A short, printable rendering of a string for invariant messages.
public func excerpt(_ s: String, _ limit: Int = 200) -> String {
    String(s.prefix(limit)).debugDescription
}
