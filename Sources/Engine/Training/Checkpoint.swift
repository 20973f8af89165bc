import Foundation
import Support

/// The whole state of a training run after some step: the LoRA values, the optimizer's moments,
/// and where in the data the run stands. Written atomically (temporary file, then rename), so a
/// `kill -9` at any moment leaves the previous checkpoint intact.
///
/// File: "HTCK" | u32 version | u64 header length | JSON header | LoRA floats | m floats | v floats
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
    }

    public var header: Header
    public var lora: [Float]
    public var m: [Float]
    public var v: [Float]

    public static let fileName = "checkpoint.bin"
    static let magic: [UInt8] = Array("HTCK".utf8)
    static let version: UInt32 = 1

    public func write(to url: URL) throws {
        var data = Data(Self.magic)
        withUnsafeBytes(of: Self.version.littleEndian) { data.append(contentsOf: $0) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(header)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for array in [lora, m, v] { array.withUnsafeBytes { data.append(contentsOf: $0) } }
        try AtomicFile.write(data, to: url, mode: 0o600)
    }

    public static func read(from url: URL) throws -> Checkpoint {
        let path = url.path
        guard let data = FileManager.default.contents(atPath: path) else { throw TrainingError.nothingToResume(path: path) }
        func corrupt(_ why: String) -> TrainingError { .corruptCheckpoint(path: path, reason: why) }
        guard data.count >= 16, Array(data.prefix(4)) == magic else { throw corrupt("not a hellotune checkpoint") }
        let version = data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self) }
        guard UInt32(littleEndian: version) == Self.version else { throw corrupt("version \(version), expected \(Self.version)") }
        let length = Int(UInt64(littleEndian: data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self) }))
        guard length > 0, length <= data.count - 16 else { throw corrupt("header length \(length) beyond the file") }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: data.subdata(in: 16..<(16 + length))) } catch {
            throw corrupt("bad header: \(error)")
        }
        let n = header.parameterCount
        guard n >= 0, data.count == 16 + length + 3 * n * 4 else {
            throw corrupt("size \(data.count) bytes does not match \(n) parameters")
        }
        func floats(_ k: Int) -> [Float] {
            let start = 16 + length + k * n * 4
            return data.subdata(in: start..<(start + n * 4)).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        return Checkpoint(header: header, lora: floats(0), m: floats(1), v: floats(2))
    }
}
