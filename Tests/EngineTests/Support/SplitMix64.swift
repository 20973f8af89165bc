/// SplitMix64 (Steele, Lea & Flood 2014; the reference is Vigna's splitmix64.c): a tiny, fast,
/// deterministic generator for test data. scripts/fixtures/make_quant_fixtures.py implements the
/// same generator, so fixtures written by Python can be regenerated here bit for bit.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) from the top 24 bits of `next()` (every value is exact in a Float).
    mutating func nextFloat() -> Float {
        Float(next() >> 40) * 0x1p-24
    }
}
