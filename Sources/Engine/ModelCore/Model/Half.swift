// IEEE 754 half precision (binary16) and bfloat16 <-> Float conversions, written with bit
// manipulation rather than Swift's Float16 (which is unavailable on some platforms, e.g. macOS on x86).
//
// binary16: 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits.
// binary32: 1 sign bit, 8 exponent bits (bias 127), 23 mantissa bits.
// bfloat16: the top 16 bits of a binary32.

/// The exact Float value of the half `h`. Subnormals, infinities and NaNs (payload kept) convert exactly.
@inlinable
public func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = UInt32(h >> 10) & 0x1F
    let mantissa = UInt32(h & 0x3FF)
    switch exponent {
    case 0:
        // Zero or subnormal: mantissa * 2^-24, which is exact in Float; the sign goes on by its bit.
        let magnitude = Float(mantissa) * 0x1p-24
        return Float(bitPattern: sign | magnitude.bitPattern)
    case 0x1F:
        // Infinity or NaN.
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    default:
        // Normal: rebias the exponent from 15 to 127.
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }
}

/// The half nearest to `f`, ties to even (as the F16C instruction and numpy do). Values too large
/// become infinity, values too small become (signed) zero or a subnormal; NaNs stay NaN (quiet).
@inlinable
public func floatToHalf(_ f: Float) -> UInt16 {
    let bits = f.bitPattern
    let sign = UInt16(truncatingIfNeeded: bits >> 16) & 0x8000
    let exponent = Int((bits >> 23) & 0xFF)
    let mantissa = bits & 0x7F_FFFF

    if exponent == 0xFF {
        // Infinity, or NaN: keep the top of the payload and set the quiet bit so it stays a NaN.
        return mantissa == 0 ? sign | 0x7C00 : sign | 0x7E00 | UInt16(truncatingIfNeeded: mantissa >> 13)
    }
    let halfExponent = exponent - 127 + 15
    if halfExponent >= 0x1F {
        return sign | 0x7C00
    }
    if halfExponent >= 1 {
        // Normal half: drop 13 mantissa bits, rounding to nearest even. A carry out of the
        // mantissa correctly bumps the exponent (up to infinity).
        var h = UInt32(halfExponent) << 10 | (mantissa >> 13)
        let rest = mantissa & 0x1FFF
        if rest > 0x1000 || (rest == 0x1000 && h & 1 == 1) { h += 1 }
        return sign | UInt16(h)
    }
    // Subnormal half (or zero): value = m * 2^-24 with m = significand >> (126 - exponent).
    let shift = 14 - halfExponent  // >= 14
    if shift > 24 {
        return sign  // below half the smallest subnormal: rounds to zero
    }
    let significand = mantissa | 0x80_0000
    var h = significand >> UInt32(shift)
    let rest = significand & ((1 << UInt32(shift)) - 1)
    let halfway: UInt32 = 1 << UInt32(shift - 1)
    if rest > halfway || (rest == halfway && h & 1 == 1) { h += 1 }
    return sign | UInt16(h)
}

/// The exact Float value of the bfloat16 `b`.
@inlinable
public func bf16ToFloat(_ b: UInt16) -> Float {
    Float(bitPattern: UInt32(b) << 16)
}
