import Foundation
import Support

/// Writes GGUF v3 files: the tiny models the tests build, and LoRA adapters that llama.cpp loads.
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

    public var metadata: [(String, GGUFValue)] = []
    public var tensors: [Tensor] = []
    public var alignment = 32

    public init() {}

    public mutating func set(_ key: String, _ value: GGUFValue) {
        metadata.removeAll { $0.0 == key }
        metadata.append((key, value))
    }

    public func serialize() -> [UInt8] {
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
        u64(UInt64(tensors.count))
        var meta = metadata
        if alignment != 32 { meta.append(("general.alignment", .uint(UInt64(alignment)))) }
        u64(UInt64(meta.count))
        for (k, v) in meta {
            str(k)
            u32(typeCode(v))
            value(v)
        }
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            offsets.append(offset)
            offset += (t.bytes.count + alignment - 1) / alignment * alignment
        }
        for (t, off) in zip(tensors, offsets) {
            str(t.name)
            u32(UInt32(t.dims.count))
            t.dims.forEach { u64(UInt64($0)) }
            u32(t.type.rawValue)
            u64(UInt64(off))
        }
        func pad() { while out.count % alignment != 0 { out.append(0) } }
        pad()
        for t in tensors {
            out.append(contentsOf: t.bytes)
            pad()
        }
        return out
    }

    public func write(to url: URL) throws {
        try AtomicFile.write(Data(serialize()), to: url)
    }
}
