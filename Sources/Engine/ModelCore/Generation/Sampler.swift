import CKernels
import Foundation

/// How the next token is chosen from the logits.
public struct SamplingParameters: Sendable, Codable, Equatable {
    /// 0 picks the most likely token (greedy).
    public var temperature: Float = 0
    /// Keep only the k most likely tokens (0: off).
    public var topK: Int = 0
    /// Keep the smallest set of tokens whose probability reaches p (1: off).
    public var topP: Float = 1
    /// Drop tokens less likely than minP times the most likely one (0: off).
    public var minP: Float = 0
    /// Divides positive (multiplies negative) logits of tokens seen in the last `repetitionWindow` (1: off).
    public var repetitionPenalty: Float = 1
    public var repetitionWindow: Int = 64
    public var seed: UInt64 = 0

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, minP: Float = 0,
                repetitionPenalty: Float = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.seed = seed
    }

    public static let greedy = SamplingParameters()
}

/// SplitMix64: small, fast, and reproducible across platforms for a given seed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= Self.gamma
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
    /// Passes over the next `count` draws and returns the state they are drawn from, for code that draws them
    /// itself (dropout.h): draw k + 1 from state s is what `next()` gives after k draws from s.
    public mutating func skip(_ count: Int) -> UInt64 {
        let start = state
        state = Self.state(start, after: count)
        return start
    }
    /// The state after `count` draws from `state`.
    public static func state(_ state: UInt64, after count: Int) -> UInt64 { state &+ UInt64(count) &* gamma }
    /// SplitMix64's increment (HT_SPLITMIX_GAMMA in dropout.h).
    private static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15
}

/// Picks tokens; one sampler per sequence so that each has its own random stream.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var random: SeededRandom

    /// Candidates this far below the best logit (after temperature) carry < 1e-4 of the mass in
    /// total even over a 150k vocabulary; dropping them before sorting keeps sampling O(vocab).
    package static let logitWindow: Float = 20

    /// A key whose ascending order is the scaled logit's descending order, then the id's ascending order: what
    /// a stable sort of the candidates (in id order) by logit gives, as one integer comparison (the sort was a
    /// fifth of a batched evaluation's wall time over tuples and a closure).
    @inline(__always)
    package static func sortKey(_ scaled: Float, id: Int) -> UInt64 {
        let bits = scaled == 0 ? 0 : scaled.bitPattern   // -0 ties with +0, as the float comparison has them
        let ascending = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        return UInt64(~ascending) << 32 | UInt64(id)
    }

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        random = SeededRandom(seed: parameters.seed)
    }

    public mutating func sample(_ logits: UnsafeMutableBufferPointer<Float>, history: [Int]) -> Int {
        let p = parameters
        if p.repetitionPenalty != 1 {
            for id in Set(history.suffix(p.repetitionWindow)) where id < logits.count {
                logits[id] = logits[id] > 0 ? logits[id] / p.repetitionPenalty : logits[id] * p.repetitionPenalty
            }
        }
        // The scans, the keys and their sort are C (sampling.h), each exactly what a Swift loop here gave: the first
        // index of the largest logit, the keys of the logits within the window in id order, and an ascending sort.
        let best = Int(ht_argmax_first(logits.baseAddress, Int32(logits.count)))
        let bestLogit = logits[best]
        if p.temperature <= 0 || p.topK == 1 { return best }

        // candidates: (id, scaled logit), most likely first, equal logits in id order
        let invT = 1 / p.temperature
        let floor = bestLogit - Self.logitWindow * p.temperature
        var keys = [UInt64](unsafeUninitializedCapacity: logits.count) { k, count in
            count = Int(ht_candidate_keys(k.baseAddress, logits.baseAddress, Int32(logits.count), floor, invT))
        }
        let scratch = UnsafeMutablePointer<UInt64>.allocate(capacity: max(1, keys.count))
        keys.withUnsafeMutableBufferPointer { ht_sort_keys($0.baseAddress, Int32($0.count), scratch) }
        scratch.deallocate()
        var candidates = keys.map { (id: Int($0 & 0xFFFF_FFFF), logit: logits[Int($0 & 0xFFFF_FFFF)] * invT) }
        if p.topK > 0, candidates.count > p.topK { candidates.removeLast(candidates.count - p.topK) }

        let top = candidates[0].logit
        // expf of each, through activations.h's copy of the C library's expf (the same values, 16 at a time)
        let shifted = candidates.map { $0.logit - top }
        var probs = [Float](unsafeUninitializedCapacity: shifted.count) { out, count in
            ht_expf_array(out.baseAddress, shifted, shifted.count)
            count = shifted.count
        }
        var total = probs.reduce(0, +)
        var keep = probs.count
        if p.minP > 0 {
            // probs[0] == 1 is the most likely token's unnormalised probability
            while keep > 1, probs[keep - 1] < p.minP { keep -= 1 }
        }
        if p.topP < 1 {
            var mass: Float = 0
            for i in 0..<keep {
                mass += probs[i] / total
                if mass >= p.topP { keep = i + 1; break }
            }
        }
        probs.removeLast(probs.count - keep)
        total = probs.reduce(0, +)
        var u = Float(random.nextUnit()) * total
        for i in 0..<keep {
            u -= probs[i]
            if u <= 0 { return candidates[i].id }
        }
        return candidates[keep - 1].id
    }
}
