import Foundation
import Support

/// The whole state of a training run after some step: the LoRA values, the optimizer's moments,
/// and where in the data the run stands. Written atomically (temporary file, then rename), so a
/// `kill -9` at any moment leaves the previous checkpoint intact.
///
/// File: "HTCK" | u32 version | u64 header length | JSON header | LoRA floats | m floats | v floats | SHA-256 of
/// everything before it, as 64 hex digits (version 2; version 1 files have none and are still read). A damaged
/// file is refused rather than resumed into an adapter of NaNs.
public struct Checkpoint: Equatable {
    public struct Header: Codable, Equatable {
        public var options: TrainingOptions
        /// Steps completed.
        public var step: Int
        public var adamStep: Int
        public var datasetDigest: String
        public var parameterCount: Int
        public var epochLosses: [Double]
        public var epochTokensPerSecond: [Double]
        /// Loss sum and labelled-token count of the epoch in progress.
        public var epochLossSum: Double
        public var epochLabelled: Int
        public var elapsedSeconds: Double
        /// The GGUF the run trains on, so that a resume can load it again (nil in checkpoints written before
        /// it was recorded, and for runs that did not say).
        public var modelPath: String?
        /// Held-out loss after each finished epoch (nil when nothing is held out).
        public var validationLosses: [Double]?
    }

    public var header: Header
    public var lora: [Float]
    public var m: [Float]
    public var v: [Float]

    public static let fileName = "checkpoint.bin"
    static let magic: [UInt8] = Array("HTCK".utf8)
    static let version: UInt32 = 2
    static let digestLength = 64

    public func write(to url: URL) throws {
        var data = Data(Self.magic)
        withUnsafeBytes(of: Self.version.littleEndian) { data.append(contentsOf: $0) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(header)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for array in [lora, m, v] { array.withUnsafeBytes { data.append(contentsOf: $0) } }
        data.append(Data(SHA256.hex(data).utf8))
        try AtomicFile.write(data, to: url, mode: 0o600)
    }

    public static func read(from url: URL) throws -> Checkpoint {
        let path = url.path
        guard let data = FileManager.default.contents(atPath: path) else { throw TrainingError.nothingToResume(path: path) }
        func corrupt(_ why: String) -> TrainingError { .corruptCheckpoint(path: path, reason: why) }
        guard data.count >= 16, Array(data.prefix(4)) == magic else { throw corrupt("not a hellotune checkpoint") }
        let version = UInt32(littleEndian: data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self) })
        guard version == 1 || version == Self.version else { throw corrupt("version \(version), expected \(Self.version)") }
        let trailer = version == 1 ? 0 : Self.digestLength
        let length = Int(UInt64(littleEndian: data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self) }))
        guard length > 0, length <= data.count - 16 - trailer else { throw corrupt("header length \(length) beyond the file") }
        if trailer > 0 {
            let body = data.prefix(data.count - trailer)
            guard SHA256.hex(body) == String(decoding: data.suffix(trailer), as: UTF8.self) else {
                throw corrupt("its SHA-256 does not match what was written: the file was damaged or changed after it was saved")
            }
        }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: data.subdata(in: 16..<(16 + length))) } catch {
            throw corrupt("bad header: \(error)")
        }
        let n = header.parameterCount
        guard n >= 0, data.count == 16 + length + 3 * n * 4 + trailer else {
            throw corrupt("size \(data.count) bytes does not match \(n) parameters")
        }
        func floats(_ k: Int) -> [Float] {
            let start = 16 + length + k * n * 4
            return data.subdata(in: start..<(start + n * 4)).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        let (lora, m, v) = (floats(0), floats(1), floats(2))
        for (name, values) in [("LoRA parameter", lora), ("first moment", m), ("second moment", v)] {
            if let i = values.firstIndex(where: { !$0.isFinite }) { throw corrupt("\(name) \(i) is \(values[i])") }
        }
        return Checkpoint(header: header, lora: lora, m: m, v: v)
    }
}
