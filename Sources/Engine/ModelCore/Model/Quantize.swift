/// Float rows into the stored weight types a merged model is written in: the inverse of `Dequantize` for F16
/// and Q8_0. Q8_0 follows ggml's quantize_row_q8_0_ref operation for operation (so llama.cpp and this engine
/// read back the same values llama.cpp's own quantiser would have written).
public enum Quantize {
    /// Types a row can be written in.
    public static let supported: Set<GGMLType> = [.f32, .f16, .q8_0]

    /// The bytes of `values` stored as `type` (F32, F16 or Q8_0); Q8_0 needs a whole number of 32-blocks.
    public static func bytes(_ values: [Float], as type: GGMLType) -> [UInt8] {
        switch type {
        case .f32: return values.withUnsafeBytes { Array($0) }
        case .f16: return f16(values)
        case .q8_0: return q8_0(values)
        default: preconditionFailure("Quantize.bytes: \(type) is not a type hellotune writes")
        }
    }

    /// Each value rounded to the nearest half, ties to even (as numpy and llama.cpp's converter do).
    public static func f16(_ values: [Float]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: values.count * 2)
        for (i, v) in values.enumerated() {
            let h = floatToHalf(v)
            out[2 * i] = UInt8(truncatingIfNeeded: h)
            out[2 * i + 1] = UInt8(truncatingIfNeeded: h >> 8)
        }
        return out
    }

    /// Q8_0, 34 bytes per 32 values: struct { ggml_half d; int8_t qs[32]; } with d = max|x| / 127 and
    /// qs = round(x / d), half away from zero (C's roundf), computed with the float d before it is stored as a half.
    public static func q8_0(_ values: [Float]) -> [UInt8] {
        precondition(values.count % 32 == 0, "Quantize.q8_0: \(values.count) values is not a whole number of 32-blocks")
        let blocks = values.count / 32
        var out = [UInt8](repeating: 0, count: blocks * 34)
        for b in 0..<blocks {
            var amax: Float = 0
            for j in 0..<32 { amax = max(amax, abs(values[b * 32 + j])) }
            let d = amax / 127
            let id: Float = d != 0 ? 1 / d : 0
            let h = floatToHalf(d)
            out[b * 34] = UInt8(truncatingIfNeeded: h)
            out[b * 34 + 1] = UInt8(truncatingIfNeeded: h >> 8)
            for j in 0..<32 {
                let q = (values[b * 32 + j] * id).rounded(.toNearestOrAwayFromZero)
                out[b * 34 + 2 + j] = UInt8(bitPattern: Int8(q))
            }
        }
        return out
    }
}
