import Foundation

/// Activation columns every quantiser test feeds its kernel, so that an odd case added here reaches every
/// activation format at once: values across twenty decades, exact ties for the rounding, zeros, values whose
/// reciprocal overflows, subnormals and -0, NaNs and infinities among ordinary values.
public enum ActivationCases {
    public static func ordinaryAndOdd(count n: Int, seed: UInt64) -> [(String, [Float])] {
        var rng = SplitMix64(seed: seed)
        func uniform() -> Float { rng.nextFloat() * 2 - 1 }
        let wide = (0..<n).map { _ in uniform() * powf(10, Float(rng.below(20) - 10)) }
        var withNaN = wide, withInf = wide
        for i in stride(from: 0, to: n, by: 37) { withNaN[i] = .nan }
        for i in stride(from: 0, to: n, by: 41) { withInf[i] = i % 2 == 0 ? .infinity : -.infinity }
        return [
            ("wide range", wide),
            ("ties at .5", (0..<n).map { _ in Float(rng.below(255) - 127) / 127 * 3 }),
            ("halves", (0..<n).map { _ in Float(rng.below(1000) - 500) * 0.5 }),
            ("zeros", [Float](repeating: 0, count: n)),
            ("reciprocal overflows", (0..<n).map { Float($0 % 5) * 1e-38 }),
            ("subnormals and -0", (0..<n).map { $0 % 3 == 0 ? -0.0 : Float(1e-45) * Float($0 % 7) }),
            ("NaN", withNaN),
            ("infinities", withInf),
        ]
    }
}
