import Foundation
import Support

// A minimal reader and writer of Hugging Face's safetensors format, enough for LoRA adapters:
//
//   u64 little-endian N | N bytes of JSON header | data
//
// The header maps each tensor name to {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}
// (offsets relative to the start of the data), plus an optional "__metadata__" of string pairs.
// The writer pads the header with spaces so the data starts at a multiple of 8, as the reference
// implementation does. The reader checks every length and offset against the file before it reads.

/// Element types of the safetensors format. Only the float ones can be read as `Float`.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
    case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8"
    case bool = "BOOL", f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64, .i64, .u64: return 8
        case .f32, .i32, .u32: return 4
        case .f16, .bf16, .i16, .u16: return 2
        case .i8, .u8, .bool, .f8e4m3, .f8e5m2: return 1
        }
    }
}

/// Everything that can be wrong with a safetensors file. Each message names the file (and the
/// tensor, where there is one) and says what to do.
public enum SafetensorsError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case tooSmall(path: String, size: Int)
    case headerOutOfBounds(path: String, headerLength: UInt64, fileSize: Int)
    case badHeader(path: String, reason: String)
    case badTensor(path: String, tensor: String, reason: String)
    case unknownDType(path: String, tensor: String, dtype: String)
    case sizeMismatch(path: String, tensor: String, shape: [Int], dtype: String, expectedBytes: Int, actualBytes: Int)
    case outOfBounds(path: String, tensor: String, begin: Int, end: Int, dataSize: Int)
    case overlap(path: String, tensor: String, other: String)
    case missingTensor(path: String, tensor: String)
    case notFloat(path: String, tensor: String, dtype: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "cannot open safetensors file \(path): \(reason). Check the path and permissions."
        case let .tooSmall(path, size):
            return "\(path) is \(size) bytes, too small to be a safetensors file. The file is truncated; save or download it again."
        case let .headerOutOfBounds(path, headerLength, fileSize):
            return "\(path): the header claims \(headerLength) bytes but the file has only \(fileSize). The file is truncated or not a safetensors file; save or download it again."
        case let .badHeader(path, reason):
            return "\(path): the safetensors header is invalid: \(reason). The file is corrupt; save or download it again."
        case let .badTensor(path, tensor, reason):
            return "\(path): tensor '\(tensor)' has an invalid header entry: \(reason). The file is corrupt; save or download it again."
        case let .unknownDType(path, tensor, dtype):
            return "\(path): tensor '\(tensor)' has unknown dtype '\(dtype)'. The file is corrupt or from an unsupported writer."
        case let .sizeMismatch(path, tensor, shape, dtype, expectedBytes, actualBytes):
            return "\(path): tensor '\(tensor)' of shape \(shape) and dtype \(dtype) needs \(expectedBytes) bytes but its offsets span \(actualBytes). The file is corrupt; save or download it again."
        case let .outOfBounds(path, tensor, begin, end, dataSize):
            return "\(path): tensor '\(tensor)' (bytes \(begin)..<\(end)) lies outside the data section of \(dataSize) bytes. The file is truncated or corrupt; save or download it again."
        case let .overlap(path, tensor, other):
            return "\(path): the data of tensors '\(tensor)' and '\(other)' overlap. The file is corrupt; save or download it again."
        case let .missingTensor(path, tensor):
            return "\(path): tensor '\(tensor)' is missing."
        case let .notFloat(path, tensor, dtype):
            return "\(path): tensor '\(tensor)' is \(dtype); only F32, F16 and BF16 tensors can be read. Convert the file to a float type."
        }
    }
}

/// A tensor to write: its name, shape (row-major, outermost first) and values.
public struct SafetensorsTensor: Sendable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// Writes F32 safetensors files.
public enum SafetensorsWriter {
    /// The file's bytes: tensors in the given order, contiguous, F32 little-endian.
    public static func serialize(_ tensors: [SafetensorsTensor], metadata: [String: String] = [:]) -> Data {
        var names = Set<String>()
        var header = "{"
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(quotedString($0)):\(quotedString(metadata[$0]!))" }
            entries.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for t in tensors {
            precondition(names.insert(t.name).inserted, "SafetensorsWriter: tensor '\(t.name)' appears twice")
            precondition(t.name != "__metadata__", "SafetensorsWriter: '__metadata__' is not a tensor name")
            precondition(t.shape.allSatisfy { $0 >= 0 } && t.shape.reduce(1, *) == t.values.count,
                         "SafetensorsWriter: tensor '\(t.name)' has shape \(t.shape) but \(t.values.count) values")
            let end = offset + t.values.count * 4
            let shape = t.shape.map(String.init).joined(separator: ",")
            entries.append("\(quotedString(t.name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        header += entries.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }

        var out = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: headerBytes)
        for t in tensors {
            if UInt32(1).littleEndian == 1 {
                t.values.withUnsafeBytes { out.append(contentsOf: $0) }
            } else {
                let le = t.values.map { $0.bitPattern.littleEndian }
                le.withUnsafeBytes { out.append(contentsOf: $0) }
            }
        }
        return out
    }

    /// Writes the file atomically (a temporary file renamed over `url`).
    public static func write(_ tensors: [SafetensorsTensor], metadata: [String: String] = [:], to url: URL) throws {
        try AtomicFile.write(serialize(tensors, metadata: metadata), to: url)
    }
}

/// A parsed safetensors file, held in memory (or mapped). Every header entry is validated when
/// the file is opened: offsets in bounds and non-overlapping, shape matching the byte count.
public struct SafetensorsFile: @unchecked Sendable {
    public struct TensorInfo: Sendable, Equatable {
        public let name: String
        public let dtype: SafetensorsDType
        /// Row-major, outermost first (as PyTorch's `shape`).
        public let shape: [Int]
        /// Byte range relative to the start of the data section.
        public let begin: Int
        public let end: Int

        public var elementCount: Int { shape.reduce(1, *) }
    }

    public let path: String
    public let metadata: [String: String]
    public let tensors: [String: TensorInfo]
    /// Tensor names in data order.
    public let tensorNames: [String]
    private let bytes: Data
    private let dataStart: Int

    public init(path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? error.localizedDescription : "no such file"
            throw SafetensorsError.cannotOpen(path: path, reason: reason)
        }
        try self.init(data: data, path: path)
    }

    public init(data: Data, path: String) throws {
        self.path = path
        bytes = data
        guard data.count >= 8 else { throw SafetensorsError.tooSmall(path: path, size: data.count) }
        let n = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard n >= 2, n <= UInt64(data.count - 8) else {
            throw SafetensorsError.headerOutOfBounds(path: path, headerLength: n, fileSize: data.count)
        }
        let headerEnd = 8 + Int(n)
        dataStart = headerEnd
        let dataSize = data.count - headerEnd
        let headerData = data.subdata(in: data.startIndex + 8 ..< data.startIndex + headerEnd)
        guard headerData.first == UInt8(ascii: "{") else {
            throw SafetensorsError.badHeader(path: path, reason: "it does not start with '{'")
        }
        let root: SafetensorsJSONValue
        do {
            root = try JSONDecoder().decode(SafetensorsJSONValue.self, from: headerData)
        } catch {
            throw SafetensorsError.badHeader(path: path, reason: "it is not valid JSON")
        }
        guard case let .object(entries) = root else {
            throw SafetensorsError.badHeader(path: path, reason: "it is not a JSON object")
        }

        var meta: [String: String] = [:]
        var infos: [TensorInfo] = []
        for (name, entry) in entries {
            if name == "__metadata__" {
                guard case let .object(pairs) = entry else {
                    throw SafetensorsError.badHeader(path: path, reason: "__metadata__ is not an object")
                }
                for (k, v) in pairs {
                    guard case let .string(s) = v else {
                        throw SafetensorsError.badHeader(path: path, reason: "__metadata__ value '\(k)' is not a string")
                    }
                    meta[k] = s
                }
                continue
            }
            infos.append(try Self.parseEntry(name: name, entry: entry, path: path, dataSize: dataSize))
        }

        // No two tensors may share bytes (empty tensors take none).
        infos.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var last: TensorInfo?
        for info in infos where info.end > info.begin {
            if let prev = last, info.begin < prev.end {
                throw SafetensorsError.overlap(path: path, tensor: info.name, other: prev.name)
            }
            last = info
        }
        metadata = meta
        tensors = Dictionary(uniqueKeysWithValues: infos.map { ($0.name, $0) })
        tensorNames = infos.map(\.name)
    }

    private static func parseEntry(name: String, entry: SafetensorsJSONValue, path: String, dataSize: Int) throws -> TensorInfo {
        func bad(_ reason: String) -> SafetensorsError { .badTensor(path: path, tensor: name, reason: reason) }
        guard case let .object(fields) = entry else { throw bad("it is not an object") }
        guard case let .string(dtypeName)? = fields["dtype"] else { throw bad("no \"dtype\" string") }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw SafetensorsError.unknownDType(path: path, tensor: name, dtype: dtypeName)
        }
        func ints(_ key: String) throws -> [Int] {
            guard case let .array(items)? = fields[key] else { throw bad("no \"\(key)\" array") }
            return try items.map {
                guard case let .int(v) = $0, v >= 0, v < 1 << 48 else { throw bad("\"\(key)\" holds \($0), not a non-negative integer") }
                return Int(v)
            }
        }
        let shape = try ints("shape")
        let offsets = try ints("data_offsets")
        guard offsets.count == 2 else { throw bad("\"data_offsets\" has \(offsets.count) items, expected 2") }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end, end <= dataSize else {
            throw SafetensorsError.outOfBounds(path: path, tensor: name, begin: begin, end: end, dataSize: dataSize)
        }
        var elements = 1
        for d in shape {
            let (p, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow, p < 1 << 48 else { throw bad("shape \(shape) has too many elements") }
            elements = p
        }
        guard elements * dtype.size == end - begin else {
            throw SafetensorsError.sizeMismatch(path: path, tensor: name, shape: shape, dtype: dtypeName,
                                                expectedBytes: elements * dtype.size, actualBytes: end - begin)
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    public func info(_ name: String) throws -> TensorInfo {
        guard let t = tensors[name] else { throw SafetensorsError.missingTensor(path: path, tensor: name) }
        return t
    }

    /// A float tensor's values, row-major, converted to Float (F16 and BF16 exactly).
    public func floats(_ name: String) throws -> [Float] {
        let t = try info(name)
        let count = t.elementCount
        guard count > 0 else { return [] }
        let start = dataStart + t.begin
        return try bytes.withUnsafeBytes { raw -> [Float] in
            let src = UnsafeRawBufferPointer(rebasing: raw[start ..< dataStart + t.end])
            switch t.dtype {
            case .f32:
                return (0..<count).map { Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            case .f16:
                return (0..<count).map { halfToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
            case .bf16:
                return (0..<count).map { bf16ToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
            default:
                throw SafetensorsError.notFloat(path: path, tensor: name, dtype: t.dtype.rawValue)
            }
        }
    }
}

/// Just enough JSON to read safetensors headers and PEFT configs with exact integers.
enum SafetensorsJSONValue: Decodable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int64)
    case number(Double)
    case string(String)
    case array([SafetensorsJSONValue])
    case object([String: SafetensorsJSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let i = try? c.decode(Int64.self) { self = .int(i); return }
        if let d = try? c.decode(Double.self) { self = .number(d); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([SafetensorsJSONValue].self) { self = .array(a); return }
        self = .object(try c.decode([String: SafetensorsJSONValue].self))
    }

    var double: Double? {
        switch self {
        case let .int(i): return Double(i)
        case let .number(d): return d
        default: return nil
        }
    }

    var description: String {
        switch self {
        case .null: return "null"
        case let .bool(b): return String(b)
        case let .int(i): return String(i)
        case let .number(d): return String(d)
        case let .string(s): return "\"\(s)\""
        case let .array(a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .object: return "an object"
        }
    }
}
