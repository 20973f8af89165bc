import Foundation
import TestSupport
import XCTest
import ModelCore

/// GGUFFile on good and bad input: every corrupt file must give its specific GGUFError, with a
/// message that names the file, and never a crash or a huge allocation.
final class GGUFReaderTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("hellotune-gguf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    // MARK: helpers

    /// Little-endian bytes of a hand-made (usually broken) GGUF file.
    private struct Bytes {
        var bytes: [UInt8] = []
        mutating func u8(_ v: UInt8) { bytes.append(v) }
        mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
        mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
        mutating func str(_ s: String) { u64(UInt64(s.utf8.count)); bytes.append(contentsOf: s.utf8) }
        mutating func zeros(_ n: Int) { bytes.append(contentsOf: [UInt8](repeating: 0, count: n)) }
        /// magic, version, tensor count, metadata count.
        mutating func header(version: UInt32 = 3, tensors: UInt64, kv: UInt64) {
            u32(GGUFFile.magic); u32(version); u64(tensors); u64(kv)
        }
        /// A tensor info: name, dims, type, offset.
        mutating func tensorInfo(_ name: String, dims: [UInt64], type: UInt32, offset: UInt64 = 0) {
            str(name); u32(UInt32(dims.count)); dims.forEach { u64($0) }; u32(type); u64(offset)
        }
        /// Zero padding up to a multiple of 32 (the default alignment).
        mutating func align() { while bytes.count % 32 != 0 { u8(0) } }
    }

    private var fileCounter = 0

    private func write(_ bytes: [UInt8], name: String? = nil) throws -> String {
        fileCounter += 1
        let url = dir.appendingPathComponent(name ?? "model-\(fileCounter).gguf")
        try Data(bytes).write(to: url)
        return url.path
    }

    /// Opens `bytes` as a GGUF file and returns the error it must throw, having checked that the
    /// message names the file. `check` gets the error and the path.
    private func openError(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line,
                           _ check: (GGUFError, String) -> Void) throws {
        let path = try write(bytes)
        do {
            _ = try GGUFFile(path: path)
            XCTFail("opening a bad file succeeded", file: file, line: line)
        } catch let error as GGUFError {
            XCTAssertTrue("\(error)".contains(path), "message does not name the file: \(error)", file: file, line: line)
            check(error, path)
        } catch {
            XCTFail("unexpected error type: \(error)", file: file, line: line)
        }
    }

    private func expect(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line,
                        _ expected: (String) -> GGUFError) throws {
        try openError(bytes, file: file, line: line) { error, path in
            XCTAssertEqual(error, expected(path), file: file, line: line)
        }
    }

    private static func index(of needle: String, in haystack: [UInt8]) -> Int? {
        let n = Array(needle.utf8)
        guard haystack.count >= n.count else { return nil }
        return (0...(haystack.count - n.count)).first { haystack[$0..<$0 + n.count].elementsEqual(n) }
    }

    // MARK: cannot open / not a GGUF file

    func testMissingFile() throws {
        let path = dir.appendingPathComponent("absent.gguf").path
        XCTAssertThrowsError(try GGUFFile(path: path)) { error in
            guard case let .cannotOpen(p, reason)? = error as? GGUFError else { return XCTFail("\(error)") }
            XCTAssertEqual(p, path)
            XCTAssertTrue(reason.contains("No such file"), reason)
            XCTAssertTrue("\(error)".contains(path))
        }
    }

    func testDirectoryIsNotAModel() throws {
        XCTAssertThrowsError(try GGUFFile(path: dir.path)) { error in
            guard case let .cannotOpen(p, _)? = error as? GGUFError else { return XCTFail("\(error)") }
            XCTAssertEqual(p, dir.path)
            XCTAssertTrue("\(error)".contains(dir.path))
        }
    }

    func testEmptyFile() throws {
        try expect([]) { .tooSmall(path: $0, size: 0) }
    }

    func testWrongMagic() throws {
        var b = Bytes()
        b.bytes.append(contentsOf: Array("GGML".utf8)); b.u32(3); b.u64(0); b.u64(0)
        try expect(b.bytes) { .badMagic(path: $0, found: "\"GGML\"") }

        var c = Bytes()
        c.bytes.append(contentsOf: [0x00, 0x01, 0xFE, 0x7F]); c.zeros(28)
        try expect(c.bytes) { .badMagic(path: $0, found: "0 1 fe 7f") }
    }

    func testUnsupportedVersions() throws {
        for version: UInt32 in [0, 1, 4, 99, .max] {
            var b = Bytes()
            b.header(version: version, tensors: 0, kv: 0)
            try expect(b.bytes) { .unsupportedVersion(path: $0, version: version) }
        }
    }

    func testVersion2IsRead() throws {
        var b = Bytes()
        b.header(version: 2, tensors: 0, kv: 1)
        b.str("general.architecture"); b.u32(8); b.str("llama")
        let gguf = try GGUFFile(path: try write(b.bytes))
        XCTAssertEqual(gguf.version, 2)
        XCTAssertEqual(try gguf.string("general.architecture"), "llama")
        XCTAssertTrue(gguf.tensors.isEmpty)
    }

    // MARK: absurd counts and lengths

    func testAbsurdTensorCount() throws {
        var b = Bytes()
        b.header(tensors: 1 << 60, kv: 0)
        b.zeros(64)
        try expect(b.bytes) { .absurdCount(path: $0, what: "tensors", count: 1 << 60) }
    }

    func testAbsurdMetadataCount() throws {
        for count: UInt64 in [1 << 60, .max, 100] {
            var b = Bytes()
            b.header(tensors: 0, kv: count)
            b.str("general.architecture"); b.u32(8); b.str("llama")
            try expect(b.bytes) { .absurdCount(path: $0, what: "metadata entries", count: count) }
        }
    }

    func testAbsurdStringLengths() throws {
        // A key claiming 2^62 bytes.
        var key = Bytes()
        key.header(tensors: 0, kv: 1)
        key.u64(1 << 62); key.bytes.append(contentsOf: Array("general.architecture".utf8)); key.u32(8); key.str("llama")
        try expect(key.bytes) { .truncated(path: $0, what: "metadata key", offset: 32) }

        // A string value claiming UInt64.max bytes.
        var value = Bytes()
        value.header(tensors: 0, kv: 1)
        value.str("general.name"); value.u32(8); value.u64(.max); value.zeros(32)
        let valueAt = 24 + 8 + 12 + 4 + 8
        try expect(value.bytes) { .truncated(path: $0, what: "value of 'general.name'", offset: valueAt) }

        // A tensor name claiming 2^40 bytes.
        var name = Bytes()
        name.header(tensors: 1, kv: 0)
        name.u64(1 << 40); name.zeros(40)
        try expect(name.bytes) { .truncated(path: $0, what: "tensor name", offset: 32) }
    }

    func testAbsurdArrayLength() throws {
        var b = Bytes()
        b.header(tensors: 0, kv: 1)
        b.str("tokenizer.ggml.scores"); b.u32(9); b.u32(6); b.u64(1 << 40)
        b.zeros(64)
        try expect(b.bytes) { .absurdCount(path: $0, what: "items in 'tokenizer.ggml.scores'", count: 1 << 40) }

        // Just one item more than the bytes left.
        var c = Bytes()
        c.header(tensors: 0, kv: 1)
        c.str("a"); c.u32(9); c.u32(0); c.u64(17)
        c.zeros(16)
        try expect(c.bytes) { .absurdCount(path: $0, what: "items in 'a'", count: 17) }
    }

    func testBadValueTypes() throws {
        var b = Bytes()
        b.header(tensors: 0, kv: 1)
        b.str("k"); b.u32(13); b.zeros(16)
        try expect(b.bytes) { .badValueType(path: $0, key: "k", type: 13) }

        // Arrays of arrays are not read (llama.cpp writes none).
        var nested = Bytes()
        nested.header(tensors: 0, kv: 1)
        nested.str("k"); nested.u32(9); nested.u32(9); nested.u64(1); nested.u32(4); nested.u64(0)
        nested.zeros(16)
        try expect(nested.bytes) { .badValueType(path: $0, key: "k", type: 9) }

        // An array of an unknown item type.
        var items = Bytes()
        items.header(tensors: 0, kv: 1)
        items.str("k"); items.u32(9); items.u32(77); items.u64(2); items.zeros(16)
        try expect(items.bytes) { .badValueType(path: $0, key: "k", type: 77) }
    }

    // MARK: bad tensor infos

    /// A file with one tensor info and enough trailing bytes to pass the count checks.
    private func oneTensor(dims: [UInt64], type: UInt32, offset: UInt64 = 0, dataBytes: Int = 64) -> [UInt8] {
        var b = Bytes()
        b.header(tensors: 1, kv: 0)
        b.tensorInfo("blk.0.ffn_up.weight", dims: dims, type: type, offset: offset)
        b.align()
        b.zeros(dataBytes)
        return b.bytes
    }

    func testTensorDimsWhoseProductOverflows() throws {
        let t = "blk.0.ffn_up.weight"
        // 2^39 * 2^39 = 2^78 overflows 64 bits; 2^30 * 2^30 does not, but is over the reader's 2^48 limit.
        try expect(oneTensor(dims: [1 << 39, 1 << 39], type: 0)) { .badTensorShape(path: $0, tensor: t, reason: "more than 2^48 elements") }
        try expect(oneTensor(dims: [1 << 39, 1 << 39, 1 << 39, 1 << 39], type: 0)) { .badTensorShape(path: $0, tensor: t, reason: "more than 2^48 elements") }
        try expect(oneTensor(dims: [1 << 30, 1 << 30], type: 8)) { .badTensorShape(path: $0, tensor: t, reason: "more than 2^48 elements") }
        // Single dimensions that are absurd on their own.
        try expect(oneTensor(dims: [1 << 40], type: 0)) { .badTensorShape(path: $0, tensor: t, reason: "dimension 1099511627776") }
        try expect(oneTensor(dims: [.max, 2], type: 0)) { .badTensorShape(path: $0, tensor: t, reason: "dimension \(UInt64.max)") }
        try expect(oneTensor(dims: [32, 0], type: 0)) { .badTensorShape(path: $0, tensor: t, reason: "dimension 0") }
    }

    /// Tensors that claim 2^60 bytes, or 2^49 bytes in a 100-byte file, are refused from their header alone: the
    /// reader never allocates or touches the claimed size.
    func testTensorClaimingAbsurdSizesIsRefusedWithoutAllocating() throws {
        let t = "blk.0.ffn_up.weight"
        let base = try PeakMemory.reset()
        // 2^30 x 2^28 F32 elements: 2^60 bytes.
        try openError(oneTensor(dims: [1 << 30, 1 << 28], type: 0)) { error, path in
            XCTAssertEqual(error, .badTensorShape(path: path, tensor: t, reason: "more than 2^48 elements"))
            XCTAssertEqual("\(error)", "\(path): tensor '\(t)' has a bad shape: more than 2^48 elements. The file is corrupt; "
                + "download or convert it again.")
        }
        // Just under the element limit, 2^47 F32 elements (2^49 bytes), and as Q4_0 (2^47 / 32 blocks of 18 bytes).
        try expect(oneTensor(dims: [1 << 24, 1 << 23], type: 0)) {
            .tensorOutOfBounds(path: $0, tensor: t, offset: 0, size: 1 << 49, dataSize: 64)
        }
        try expect(oneTensor(dims: [1 << 24, 1 << 23], type: 2)) {
            .tensorOutOfBounds(path: $0, tensor: t, offset: 0, size: (1 << 47) / 32 * 18, dataSize: 64)
        }
        // Dimensions whose product overflows 64 bits on the way, in every order.
        for dims: [UInt64] in [[1 << 32, 1 << 32, 1 << 32], [3, 1 << 39, 1 << 39], [(1 << 40) - 1, (1 << 40) - 1, 2, 2]] {
            try expect(oneTensor(dims: dims, type: 0)) { .badTensorShape(path: $0, tensor: t, reason: "more than 2^48 elements") }
        }
        let growth = try PeakMemory.peakGrowth(since: base)
        XCTAssertLessThan(growth, 16 << 20, "opening the files grew peak resident memory by \(growth >> 20) MiB")
    }

    func testTensorDimensionCount() throws {
        let t = "blk.0.ffn_up.weight"
        try expect(oneTensor(dims: [], type: 0)) { .badTensorShape(path: $0, tensor: t, reason: "0 dimensions (1 to 4 allowed)") }
        try expect(oneTensor(dims: [1, 1, 1, 1, 1], type: 0)) { .badTensorShape(path: $0, tensor: t, reason: "5 dimensions (1 to 4 allowed)") }
        var b = Bytes()
        b.header(tensors: 1, kv: 0)
        b.str("x"); b.u32(.max); b.zeros(64)
        try expect(b.bytes) { .badTensorShape(path: $0, tensor: "x", reason: "\(UInt32.max) dimensions (1 to 4 allowed)") }
    }

    func testTensorOffsetBeyondData() throws {
        let t = "blk.0.ffn_up.weight"
        // 16 floats = 64 bytes of data, exactly what is there: fine.
        XCTAssertNoThrow(try GGUFFile(path: try write(oneTensor(dims: [16], type: 0, offset: 0, dataBytes: 64))))
        // One float more than there is.
        try expect(oneTensor(dims: [17], type: 0, offset: 0, dataBytes: 64)) {
            .tensorOutOfBounds(path: $0, tensor: t, offset: 0, size: 68, dataSize: 64)
        }
        // Starts inside, ends outside.
        try expect(oneTensor(dims: [16], type: 0, offset: 32, dataBytes: 64)) {
            .tensorOutOfBounds(path: $0, tensor: t, offset: 32, size: 64, dataSize: 64)
        }
        // Starts beyond the end; and an offset that would overflow offset + size.
        try expect(oneTensor(dims: [4], type: 0, offset: 4096, dataBytes: 64)) {
            .tensorOutOfBounds(path: $0, tensor: t, offset: 4096, size: 16, dataSize: 64)
        }
        try expect(oneTensor(dims: [4], type: 0, offset: .max - 8, dataBytes: 64)) {
            .tensorOutOfBounds(path: $0, tensor: t, offset: .max - 8, size: 16, dataSize: 64)
        }
    }

    func testUnsupportedTensorTypes() throws {
        let t = "blk.0.ffn_up.weight"
        for type: UInt32 in [99, 15, 9, 4, 5, 16, 29, .max] {
            try openError(oneTensor(dims: [256], type: type)) { error, path in
                XCTAssertEqual(error, .unsupportedQuantization(path: path, tensor: t, type: type))
                let expectedName = GGMLType(rawValue: type)?.description ?? "type \(type)"
                XCTAssertTrue("\(error)".contains(expectedName), "\(error)")
            }
        }
        // The message names q8_K by its name.
        try openError(oneTensor(dims: [256], type: 15)) { error, _ in
            XCTAssertTrue("\(error)".contains("Q8_K"), "\(error)")
        }
    }

    func testRowLengthNotAMultipleOfTheBlock() throws {
        let t = "blk.0.ffn_up.weight"
        try expect(oneTensor(dims: [33, 1], type: GGMLType.q4_0.rawValue)) {
            .badTensorShape(path: $0, tensor: t, reason: "row length 33 is not a multiple of Q4_0's block of 32")
        }
        try expect(oneTensor(dims: [128, 2], type: GGMLType.q4_K.rawValue)) {
            .badTensorShape(path: $0, tensor: t, reason: "row length 128 is not a multiple of Q4_K's block of 256")
        }
        // Only the row length must be whole blocks: 3 rows of 32 is fine.
        XCTAssertNoThrow(try GGUFFile(path: try write(oneTensor(dims: [32, 3], type: GGMLType.q8_0.rawValue, dataBytes: 102))))
    }

    func testDuplicateTensorName() throws {
        var w = GGUFWriter()
        w.tensors.append(.init(name: "output_norm.weight", dims: [4], floats: [1, 2, 3, 4]))
        w.tensors.append(.init(name: "token_embd.weight", dims: [4], floats: [1, 2, 3, 4]))
        w.tensors.append(.init(name: "output_norm.weight", dims: [4], floats: [5, 6, 7, 8]))
        try expect(w.serialize()) { .duplicateTensor(path: $0, tensor: "output_norm.weight") }
    }

    func testBadAlignment() throws {
        for alignment in [0, 3, 48] {
            var w = GGUFWriter()
            w.set("general.alignment", .uint(UInt64(alignment)))
            try expect(w.serialize()) {
                .invalidHyperparameter(path: $0, key: "general.alignment", reason: "is \(alignment), not a power of two")
            }
        }
    }

    // MARK: truncation

    func testTruncatedFiles() throws {
        let longName = String(repeating: "SmolLM2 ", count: 16)
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        w.set("general.name", .string(longName))
        w.set("llama.block_count", .uint(30))
        w.tensors.append(.init(name: "tensor.alpha", dims: [8, 2], floats: (0..<16).map(Float.init)))            // 64 bytes
        w.tensors.append(.init(name: "tensor.beta", dims: [32, 2], type: .q8_0, bytes: [UInt8](repeating: 7, count: 68)))  // 68 bytes
        let full = w.serialize()
        XCTAssertNoThrow(try GGUFFile(path: try write(full)))

        let nameValueAt = try XCTUnwrap(Self.index(of: longName, in: full))
        let blockCountKeyAt = try XCTUnwrap(Self.index(of: "llama.block_count", in: full))
        let betaAt = try XCTUnwrap(Self.index(of: "tensor.beta", in: full))
        let infosEnd = betaAt + 11 + 4 + 2 * 8 + 4 + 8
        let dataStart = (infosEnd + 31) / 32 * 32
        XCTAssertEqual(full.count, dataStart + 64 + 96)  // alpha, then beta padded to 96

        func cut(_ n: Int, file: StaticString = #filePath, line: UInt = #line, _ expected: (String) -> GGUFError) throws {
            try expect(Array(full[0..<n]), file: file, line: line, expected)
        }

        // In the header.
        try cut(4) { .tooSmall(path: $0, size: 4) }
        try cut(23) { .tooSmall(path: $0, size: 23) }
        // Right after the header: the 3 entries cannot fit in what is left.
        try cut(24) { .absurdCount(path: $0, what: "metadata entries", count: 3) }
        // In the metadata: inside a string value, inside a key, between a key and its type, inside a value.
        try cut(nameValueAt + 40) { .truncated(path: $0, what: "value of 'general.name'", offset: nameValueAt) }
        try cut(blockCountKeyAt + 5) { .truncated(path: $0, what: "metadata key", offset: blockCountKeyAt) }
        try cut(blockCountKeyAt + 17 + 2) { .truncated(path: $0, what: "type of 'llama.block_count'", offset: blockCountKeyAt + 17) }
        try cut(blockCountKeyAt + 17 + 4 + 3) { .truncated(path: $0, what: "value of 'llama.block_count'", offset: blockCountKeyAt + 21) }
        // In the tensor infos: inside a name, the dimension count, a dimension, the type, the offset.
        try cut(betaAt + 4) { .truncated(path: $0, what: "tensor name", offset: betaAt) }
        try cut(betaAt + 11 + 1) { .truncated(path: $0, what: "dimension count of 'tensor.beta'", offset: betaAt + 11) }
        try cut(betaAt + 15 + 8 + 3) { .truncated(path: $0, what: "shape of 'tensor.beta'", offset: betaAt + 23) }
        try cut(betaAt + 31 + 2) { .truncated(path: $0, what: "type of 'tensor.beta'", offset: betaAt + 31) }
        try cut(infosEnd - 1) { .truncated(path: $0, what: "offset of 'tensor.beta'", offset: infosEnd - 8) }
        // In the padding before the data, and in the data section.
        if dataStart > infosEnd {
            try cut(infosEnd) { .tensorOutOfBounds(path: $0, tensor: "tensor.alpha", offset: 0, size: 64, dataSize: 0) }
        }
        try cut(dataStart) { .tensorOutOfBounds(path: $0, tensor: "tensor.alpha", offset: 0, size: 64, dataSize: 0) }
        try cut(dataStart + 10) { .tensorOutOfBounds(path: $0, tensor: "tensor.alpha", offset: 0, size: 64, dataSize: 10) }
        try cut(dataStart + 64) { .tensorOutOfBounds(path: $0, tensor: "tensor.beta", offset: 64, size: 68, dataSize: 64) }
        try cut(dataStart + 64 + 67) { .tensorOutOfBounds(path: $0, tensor: "tensor.beta", offset: 64, size: 68, dataSize: 131) }
        // The padding after the last tensor is not needed.
        XCTAssertNoThrow(try GGUFFile(path: try write(Array(full[0..<(dataStart + 64 + 68)]))))

        // Every other cut point fails cleanly too (no crash, a GGUFError naming the file).
        for n in stride(from: 0, to: dataStart + 64 + 68, by: 1) {
            try openError(Array(full[0..<n])) { _, _ in }
        }
    }

    // MARK: happy path

    func testReadsBackWhatTheWriterWrote() throws {
        let metadata: [(String, GGUFValue)] = [
            ("general.architecture", .string("llama")),
            ("general.name", .string("héllo wörld ✓")),
            ("general.empty", .string("")),
            ("test.uint", .uint(42)),
            ("test.uint.max", .uint(.max)),
            ("test.int", .int(-7)),
            ("test.int.min", .int(.min)),
            ("test.float", .float(0.15625)),
            ("test.float.negative", .float(-1e10)),
            ("test.true", .bool(true)),
            ("test.false", .bool(false)),
            ("test.strings", .array([.string("a"), .string(""), .string("<|im_start|>")])),
            ("test.ints", .array([.int(-1), .int(0), .int(Int64.max)])),
            ("test.uints", .array([.uint(1), .uint(2), .uint(3)])),
            ("test.floats", .array([.float(0.5), .float(-2.25)])),
            ("test.bools", .array([.bool(true), .bool(false)])),
            ("test.empty", .array([])),
        ]
        var w = GGUFWriter()
        for (k, v) in metadata { w.set(k, v) }
        let floats: [Float] = [1, -2, 3.5, .pi, -.infinity, 3 * .leastNonzeroMagnitude]
        var rng = SplitMix64(seed: 5)
        let q8 = (0..<3 * 34).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let f16 = (0..<5).flatMap { i -> [UInt8] in let h = floatToHalf(Float(i) - 2.5); return [UInt8(h & 0xFF), UInt8(h >> 8)] }
        w.tensors.append(.init(name: "norm", dims: [3, 2], floats: floats))
        w.tensors.append(.init(name: "q8", dims: [32, 3], type: .q8_0, bytes: q8))
        w.tensors.append(.init(name: "half", dims: [5], type: .f16, bytes: f16))
        w.tensors.append(.init(name: "cube", dims: [1, 2, 3, 1], floats: [1, 2, 3, 4, 5, 6]))
        let url = dir.appendingPathComponent("good.gguf")
        try w.write(to: url)

        let gguf = try GGUFFile(path: url.path)
        XCTAssertEqual(gguf.path, url.path)
        XCTAssertEqual(gguf.version, 3)
        XCTAssertEqual(gguf.metadataKeys, metadata.map(\.0))
        XCTAssertEqual(gguf.metadata.count, metadata.count)
        for (k, v) in metadata { XCTAssertEqual(gguf.metadata[k], v, k) }

        // Typed accessors.
        XCTAssertEqual(try gguf.string("general.architecture"), "llama")
        XCTAssertEqual(try gguf.int("test.uint"), 42)
        XCTAssertEqual(try gguf.int("test.int"), -7)
        XCTAssertEqual(try gguf.double("test.float"), 0.15625)
        XCTAssertEqual(try gguf.stringArray("test.strings"), ["a", "", "<|im_start|>"])
        XCTAssertEqual(try gguf.intArray("test.ints"), [-1, 0, Int.max])
        XCTAssertEqual(try gguf.intArray("test.empty"), [])
        XCTAssertThrowsError(try gguf.int("test.uint.max"))  // does not fit an Int
        XCTAssertThrowsError(try gguf.string("llama.context_length")) { error in
            XCTAssertEqual(error as? GGUFError, .missingKey(path: url.path, key: "llama.context_length"))
        }
        XCTAssertThrowsError(try gguf.stringArray("test.ints")) { error in
            XCTAssertEqual(error as? GGUFError, .invalidHyperparameter(path: url.path, key: "test.ints", reason: "holds a non-string"))
        }
        XCTAssertThrowsError(try gguf.tensor("output.weight")) { error in
            XCTAssertEqual(error as? GGUFError, .missingTensor(path: url.path, tensor: "output.weight"))
            XCTAssertTrue("\(error)".contains(url.path))
        }

        // Tensors.
        XCTAssertEqual(gguf.tensorNames, ["norm", "q8", "half", "cube"])
        let base = try XCTUnwrap(gguf.file.bytes.baseAddress)
        for name in gguf.tensorNames {
            let t = try gguf.tensor(name)
            XCTAssertEqual((t.data.baseAddress! - base) % 32, 0, "\(name) is not aligned")
        }
        let norm = try gguf.tensor("norm")
        XCTAssertEqual(norm.type, .f32)
        XCTAssertEqual(norm.dims, [3, 2])
        XCTAssertEqual(norm.rowLength, 3)
        XCTAssertEqual(norm.rowCount, 2)
        XCTAssertEqual(Dequantize.tensor(norm).map(\.bitPattern), floats.map(\.bitPattern))
        let q = try gguf.tensor("q8")
        XCTAssertEqual(q.type, .q8_0)
        XCTAssertEqual(q.dims, [32, 3])
        XCTAssertEqual(Array(q.data), q8)
        let h = try gguf.tensor("half")
        XCTAssertEqual(h.type, .f16)
        XCTAssertEqual(Dequantize.tensor(h), [-2.5, -1.5, -0.5, 0.5, 1.5])
        let cube = try gguf.tensor("cube")
        XCTAssertEqual(cube.dims, [1, 2, 3, 1])
        XCTAssertEqual(cube.elementCount, 6)
        XCTAssertEqual(cube.rowCount, 6)
        XCTAssertEqual(Dequantize.tensor(cube), [1, 2, 3, 4, 5, 6])
    }

    func testCustomAlignment() throws {
        var w = GGUFWriter()
        w.alignment = 64
        w.set("general.architecture", .string("llama"))
        w.tensors.append(.init(name: "a", dims: [3], floats: [1, 2, 3]))
        w.tensors.append(.init(name: "b", dims: [5], floats: [4, 5, 6, 7, 8]))
        let gguf = try GGUFFile(path: try write(w.serialize()))
        XCTAssertEqual(gguf.metadata["general.alignment"], .uint(64))
        let base = try XCTUnwrap(gguf.file.bytes.baseAddress)
        for name in ["a", "b"] {
            XCTAssertEqual((try gguf.tensor(name).data.baseAddress! - base) % 64, 0, name)
        }
        XCTAssertEqual(Dequantize.tensor(try gguf.tensor("b")), [4, 5, 6, 7, 8])
    }

    /// Bytes in memory (the fuzz target's entry point) read exactly as the same bytes in a file, from a copy
    /// of their own, and errors name the path given for them.
    func testBytesInMemoryReadLikeAFile() throws {
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        w.tensors.append(.init(name: "a", dims: [3], floats: [1, 2, 3]))
        w.tensors.append(.init(name: "b", dims: [2, 2], floats: [4, 5, 6, 7]))
        var bytes = w.serialize()
        let fromFile = try GGUFFile(path: try write(bytes))
        let inMemory = try GGUFFile(bytes: bytes, path: "memory.gguf")
        bytes.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) }  // the reader keeps its own copy
        XCTAssertEqual(inMemory.path, "memory.gguf")
        XCTAssertEqual(inMemory.metadata, fromFile.metadata)
        XCTAssertEqual(inMemory.tensorNames, fromFile.tensorNames)
        XCTAssertEqual(inMemory.file.bytes.count, fromFile.file.bytes.count)
        XCTAssertEqual(UInt(bitPattern: inMemory.file.bytes.baseAddress) % 64, 0)
        XCTAssertEqual(Dequantize.tensor(try inMemory.tensor("a")), [1, 2, 3])
        XCTAssertEqual(Dequantize.tensor(try inMemory.tensor("b")), [4, 5, 6, 7])
        XCTAssertThrowsError(try GGUFFile(bytes: fromFile.file.bytes.prefix(10), path: "short.gguf")) { error in
            XCTAssertEqual(error as? GGUFError, .tooSmall(path: "short.gguf", size: 10))
        }
        XCTAssertThrowsError(try GGUFFile(bytes: [UInt8](), path: "empty.gguf")) { error in
            XCTAssertEqual(error as? GGUFError, .tooSmall(path: "empty.gguf", size: 0))
        }
    }

    /// Every metadata value type of the format (GGUFWriter writes only some of them).
    func testAllRawValueTypes() throws {
        var b = Bytes()
        b.header(tensors: 0, kv: 13)
        b.str("u8"); b.u32(0); b.u8(200)
        b.str("i8"); b.u32(1); b.u8(0x9C)  // -100
        b.str("u16"); b.u32(2); b.u8(0x60); b.u8(0xEA)  // 60000
        b.str("i16"); b.u32(3); b.u8(0xD0); b.u8(0x8A)  // -30000
        b.str("u32"); b.u32(4); b.u32(4_000_000_000)
        b.str("i32"); b.u32(5); b.u32(UInt32(bitPattern: -2_000_000_000))
        b.str("f32"); b.u32(6); b.u32(Float(1.5).bitPattern)
        b.str("bool"); b.u32(7); b.u8(1)
        b.str("str"); b.u32(8); b.str("tok")
        b.str("arr"); b.u32(9); b.u32(2); b.u64(3); for v: UInt16 in [1, 2, 65535] { b.u8(UInt8(v & 0xFF)); b.u8(UInt8(v >> 8)) }
        b.str("u64"); b.u32(10); b.u64(.max)
        b.str("i64"); b.u32(11); b.u64(UInt64(bitPattern: -5))
        b.str("f64"); b.u32(12); b.u64(Double(0.1).bitPattern)
        let gguf = try GGUFFile(path: try write(b.bytes))
        let expected: [String: GGUFValue] = [
            "u8": .uint(200), "i8": .int(-100), "u16": .uint(60000), "i16": .int(-30000),
            "u32": .uint(4_000_000_000), "i32": .int(-2_000_000_000), "f32": .float(1.5), "bool": .bool(true),
            "str": .string("tok"), "arr": .array([.uint(1), .uint(2), .uint(65535)]),
            "u64": .uint(.max), "i64": .int(-5), "f64": .float(0.1),
        ]
        XCTAssertEqual(gguf.metadata, expected)
        XCTAssertEqual(gguf.metadataKeys, ["u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64"])
    }

    // MARK: the real default model

    func testRealDefaultModel() throws {
        let path = try TestModel.defaultModelPath()
        let gguf = try GGUFFile(path: path)
        XCTAssertEqual(gguf.tensors.count, 272)
        XCTAssertEqual(gguf.tensorNames.count, 272)
        XCTAssertEqual(try gguf.string("general.architecture"), "llama")
        XCTAssertEqual(try gguf.int("llama.block_count"), 30)

        let embd = try gguf.tensor("token_embd.weight")
        XCTAssertEqual(embd.type, .q8_0)
        XCTAssertEqual(embd.dims, [576, 49152])

        // First row of blk.0.attn_q.weight (Q4_1, 576 x 576), from gguf.quants.dequantize in Python.
        let q = try gguf.tensor("blk.0.attn_q.weight")
        XCTAssertEqual(q.type, .q4_1)
        XCTAssertEqual(q.dims, [576, 576])
        var row = [Float](repeating: 0, count: 576)
        row.withUnsafeMutableBufferPointer { Dequantize.row(.q4_1, q.data.baseAddress!, $0.baseAddress!, count: 576) }
        let expected: [Float] = [-0.0963134765625, 0.1573486328125, -0.0963134765625, -0.73046875,
                                 1.1719970703125, -0.0963134765625, 0.030517578125, 0.6646728515625]
        XCTAssertEqual(Array(row[0..<8]), expected)
        XCTAssertEqual(row.reduce(0, +), 1.00726318359375, accuracy: 1e-3)
        XCTAssertEqual(row.map(abs).max() ?? 0, 1.265625)
        XCTAssertEqual(Array(Dequantize.tensor(q)[0..<576]), row)
    }
}

/// Found by the gguf fuzz target: a file claiming a huge block_count ran the weights loader out of memory (it made
/// room for every layer before looking for the first one's tensors). It now stops at the first missing tensor. The
/// allocation itself shows only under the fuzzer's malloc limit, so the file is also a seed of the gguf target.
final class HugeLayerCountTests: XCTestCase {
    func testAHugeLayerCountFailsAtTheFirstMissingTensor() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "huge-layer-count", withExtension: "gguf", subdirectory: "Fixtures"))
        let file = try GGUFFile(path: url.path)
        let config = try ModelConfig(gguf: file)
        XCTAssertGreaterThan(config.layerCount, 1 << 20, "the file still claims more layers than it could hold")
        XCTAssertThrowsError(try LlamaWeights(gguf: file, config: config)) { error in
            XCTAssertTrue("\(error)".contains("blk."), "\(error)")
        }
    }
}
