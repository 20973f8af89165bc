import Foundation
import Support

/// Writes GGUF v3 files: the tiny models the tests build, LoRA adapters that llama.cpp loads, and merged models.
/// The file is written to a temporary name and renamed, so a crash never leaves half a model.
public struct GGUFWriter {
    public struct Tensor {
        public var name: String
        /// ggml order: dims[0] is the row length.
        public var dims: [Int]
        public var type: GGMLType
        public var bytes: [UInt8]

        public init(name: String, dims: [Int], type: GGMLType, bytes: [UInt8]) {
            self.name = name
            self.dims = dims
            self.type = type
            self.bytes = bytes
        }

        public init(name: String, dims: [Int], floats: [Float]) {
            self.init(name: name, dims: dims, type: .f32, bytes: floats.withUnsafeBytes { Array($0) })
        }
    }

    /// A tensor whose bytes are made only when the file is written, so a whole model never sits in memory
    /// at once. `make` must return exactly the bytes `dims` and `type` call for.
    public struct PendingTensor {
        public var name: String
        /// ggml order: dims[0] is the row length.
        public var dims: [Int]
        public var type: GGMLType
        public var make: () throws -> [UInt8]

        public init(name: String, dims: [Int], type: GGMLType, make: @escaping () throws -> [UInt8]) {
            self.name = name
            self.dims = dims
            self.type = type
            self.make = make
        }

        public var byteCount: Int { dims.reduce(1, *) / type.blockSize * type.blockBytes }
    }

    /// A metadata value kept as its type code and encoded bytes, exactly as another GGUF file holds it:
    /// `GGUFValue` folds u8...u64 into one case and f32/f64 into another, and llama.cpp checks the exact
    /// type of keys such as `llama.context_length` (u32) and `tokenizer.ggml.token_type` (i32 array).
    public struct RawValue: Sendable, Equatable {
        public var type: UInt32
        public var bytes: [UInt8]

        public init(type: UInt32, bytes: [UInt8]) {
            self.type = type
            self.bytes = bytes
        }

        /// A u32 value (GGUF type 4), as llama.cpp expects for `general.file_type`.
        public static func uint32(_ v: UInt32) -> RawValue {
            RawValue(type: 4, bytes: withUnsafeBytes(of: v.littleEndian) { Array($0) })
        }
    }

    /// Written first, in order, then `metadata`.
    public var rawMetadata: [(String, RawValue)] = []
    public var metadata: [(String, GGUFValue)] = []
    public var tensors: [Tensor] = []
    public var alignment = 32

    public init() {}

    public mutating func set(_ key: String, _ value: GGUFValue) {
        rawMetadata.removeAll { $0.0 == key }
        metadata.removeAll { $0.0 == key }
        metadata.append((key, value))
    }

    public mutating func setRaw(_ key: String, _ value: RawValue) {
        metadata.removeAll { $0.0 == key }
        rawMetadata.removeAll { $0.0 == key }
        rawMetadata.append((key, value))
    }

    public func serialize() -> [UInt8] {
        var out = header(tensors.map { Info(name: $0.name, dims: $0.dims, type: $0.type, byteCount: $0.bytes.count) })
        for t in tensors {
            out.append(contentsOf: t.bytes)
            out.append(contentsOf: padding(after: t.bytes.count))
        }
        return out
    }

    public func write(to url: URL) throws {
        try AtomicFile.write(Data(serialize()), to: url)
    }

    /// Writes `tensors`, then `pending` (each made only when its turn comes), streaming to disk.
    public func write(to url: URL, pending: [PendingTensor]) throws {
        let infos = tensors.map { Info(name: $0.name, dims: $0.dims, type: $0.type, byteCount: $0.bytes.count) }
            + pending.map { Info(name: $0.name, dims: $0.dims, type: $0.type, byteCount: $0.byteCount) }
        try AtomicFile.write(to: url) { emit in
            try header(infos).withUnsafeBytes { try emit($0) }
            for t in tensors {
                try t.bytes.withUnsafeBytes { try emit($0) }
                try padding(after: t.bytes.count).withUnsafeBytes { try emit($0) }
            }
            for p in pending {
                let bytes = try p.make()
                precondition(bytes.count == p.byteCount, "GGUFWriter: '\(p.name)' made \(bytes.count) bytes, its shape and type call for \(p.byteCount)")
                try bytes.withUnsafeBytes { try emit($0) }
                try padding(after: bytes.count).withUnsafeBytes { try emit($0) }
            }
        }
    }

    private func padding(after count: Int) -> [UInt8] {
        [UInt8](repeating: 0, count: (alignment - count % alignment) % alignment)
    }

    private struct Info {
        var name: String
        var dims: [Int]
        var type: GGMLType
        var byteCount: Int
    }

    /// Everything before the first tensor's data, padded to the alignment.
    private func header(_ infos: [Info]) -> [UInt8] {
        var out: [UInt8] = []
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func str(_ s: String) { let b = Array(s.utf8); u64(UInt64(b.count)); out.append(contentsOf: b) }
        func typeCode(_ v: GGUFValue) -> UInt32 {
            switch v {
            case .uint: return 10
            case .int: return 11
            case .float: return 6
            case .bool: return 7
            case .string: return 8
            case .array: return 9
            }
        }
        func value(_ v: GGUFValue) {
            switch v {
            case let .uint(x): u64(x)
            case let .int(x): u64(UInt64(bitPattern: x))
            case let .float(x): u32(Float(x).bitPattern)
            case let .bool(b): out.append(b ? 1 : 0)
            case let .string(s): str(s)
            case let .array(items):
                u32(items.first.map(typeCode) ?? 4)
                u64(UInt64(items.count))
                items.forEach(value)
            }
        }
        u32(GGUFFile.magic)
        u32(3)
        u64(UInt64(infos.count))
        var meta = metadata
        if alignment != 32 { meta.append(("general.alignment", .uint(UInt64(alignment)))) }
        u64(UInt64(rawMetadata.count + meta.count))
        for (k, v) in rawMetadata {
            str(k)
            u32(v.type)
            out.append(contentsOf: v.bytes)
        }
        for (k, v) in meta {
            str(k)
            u32(typeCode(v))
            value(v)
        }
        var offset = 0
        for t in infos {
            str(t.name)
            u32(UInt32(t.dims.count))
            t.dims.forEach { u64(UInt64($0)) }
            u32(t.type.rawValue)
            u64(UInt64(offset))
            offset += (t.byteCount + alignment - 1) / alignment * alignment
        }
        out.append(contentsOf: padding(after: out.count))
        return out
    }
}
