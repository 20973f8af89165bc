// Reference dequantisation of every weight type hellotune reads. This is the correctness path
// (golden tests, loading small tensors such as norms and embeddings rows); it follows ggml's
// dequantize_row_* in ggml-quants.c operation for operation, so results are bit-identical.
//
// All multi-byte fields are little-endian and may be unaligned; the block layouts are given as
// C structs in the comment above each function (ggml_half is an IEEE binary16).

public enum Dequantize {
    /// Turns `count` elements (a whole number of blocks) of `type` at `src` into floats at `dst`.
    public static func row(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count % type.blockSize == 0, "Dequantize.row: \(count) elements is not a whole number of \(type) blocks")
        let blocks = count / type.blockSize
        switch type {
        case .f32: f32(src, dst, count)
        case .f16: f16(src, dst, count)
        case .bf16: bf16(src, dst, count)
        case .q4_0: q4_0(src, dst, blocks)
        case .q4_1: q4_1(src, dst, blocks)
        case .q5_0: q5_0(src, dst, blocks)
        case .q5_1: q5_1(src, dst, blocks)
        case .q8_0: q8_0(src, dst, blocks)
        case .q2_K: q2_K(src, dst, blocks)
        case .q3_K: q3_K(src, dst, blocks)
        case .q4_K: q4_K(src, dst, blocks)
        case .q5_K: q5_K(src, dst, blocks)
        case .q6_K: q6_K(src, dst, blocks)
        case .q8_1, .q8_K:
            // GGUFFile rejects these when it loads a model, so reaching this is a programming error.
            fatalError("Dequantize.row: \(type) is an activation format, not a weight type")
        }
    }

    /// A whole tensor as floats, row-major (rowCount x rowLength).
    public static func tensor(_ t: GGUFTensor) -> [Float] {
        let count = t.elementCount
        precondition(t.data.count == count / t.type.blockSize * t.type.blockBytes, "Dequantize.tensor: '\(t.name)' has the wrong byte count")
        guard count > 0, let base = t.data.baseAddress else { return [] }
        // Rows are contiguous and each is a whole number of blocks, so the tensor is one long run of blocks.
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            row(t.type, base, buffer.baseAddress!, count: count)
            initialized = count
        }
    }

    // MARK: helpers

    @inline(__always)
    private static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        halfToFloat(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    @inline(__always)
    private static func bytes(_ p: UnsafeRawPointer, _ offset: Int) -> UnsafePointer<UInt8> {
        (p + offset).assumingMemoryBound(to: UInt8.self)
    }

    // MARK: unquantised

    /// F32: 4 bytes per element.
    private static func f32(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: n * 4)
    }

    /// F16: 2 bytes (ggml_half) per element.
    private static func f16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { dst[i] = half(src, 2 * i) }
    }

    /// BF16: 2 bytes per element, the top half of a float.
    private static func bf16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n {
            dst[i] = bf16ToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        }
    }

    // MARK: 32-element blocks

    /// Q4_0, 18 bytes per 32 elements:
    ///     struct { ggml_half d; uint8_t qs[16]; }
    /// y[j] = d * ((qs[j] & 0xF) - 8), y[j+16] = d * ((qs[j] >> 4) - 8).
    private static func q4_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let block = src + b * 18
            let y = dst + b * 32
            let d = half(block, 0)
            let qs = bytes(block, 2)
            for j in 0..<16 {
                y[j] = Float(Int32(qs[j] & 0x0F) - 8) * d
                y[j + 16] = Float(Int32(qs[j] >> 4) - 8) * d
            }
        }
    }

    /// Q4_1, 20 bytes per 32 elements:
    ///     struct { ggml_half d; ggml_half m; uint8_t qs[16]; }
    /// y[j] = d * (qs[j] & 0xF) + m, y[j+16] = d * (qs[j] >> 4) + m.
    private static func q4_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let block = src + b * 20
            let y = dst + b * 32
            let d = half(block, 0)
            let m = half(block, 2)
            let qs = bytes(block, 4)
            for j in 0..<16 {
                y[j] = Float(qs[j] & 0x0F) * d + m
                y[j + 16] = Float(qs[j] >> 4) * d + m
            }
        }
    }

    /// Q5_0, 22 bytes per 32 elements:
    ///     struct { ggml_half d; uint8_t qh[4]; uint8_t qs[16]; }
    /// qh is a little-endian uint32 holding the fifth bit of element j in bit j.
    /// y[j] = d * ((qs[j] & 0xF | bit j << 4) - 16), y[j+16] = d * ((qs[j] >> 4 | bit j+16 << 4) - 16).
    private static func q5_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let block = src + b * 22
            let y = dst + b * 32
            let d = half(block, 0)
            let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            let qs = bytes(block, 6)
            for j in 0..<16 {
                let high0 = Int32(((qh >> UInt32(j)) << 4) & 0x10)
                let high1 = Int32((qh >> UInt32(j + 12)) & 0x10)
                y[j] = Float((Int32(qs[j] & 0x0F) | high0) - 16) * d
                y[j + 16] = Float((Int32(qs[j] >> 4) | high1) - 16) * d
            }
        }
    }

    /// Q5_1, 24 bytes per 32 elements:
    ///     struct { ggml_half d; ggml_half m; uint8_t qh[4]; uint8_t qs[16]; }
    /// As Q5_0 but unsigned with an offset: y = d * q + m.
    private static func q5_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let block = src + b * 24
            let y = dst + b * 32
            let d = half(block, 0)
            let m = half(block, 2)
            let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            let qs = bytes(block, 8)
            for j in 0..<16 {
                let high0 = ((qh >> UInt32(j)) << 4) & 0x10
                let high1 = (qh >> UInt32(j + 12)) & 0x10
                y[j] = Float(UInt32(qs[j] & 0x0F) | high0) * d + m
                y[j + 16] = Float(UInt32(qs[j] >> 4) | high1) * d + m
            }
        }
    }

    /// Q8_0, 34 bytes per 32 elements:
    ///     struct { ggml_half d; int8_t qs[32]; }
    /// y[j] = qs[j] * d.
    private static func q8_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let block = src + b * 34
            let y = dst + b * 32
            let d = half(block, 0)
            let qs = bytes(block, 2)
            for j in 0..<32 {
                y[j] = Float(Int8(bitPattern: qs[j])) * d
            }
        }
    }

    // MARK: K-quants (256-element super-blocks)

    /// Q2_K, 84 bytes per 256 elements:
    ///     struct { uint8_t scales[16]; uint8_t qs[64]; ggml_half d; ggml_half dmin; }
    /// 16 sub-blocks of 16 elements; scales[i] holds the sub-block's scale (low nibble, times d)
    /// and min (high nibble, times dmin). Each 128-element half uses 32 bytes of qs: its four
    /// 32-element groups are the 2-bit fields at shifts 0, 2, 4, 6 of those bytes.
    private static func q2_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let block = src + b * 84
            var y = dst + b * 256
            let scales = bytes(block, 0)
            var q = bytes(block, 16)
            let d = half(block, 80)
            let dmin = half(block, 82)
            var s = 0
            for _ in 0..<2 {
                for shift in stride(from: UInt8(0), to: 8, by: 2) {
                    for part in 0..<2 {
                        let sc = scales[s]
                        s += 1
                        let dl = d * Float(sc & 0x0F)
                        let ml = dmin * Float(sc >> 4)
                        for l in 0..<16 {
                            y[l] = dl * Float((q[part * 16 + l] >> shift) & 3) - ml
                        }
                        y += 16
                    }
                }
                q += 32
            }
        }
    }

    /// Q3_K, 110 bytes per 256 elements:
    ///     struct { uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; ggml_half d; }
    /// 16 sub-blocks of 16 elements with signed 6-bit scales (stored minus 32): scale i has its low
    /// 4 bits in scales[i % 8] >> (4 * (i / 8)) and its high 2 bits in scales[8 + i % 4] >> (2 * (i / 4)).
    /// The low 2 bits of each quant are laid out as in Q2_K; the third bit is in hmask (bit k of
    /// hmask[l] for the k-th 32-element group, l = position in group), and a clear bit subtracts 4.
    private static func q3_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let block = src + b * 110
            var y = dst + b * 256
            let hmask = bytes(block, 0)
            var q = bytes(block, 32)
            let packed = bytes(block, 96)
            let d = half(block, 108)
            var s = 0
            var m: UInt8 = 1
            for _ in 0..<2 {
                for shift in stride(from: UInt8(0), to: 8, by: 2) {
                    for part in 0..<2 {
                        let dl = d * Float(scaleQ3K(s, packed))
                        s += 1
                        for l in 0..<16 {
                            let i = part * 16 + l
                            let low = Int32((q[i] >> shift) & 3)
                            y[l] = dl * Float(low - (hmask[i] & m != 0 ? 0 : 4))
                        }
                        y += 16
                    }
                    m <<= 1
                }
                q += 32
            }
        }
    }

    /// Signed scale `i` (0..<16) of a Q3_K block, from its 12 packed bytes.
    @inline(__always)
    private static func scaleQ3K(_ i: Int, _ packed: UnsafePointer<UInt8>) -> Int32 {
        let low = (packed[i % 8] >> UInt8(4 * (i / 8))) & 0x0F
        let high = (packed[8 + i % 4] >> UInt8(2 * (i / 4))) & 0x03
        return Int32(low | high << 4) - 32
    }

    /// The 6-bit scale and min of sub-block `j` (0..<8) of a Q4_K/Q5_K block, from its 12 packed bytes:
    /// j < 4: scale = q[j] & 63, min = q[j+4] & 63;
    /// j >= 4: scale = q[j+4] & 0xF | (q[j-4] >> 6) << 4, min = q[j+4] >> 4 | (q[j] >> 6) << 4.
    @inline(__always)
    private static func scaleMinK4(_ j: Int, _ q: UnsafePointer<UInt8>) -> (scale: Float, min: Float) {
        if j < 4 {
            return (Float(q[j] & 63), Float(q[j + 4] & 63))
        }
        return (Float((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4)), Float((q[j + 4] >> 4) | ((q[j] >> 6) << 4)))
    }

    /// Q4_K, 144 bytes per 256 elements:
    ///     struct { ggml_half d; ggml_half dmin; uint8_t scales[12]; uint8_t qs[128]; }
    /// 8 sub-blocks of 32 elements with 6-bit scales and mins (see scaleMinK4); y = d*sc*q - dmin*m.
    /// Each 64 elements use 32 bytes of qs: the low nibbles, then the high nibbles.
    private static func q4_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let block = src + b * 144
            var y = dst + b * 256
            let d = half(block, 0)
            let dmin = half(block, 2)
            let scales = bytes(block, 4)
            var q = bytes(block, 16)
            for pair in 0..<4 {
                let (sc1, m1) = scaleMinK4(2 * pair, scales)
                let (sc2, m2) = scaleMinK4(2 * pair + 1, scales)
                let d1 = d * sc1, min1 = dmin * m1
                let d2 = d * sc2, min2 = dmin * m2
                for l in 0..<32 { y[l] = d1 * Float(q[l] & 0x0F) - min1 }
                for l in 0..<32 { y[32 + l] = d2 * Float(q[l] >> 4) - min2 }
                y += 64
                q += 32
            }
        }
    }

    /// Q5_K, 176 bytes per 256 elements:
    ///     struct { ggml_half d; ggml_half dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; }
    /// As Q4_K, plus a fifth bit: for the k-th 32-element group, bit k of qh[l] adds 16.
    private static func q5_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let block = src + b * 176
            var y = dst + b * 256
            let d = half(block, 0)
            let dmin = half(block, 2)
            let scales = bytes(block, 4)
            let qh = bytes(block, 16)
            var ql = bytes(block, 48)
            var u1: UInt8 = 1, u2: UInt8 = 2
            for pair in 0..<4 {
                let (sc1, m1) = scaleMinK4(2 * pair, scales)
                let (sc2, m2) = scaleMinK4(2 * pair + 1, scales)
                let d1 = d * sc1, min1 = dmin * m1
                let d2 = d * sc2, min2 = dmin * m2
                for l in 0..<32 { y[l] = d1 * Float((ql[l] & 0x0F) + (qh[l] & u1 != 0 ? 16 : 0)) - min1 }
                for l in 0..<32 { y[32 + l] = d2 * Float((ql[l] >> 4) + (qh[l] & u2 != 0 ? 16 : 0)) - min2 }
                y += 64
                ql += 32
                u1 <<= 2
                u2 <<= 2
            }
        }
    }

    /// Q6_K, 210 bytes per 256 elements:
    ///     struct { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; ggml_half d; }
    /// 16 sub-blocks of 16 elements with signed 8-bit scales; quants are 6 bits minus 32. Each
    /// 128-element half uses 64 bytes of ql and 32 of qh: for l < 32, elements l, l+32, l+64, l+96
    /// take ql[l] low, ql[l+32] low, ql[l] high, ql[l+32] high nibbles, and bits 0-1, 2-3, 4-5, 6-7
    /// of qh[l] as their top two bits. y = d * scale * q.
    private static func q6_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let block = src + b * 210
            var y = dst + b * 256
            var ql = bytes(block, 0)
            var qh = bytes(block, 128)
            var sc = bytes(block, 192)
            let d = half(block, 208)
            for _ in 0..<2 {
                for l in 0..<32 {
                    let s = l / 16
                    let q1 = Int32((ql[l] & 0x0F) | ((qh[l] >> 0) & 3) << 4) - 32
                    let q2 = Int32((ql[l + 32] & 0x0F) | ((qh[l] >> 2) & 3) << 4) - 32
                    let q3 = Int32((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32
                    let q4 = Int32((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32
                    y[l] = d * Float(Int8(bitPattern: sc[s])) * Float(q1)
                    y[l + 32] = d * Float(Int8(bitPattern: sc[s + 2])) * Float(q2)
                    y[l + 64] = d * Float(Int8(bitPattern: sc[s + 4])) * Float(q3)
                    y[l + 96] = d * Float(Int8(bitPattern: sc[s + 6])) * Float(q4)
                }
                y += 128
                ql += 64
                qh += 32
                sc += 8
            }
        }
    }
}
