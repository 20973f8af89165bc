/// One tensor of a GGUF file: its name, shape (ne[0] is the row length, as in ggml), type and bytes.
public struct GGUFTensor: @unchecked Sendable {
    public let name: String
    /// ggml order: dims[0] is the fastest-varying (row length); dims[1] is the number of rows.
    public let dims: [Int]
    public let type: GGMLType
    /// The tensor's bytes inside the mapped file.
    public let data: UnsafeRawBufferPointer

    public var elementCount: Int { dims.reduce(1, *) }
    public var rowLength: Int { dims[0] }
    public var rowCount: Int { elementCount / dims[0] }
}

/// A parsed, memory-mapped GGUF (v2 or v3) file. Every count, length and offset is checked
/// against the file's size before it is used, so a corrupt file gives a `GGUFError`, never a crash
/// or a huge allocation.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order (for `model info`).
    public let metadataKeys: [String]
    public let tensors: [String: GGUFTensor]
    /// Tensor names in file order.
    public let tensorNames: [String]
    public let file: MappedFile

    public static let magic: UInt32 = 0x4655_4747  // "GGUF" little-endian

    public convenience init(path: String) throws {
        try self.init(mapped: MappedFile(path: path))
    }

    /// Parses GGUF bytes held in memory (copied); `path` names them in error messages.
    public convenience init(bytes: some Collection<UInt8>, path: String) throws {
        let array = Array(bytes)
        let mapped = array.withUnsafeBytes { MappedFile(copying: $0, path: path) }
        try self.init(mapped: mapped)
    }

    public init(mapped: MappedFile) throws {
        file = mapped
        path = mapped.path
        var r = ByteReader(bytes: mapped.bytes, path: path)
        guard mapped.bytes.count >= 24 else { throw GGUFError.tooSmall(path: path, size: mapped.bytes.count) }
        let magic = try r.u32("magic")
        guard magic == Self.magic else {
            let b = withUnsafeBytes(of: magic.littleEndian) { Array($0) }
            let shown = b.allSatisfy { $0 >= 32 && $0 < 127 }
                ? "\"" + String(decoding: b, as: UTF8.self) + "\"" : b.map { String($0, radix: 16) }.joined(separator: " ")
            throw GGUFError.badMagic(path: path, found: shown)
        }
        version = try r.u32("version")
        guard version == 2 || version == 3 else { throw GGUFError.unsupportedVersion(path: path, version: version) }
        let tensorCount = try r.u64("tensor count")
        let kvCount = try r.u64("metadata count")
        // Smallest possible entries: a key/value is 8 (key length) + 4 (type) + 1 byte; a tensor info is 8 + 4 + 8 + 4 + 8.
        guard kvCount <= UInt64(r.remaining / 13) else { throw GGUFError.absurdCount(path: path, what: "metadata entries", count: kvCount) }
        guard tensorCount <= UInt64(r.remaining / 32) else { throw GGUFError.absurdCount(path: path, what: "tensors", count: tensorCount) }

        var meta: [String: GGUFValue] = [:]
        var keys: [String] = []
        for _ in 0..<kvCount {
            let key = try r.string("metadata key")
            let type = try r.u32("type of '\(key)'")
            meta[key] = try r.value(type: type, key: key, depth: 0)
            keys.append(key)
        }
        metadata = meta
        metadataKeys = keys

        struct Info { let name: String; let dims: [Int]; let type: GGMLType; let offset: UInt64 }
        var infos: [Info] = []
        infos.reserveCapacity(Int(min(tensorCount, 1 << 16)))
        var seen = Set<String>()
        for _ in 0..<tensorCount {
            let name = try r.string("tensor name")
            let nDims = try r.u32("dimension count of '\(name)'")
            guard (1...4).contains(nDims) else {
                throw GGUFError.badTensorShape(path: path, tensor: name, reason: "\(nDims) dimensions (1 to 4 allowed)")
            }
            var dims: [Int] = []
            var elements: UInt64 = 1
            for _ in 0..<nDims {
                let d = try r.u64("shape of '\(name)'")
                guard d > 0, d < (1 << 40) else {
                    throw GGUFError.badTensorShape(path: path, tensor: name, reason: "dimension \(d)")
                }
                let (p, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow, p < (1 << 48) else {
                    throw GGUFError.badTensorShape(path: path, tensor: name, reason: "more than 2^48 elements")
                }
                elements = p
                dims.append(Int(d))
            }
            let rawType = try r.u32("type of '\(name)'")
            guard let type = GGMLType(rawValue: rawType), type.isSupportedWeightType else {
                throw GGUFError.unsupportedQuantization(path: path, tensor: name, type: rawType)
            }
            guard dims[0] % type.blockSize == 0 else {
                throw GGUFError.badTensorShape(path: path, tensor: name, reason: "row length \(dims[0]) is not a multiple of \(type)'s block of \(type.blockSize)")
            }
            let offset = try r.u64("offset of '\(name)'")
            guard seen.insert(name).inserted else { throw GGUFError.duplicateTensor(path: path, tensor: name) }
            infos.append(Info(name: name, dims: dims, type: type, offset: offset))
        }

        let alignment = meta["general.alignment"]?.int ?? 32
        guard alignment > 0, alignment <= 1 << 20, alignment & (alignment - 1) == 0 else {
            throw GGUFError.invalidHyperparameter(path: path, key: "general.alignment", reason: "is \(alignment), not a power of two")
        }
        let dataStart = (r.offset + alignment - 1) / alignment * alignment
        let total = mapped.bytes.count
        let dataSize = UInt64(max(0, total - dataStart))
        var table: [String: GGUFTensor] = [:]
        for info in infos {
            let size = UInt64(info.dims.reduce(1, *) / info.type.blockSize * info.type.blockBytes)
            guard info.offset <= dataSize, size <= dataSize - info.offset else {
                throw GGUFError.tensorOutOfBounds(path: path, tensor: info.name, offset: info.offset, size: size, dataSize: dataSize)
            }
            // llama.cpp requires this too; the float kernels may then read F32 data as aligned
            guard info.offset % UInt64(alignment) == 0 else {
                throw GGUFError.badTensorShape(path: path, tensor: info.name, reason: "data offset \(info.offset) is not a multiple of the file's alignment \(alignment)")
            }
            let start = mapped.bytes.baseAddress!.advanced(by: dataStart + Int(info.offset))
            table[info.name] = GGUFTensor(name: info.name, dims: info.dims, type: info.type,
                                          data: UnsafeRawBufferPointer(start: start, count: Int(size)))
        }
        tensors = table
        tensorNames = infos.map(\.name)
    }

    // MARK: typed metadata access

    public func string(_ key: String) throws -> String {
        guard let v = metadata[key]?.string else { throw GGUFError.missingKey(path: path, key: key) }
        return v
    }

    public func int(_ key: String) throws -> Int {
        guard let v = metadata[key]?.int else { throw GGUFError.missingKey(path: path, key: key) }
        return v
    }

    public func double(_ key: String) throws -> Double {
        guard let v = metadata[key]?.double else { throw GGUFError.missingKey(path: path, key: key) }
        return v
    }

    public func stringArray(_ key: String) throws -> [String] {
        guard let a = metadata[key]?.array else { throw GGUFError.missingKey(path: path, key: key) }
        return try a.map {
            guard let s = $0.string else { throw GGUFError.invalidHyperparameter(path: path, key: key, reason: "holds a non-string") }
            return s
        }
    }

    public func intArray(_ key: String) throws -> [Int] {
        guard let a = metadata[key]?.array else { throw GGUFError.missingKey(path: path, key: key) }
        return try a.map {
            guard let i = $0.int else { throw GGUFError.invalidHyperparameter(path: path, key: key, reason: "holds a non-integer") }
            return i
        }
    }

    public func tensor(_ name: String) throws -> GGUFTensor {
        guard let t = tensors[name] else { throw GGUFError.missingTensor(path: path, tensor: name) }
        return t
    }
}

/// A bounds-checked little-endian cursor over the mapped file.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let path: String
    var offset = 0

    var remaining: Int { bytes.count - offset }

    mutating func take(_ n: Int, _ what: String) throws -> UnsafeRawBufferPointer {
        guard n >= 0, n <= remaining else { throw GGUFError.truncated(path: path, what: what, offset: offset) }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n])
    }

    mutating func scalar<T: FixedWidthInteger>(_ type: T.Type, _ what: String) throws -> T {
        let b = try take(MemoryLayout<T>.size, what)
        return T(littleEndian: b.loadUnaligned(as: T.self))
    }

    mutating func u32(_ what: String) throws -> UInt32 { try scalar(UInt32.self, what) }
    mutating func u64(_ what: String) throws -> UInt64 { try scalar(UInt64.self, what) }

    mutating func string(_ what: String) throws -> String {
        let n = try u64("length of \(what)")
        guard n <= UInt64(remaining) else { throw GGUFError.truncated(path: path, what: what, offset: offset) }
        return String(decoding: try take(Int(n), what), as: UTF8.self)
    }

    mutating func value(type: UInt32, key: String, depth: Int) throws -> GGUFValue {
        let what = "value of '\(key)'"
        switch type {
        case 0: return .uint(UInt64(try scalar(UInt8.self, what)))
        case 1: return .int(Int64(try scalar(Int8.self, what)))
        case 2: return .uint(UInt64(try scalar(UInt16.self, what)))
        case 3: return .int(Int64(try scalar(Int16.self, what)))
        case 4: return .uint(UInt64(try scalar(UInt32.self, what)))
        case 5: return .int(Int64(try scalar(Int32.self, what)))
        case 6: return .float(Double(Float(bitPattern: try scalar(UInt32.self, what))))
        case 7: return .bool(try scalar(UInt8.self, what) != 0)
        case 8: return .string(try string(what))
        case 9:
            guard depth == 0 else { throw GGUFError.badValueType(path: path, key: key, type: type) }
            let itemType = try u32("array type of '\(key)'")
            let count = try u64("array length of '\(key)'")
            // Every item takes at least its encoded size, so a count above what the bytes left can
            // hold is a lie; reservations are capped too, since an in-memory item is larger.
            let itemBytes: UInt64 = [0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 8: 8, 10: 8, 11: 8, 12: 8][itemType] ?? 1
            guard count <= UInt64(remaining) / itemBytes else {
                throw GGUFError.absurdCount(path: path, what: "items in '\(key)'", count: count)
            }
            var items: [GGUFValue] = []
            items.reserveCapacity(Int(min(count, 1 << 16)))
            for _ in 0..<count { items.append(try value(type: itemType, key: key, depth: depth + 1)) }
            return .array(items)
        case 10: return .uint(try scalar(UInt64.self, what))
        case 11: return .int(try scalar(Int64.self, what))
        case 12: return .float(Double(bitPattern: try scalar(UInt64.self, what)))
        default: throw GGUFError.badValueType(path: path, key: key, type: type)
        }
    }
}
