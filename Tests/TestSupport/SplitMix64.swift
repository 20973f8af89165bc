/// SplitMix64 (Steele, Lea & Flood 2014; the reference is Vigna's splitmix64.c): a tiny, fast,
/// deterministic generator for test data. scripts/fixtures/make_quant_fixtures.py implements the
/// same generator, so fixtures written by Python can be regenerated here bit for bit.
/// Tests keep their own rather than the engine's, so their data never moves with the code under test; it is
/// inlinable because the engine's tests draw millions of numbers for their fixtures.
public struct SplitMix64 {
    @usableFromInline var state: UInt64

    @inlinable public init(seed: UInt64) {
        state = seed
    }

    @inlinable public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) from the top 24 bits of `next()` (every value is exact in a Float).
    @inlinable public mutating func nextFloat() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// Uniform in [0, 1) from the top 53 bits of `next()` (every value is exact in a Double).
    @inlinable public mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// In 0..<n (the slight modulo bias does not matter for test data).
    @inlinable public mutating func below(_ n: Int) -> Int {
        Int(next() % UInt64(n))
    }
}
