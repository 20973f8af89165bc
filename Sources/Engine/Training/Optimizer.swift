import Foundation
import ModelCore

/// How the learning rate moves over a run: linear warm-up, then constant, linear decay or cosine decay.
public struct LearningRateSchedule: Codable, Sendable, Equatable {
    public enum Decay: String, Codable, Sendable, CaseIterable { case constant, linear, cosine }
    public var peak: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    public var decay: Decay
    /// The learning rate at the end of a decay, as a fraction of the peak.
    public var floor: Float = 0

    public init(peak: Float, warmupSteps: Int = 0, totalSteps: Int, decay: Decay = .constant, floor: Float = 0) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.decay = decay
        self.floor = floor
    }

    /// Learning rate for 0-based step `step`.
    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
        let span = max(1, totalSteps - warmupSteps)
        let progress = min(1, Float(step - warmupSteps) / Float(span))
        switch decay {
        case .constant: return peak
        case .linear: return peak * (floor + (1 - floor) * (1 - progress))
        case .cosine: return peak * (floor + (1 - floor) * 0.5 * (1 + cos(Float.pi * progress)))
        }
    }
}

/// AdamW as PyTorch implements it (decoupled weight decay, bias-corrected moments).
public struct AdamW: Codable, Sendable, Equatable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var weightDecay: Float = 0.01
    /// Steps taken so far.
    public var step = 0
    public var m: [Float]
    public var v: [Float]

    public init(parameterCount: Int, weightDecay: Float = 0.01) {
        m = [Float](repeating: 0, count: parameterCount)
        v = [Float](repeating: 0, count: parameterCount)
        self.weightDecay = weightDecay
    }

    /// One update of `params` from `grads` at learning rate `lr`.
    public mutating func update(_ params: inout [Float], grads: UnsafePointer<Float>, lr: Float) {
        step += 1
        let b1 = beta1, b2 = beta2, eps = epsilon
        let c1 = 1 - powf(b1, Float(step)), c2 = 1 - powf(b2, Float(step))
        let stepSize = lr / c1
        let decay = 1 - lr * weightDecay
        let c2s = c2.squareRoot()
        m.withUnsafeMutableBufferPointer { m in
            v.withUnsafeMutableBufferPointer { v in
                params.withUnsafeMutableBufferPointer { p in
                    // Element by element, so the two halves on two threads give the serial result bit for bit.
                    Parallel.forRanges(p.count, granularity: 64, minimumPerThread: 1 << 15) { start, end in
                        for i in start..<end {
                            let g = grads[i]
                            m[i] = b1 * m[i] + (1 - b1) * g
                            v[i] = b2 * v[i] + (1 - b2) * g * g
                            p[i] = p[i] * decay - stepSize * m[i] / (v[i].squareRoot() / c2s + eps)
                        }
                    }
                }
            }
        }
    }
}

/// Scales gradients so that their global L2 norm is at most `maxNorm`; returns the norm before clipping.
@discardableResult
public func clipGradients(_ grads: UnsafeMutablePointer<Float>, count: Int, maxNorm: Float) -> Float {
    // One partial sum per chunk, added in chunk order: the same norm for the same thread count.
    var partial = [Double](repeating: 0, count: Parallel.threadCount)
    partial.withUnsafeMutableBufferPointer { partial in
        Parallel.forChunks(count, granularity: 64, minimumPerThread: 1 << 15) { chunk, start, end in
            var ss: Double = 0
            for i in start..<end { ss += Double(grads[i]) * Double(grads[i]) }
            partial[chunk] = ss
        }
    }
    let norm = Float(partial.reduce(0, +).squareRoot())
    if maxNorm > 0, norm > maxNorm {
        let k = maxNorm / (norm + 1e-6)
        Parallel.forRanges(count, granularity: 64, minimumPerThread: 1 << 15) { start, end in
            for i in start..<end { grads[i] *= k }
        }
    }
    return norm
}
