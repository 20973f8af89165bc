import Foundation
import TestSupport
import XCTest
import ModelCore

/// Golden tests for Dequantize against Fixtures/quant_golden.json, whose values come from the
/// reference implementation (scripts/fixtures/make_quant_fixtures.py, Python `gguf` package).
final class DequantizeTests: XCTestCase {
    struct Fixture: Decodable {
        let seed: UInt64
        let blocks: Int
        let bytes_hex: String
        let values: [Double]

        var bytes: [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(bytes_hex.utf8.count / 2)
            var high: UInt8?
            for c in bytes_hex.utf8 {
                let nibble = c <= 57 ? c - 48 : (c | 0x20) - 87
                if let h = high { out.append(h << 4 | nibble); high = nil } else { high = nibble }
            }
            return out
        }
    }

    static let weightTypes: [GGMLType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K]

    static let fixtures: [String: Fixture] = {
        guard let url = Bundle.module.url(forResource: "quant_golden", withExtension: "json", subdirectory: "Fixtures"),
              let data = try? Data(contentsOf: url),
              let decoded = try? JSONDecoder().decode([String: Fixture].self, from: data)
        else { return [:] }
        return decoded
    }()

    private func fixture(_ type: GGMLType) throws -> Fixture {
        try XCTUnwrap(Self.fixtures[type.description], "Fixtures/quant_golden.json has no \(type); run scripts/fixtures/make_quant_fixtures.py")
    }

    func testFixturesCoverEveryWeightType() {
        XCTAssertEqual(Set(Self.fixtures.keys), Set(Self.weightTypes.map(\.description)))
        XCTAssertEqual(Set(Self.weightTypes.map(\.description)),
                       Set(GGMLType.allCases.filter(\.isSupportedWeightType).map(\.description)))
    }

    // MARK: golden values, through a GGUF file

    /// Writes the fixture's bytes as a tensor of a GGUF file, reads it back and dequantises it.
    private func checkGolden(_ type: GGMLType, file: StaticString = #filePath, line: UInt = #line) throws {
        let fx = try fixture(type)
        let bytes = fx.bytes
        let count = fx.values.count
        XCTAssertEqual(bytes.count, count / type.blockSize * type.blockBytes, "fixture size", file: file, line: line)
        let rows = type.blockSize == 256 ? 2 : 4
        let rowLength = count / rows

        var writer = GGUFWriter()
        writer.set("general.architecture", .string("test"))
        // A first tensor, so that the one under test does not sit at data offset 0.
        writer.tensors.append(.init(name: "pad", dims: [3], floats: [1, 2, 3]))
        writer.tensors.append(.init(name: "w", dims: [rowLength, rows], type: type, bytes: bytes))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hellotune-dequant-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("\(type).gguf")
        try writer.write(to: url)

        let gguf = try GGUFFile(path: url.path)
        let t = try gguf.tensor("w")
        XCTAssertEqual(t.type, type, file: file, line: line)
        XCTAssertEqual(t.dims, [rowLength, rows], file: file, line: line)
        XCTAssertEqual(t.rowCount, rows, file: file, line: line)
        let got = Dequantize.tensor(t)
        XCTAssertEqual(got.count, count, file: file, line: line)
        guard got.count == count else { return }

        let exact = type == .f32 || type == .f16 || type == .bf16
        var failures = 0
        for i in 0..<count {
            let want = Float(fx.values[i])
            let ok = exact ? got[i].bitPattern == want.bitPattern
                           : abs(got[i] - want) <= 1e-6 * max(1, abs(want))
            if !ok {
                failures += 1
                if failures <= 5 {
                    XCTFail("\(type) element \(i) (block \(i / type.blockSize)): got \(got[i]), want \(want)", file: file, line: line)
                }
            }
        }
        XCTAssertEqual(failures, 0, "\(type): \(failures) of \(count) elements differ", file: file, line: line)

        // Row by row into a buffer gives the same as the whole tensor.
        let rowBytes = try XCTUnwrap(type.rowBytes(rowLength))
        var byRow = [Float](repeating: .nan, count: count)
        byRow.withUnsafeMutableBufferPointer { dst in
            for r in 0..<rows {
                Dequantize.row(type, t.data.baseAddress! + r * rowBytes, dst.baseAddress! + r * rowLength, count: rowLength)
            }
        }
        XCTAssertEqual(byRow.map(\.bitPattern), got.map(\.bitPattern), "row by row", file: file, line: line)
    }

    func testF32() throws { try checkGolden(.f32) }
    func testF16() throws { try checkGolden(.f16) }
    func testBF16() throws { try checkGolden(.bf16) }
    func testQ4_0() throws { try checkGolden(.q4_0) }
    func testQ4_1() throws { try checkGolden(.q4_1) }
    func testQ5_0() throws { try checkGolden(.q5_0) }
    func testQ5_1() throws { try checkGolden(.q5_1) }
    func testQ8_0() throws { try checkGolden(.q8_0) }
    func testQ2_K() throws { try checkGolden(.q2_K) }
    func testQ3_K() throws { try checkGolden(.q3_K) }
    func testQ4_K() throws { try checkGolden(.q4_K) }
    func testQ5_K() throws { try checkGolden(.q5_K) }
    func testQ6_K() throws { try checkGolden(.q6_K) }

    /// Dequantize.row must not need aligned input: the same block at an odd address gives the same floats.
    func testUnalignedSource() throws {
        for type in Self.weightTypes {
            let fx = try fixture(type)
            let bytes = fx.bytes
            let n = type.blockSize == 1 ? 8 : type.blockSize
            let nBytes = try XCTUnwrap(type.rowBytes(n))
            var shifted = [UInt8](repeating: 0, count: nBytes + 1)
            shifted.replaceSubrange(1..., with: bytes[0..<nBytes])
            var got = [Float](repeating: 0, count: n)
            shifted.withUnsafeBytes { src in
                got.withUnsafeMutableBufferPointer { Dequantize.row(type, src.baseAddress! + 1, $0.baseAddress!, count: n) }
            }
            for i in 0..<n {
                XCTAssertEqual(got[i], Float(fx.values[i]), accuracy: 1e-6 * max(1, abs(Float(fx.values[i]))), "\(type) element \(i)")
            }
        }
    }

    /// The fixture bytes follow the recipe documented in make_quant_fixtures.py, so other tests
    /// (and other languages) can rebuild them from SplitMix64 alone.
    func testFixtureBytesFollowTheDocumentedGenerator() throws {
        for type in Self.weightTypes {
            let fx = try fixture(type)
            XCTAssertEqual(fx.seed, 1000 + UInt64(type.rawValue), "\(type) seed")
            var rng = SplitMix64(seed: fx.seed)
            let total = fx.blocks * type.blockBytes
            var bytes: [UInt8] = []
            while bytes.count < total {
                withUnsafeBytes(of: rng.next().littleEndian) { bytes.append(contentsOf: $0) }
            }
            bytes.removeLast(bytes.count - total)

            func putHalf(_ v: Float, at offset: Int) {
                let h = floatToHalf(v)
                bytes[offset] = UInt8(h & 0xFF)
                bytes[offset + 1] = UInt8(h >> 8)
            }
            func word16(_ i: Int) -> UInt16 { UInt16(bytes[2 * i]) | UInt16(bytes[2 * i + 1]) << 8 }
            func setWord16(_ i: Int, _ w: UInt16) { bytes[2 * i] = UInt8(w & 0xFF); bytes[2 * i + 1] = UInt8(w >> 8) }

            switch type {
            case .f32:
                for i in 0..<total / 4 {
                    var w = UInt32(bytes[4 * i]) | UInt32(bytes[4 * i + 1]) << 8 | UInt32(bytes[4 * i + 2]) << 16 | UInt32(bytes[4 * i + 3]) << 24
                    if w & 0x7F80_0000 == 0x7F80_0000 { w ^= 0x4000_0000 }
                    for k in 0..<4 { bytes[4 * i + k] = UInt8(truncatingIfNeeded: w >> (8 * k)) }
                }
            case .f16, .bf16:
                let mask: UInt16 = type == .f16 ? 0x7C00 : 0x7F80
                for i in 0..<total / 2 where word16(i) & mask == mask { setWord16(i, word16(i) ^ 0x4000) }
            default:
                // Byte offsets of the f16 fields in a block: (offset, isMin).
                let fields: [(Int, Bool)]
                switch type {
                case .q4_0, .q5_0, .q8_0: fields = [(0, false)]
                case .q4_1, .q5_1, .q4_K, .q5_K: fields = [(0, false), (2, true)]
                case .q2_K: fields = [(80, false), (82, true)]
                case .q3_K: fields = [(108, false)]
                case .q6_K: fields = [(208, false)]
                default: fields = []
                }
                for b in 0..<fx.blocks {
                    for (offset, isMin) in fields {
                        let u = rng.nextFloat()
                        putHalf(isMin ? 0.01 + u * 0.09 : (u * 2 - 1) * 0.1, at: b * type.blockBytes + offset)
                    }
                }
            }
            XCTAssertEqual(bytes, fx.bytes, "\(type): bytes differ from the documented generator")
        }
    }

    func testSplitMix64MatchesReference() {
        // First outputs of Vigna's splitmix64.c (and of the Python copy in make_quant_fixtures.py).
        var r0 = SplitMix64(seed: 0)
        XCTAssertEqual([r0.next(), r0.next(), r0.next()], [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F])
        var r1 = SplitMix64(seed: 1_234_567)
        XCTAssertEqual([r1.next(), r1.next(), r1.next()], [6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423])
        var r2 = SplitMix64(seed: 42)
        XCTAssertEqual([r2.nextFloat(), r2.nextFloat(), r2.nextFloat()], [0.7415648698806763, 0.1599103808403015, 0.27860110998153687])
        var r3 = SplitMix64(seed: 7)
        for _ in 0..<10_000 {
            let f = r3.nextFloat()
            XCTAssert(f >= 0 && f < 1)
        }
    }

    // MARK: half and bfloat16

    func testHalfToFloatSpecialValues() {
        XCTAssertEqual(halfToFloat(0x0000).bitPattern, Float(0).bitPattern)
        XCTAssertEqual(halfToFloat(0x8000).bitPattern, (-Float(0)).bitPattern)
        XCTAssertEqual(halfToFloat(0x3C00), 1)
        XCTAssertEqual(halfToFloat(0xC000), -2)
        XCTAssertEqual(halfToFloat(0x3555), 0.333251953125)
        XCTAssertEqual(halfToFloat(0x7BFF), 65504)                // largest finite
        XCTAssertEqual(halfToFloat(0x0400), 0x1p-14)              // smallest normal
        XCTAssertEqual(halfToFloat(0x03FF), 0x1.ff8p-15)          // largest subnormal
        XCTAssertEqual(halfToFloat(0x0001), 0x1p-24)              // smallest subnormal
        XCTAssertEqual(halfToFloat(0x8001), -0x1p-24)
        XCTAssertEqual(halfToFloat(0x7C00), .infinity)
        XCTAssertEqual(halfToFloat(0xFC00), -.infinity)
        XCTAssertTrue(halfToFloat(0x7E00).isNaN)
        XCTAssertTrue(halfToFloat(0x7C01).isNaN)                  // signalling NaN stays NaN
        XCTAssertTrue(halfToFloat(0xFE00).isNaN)
    }

    /// Every half converts to a Float and back to the same bits (NaNs: to a NaN).
    func testHalfRoundTripsAllBitPatterns() {
        for h in 0...UInt16.max {
            let f = halfToFloat(h)
            let back = floatToHalf(f)
            if h & 0x7C00 == 0x7C00 && h & 0x03FF != 0 {
                XCTAssertTrue(f.isNaN, "\(h)")
                XCTAssertTrue(halfToFloat(back).isNaN, "\(h)")
                XCTAssertEqual(back & 0x8000, h & 0x8000, "NaN sign of \(h)")
            } else if back != h {
                XCTFail("half \(String(h, radix: 16)) -> \(f) -> \(String(back, radix: 16))")
            }
        }
    }

    func testFloatToHalfRounding() {
        XCTAssertEqual(floatToHalf(1), 0x3C00)
        XCTAssertEqual(floatToHalf(-0.0), 0x8000)
        XCTAssertEqual(floatToHalf(65504), 0x7BFF)
        XCTAssertEqual(floatToHalf(65519.996), 0x7BFF)            // just below the rounding boundary
        XCTAssertEqual(floatToHalf(65520), 0x7C00)                // ties to even: overflows to infinity
        XCTAssertEqual(floatToHalf(1e10), 0x7C00)
        XCTAssertEqual(floatToHalf(-1e10), 0xFC00)
        XCTAssertEqual(floatToHalf(.infinity), 0x7C00)
        XCTAssertEqual(floatToHalf(-.infinity), 0xFC00)
        XCTAssertTrue(halfToFloat(floatToHalf(.nan)).isNaN)
        XCTAssertTrue(halfToFloat(floatToHalf(Float(bitPattern: 0x7F80_0001))).isNaN)  // payload only in low bits
        // Ties to even between 1 and the next half (1 + 2^-10).
        XCTAssertEqual(floatToHalf(1 + 0x1p-11), 0x3C00)
        XCTAssertEqual(floatToHalf(1 + 0x1p-11 + 0x1p-20), 0x3C01)
        XCTAssertEqual(floatToHalf(1 + 3 * 0x1p-11), 0x3C02)
        // Mantissa carry into the exponent.
        XCTAssertEqual(floatToHalf(Float(bitPattern: 0x3FFF_FFFF)), 0x4000)
        // Subnormals: exact, ties to even, and underflow.
        XCTAssertEqual(floatToHalf(0x1p-24), 0x0001)
        XCTAssertEqual(floatToHalf(0x1p-25), 0x0000)              // tie between 0 and the smallest: even is 0
        XCTAssertEqual(floatToHalf(0x1.000002p-25), 0x0001)       // just above the tie
        XCTAssertEqual(floatToHalf(3 * 0x1p-25), 0x0002)          // tie between 1 and 2: even is 2
        XCTAssertEqual(floatToHalf(-0x1p-26), 0x8000)
        XCTAssertEqual(floatToHalf(0x1.ffcp-15), 0x0400)          // rounds up out of the subnormals
        XCTAssertEqual(floatToHalf(Float.leastNonzeroMagnitude), 0x0000)
        XCTAssertEqual(floatToHalf(-Float.leastNormalMagnitude), 0x8000)
    }

    /// floatToHalf agrees with exact round-to-nearest-even on random floats across the half range.
    func testFloatToHalfMatchesNearest() {
        var rng = SplitMix64(seed: 99)
        for _ in 0..<100_000 {
            // Exponents from below the subnormals to above the largest half.
            let exponent = UInt32(rng.next() % 48) + 127 - 27
            let bits = UInt32(rng.next() & 0x807F_FFFF) | exponent << 23
            let f = Float(bitPattern: bits)
            let h = floatToHalf(f)
            let got = halfToFloat(h)
            if got.isInfinite {
                XCTAssertGreaterThanOrEqual(abs(f), 65520, "\(f)")
                continue
            }
            // No other half is closer, and on a tie the even one wins.
            let err = abs(Double(got) - Double(f))
            for neighbour in [h &- 1, h &+ 1] where neighbour & 0x7FFF < 0x7C00 && neighbour & 0x8000 == h & 0x8000 {
                let other = abs(Double(halfToFloat(neighbour)) - Double(f))
                XCTAssertTrue(err < other || (err == other && h & 1 == 0), "\(f) -> \(String(h, radix: 16))")
            }
        }
    }

    func testBF16ToFloat() {
        XCTAssertEqual(bf16ToFloat(0x3F80), 1)
        XCTAssertEqual(bf16ToFloat(0xC040), -3)
        XCTAssertEqual(bf16ToFloat(0x0001), Float(bitPattern: 0x0001_0000))  // subnormal
        XCTAssertEqual(bf16ToFloat(0x8000).bitPattern, (-Float(0)).bitPattern)
        XCTAssertEqual(bf16ToFloat(0x7F80), .infinity)
        XCTAssertEqual(bf16ToFloat(0xFF80), -.infinity)
        XCTAssertTrue(bf16ToFloat(0x7FC0).isNaN)
        for b in stride(from: 0, through: 0xFFFF, by: 1) {
            XCTAssertEqual(bf16ToFloat(UInt16(b)).bitPattern >> 16, UInt32(b))
        }
    }
}
