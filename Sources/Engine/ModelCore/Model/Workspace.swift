import CKernels

/// Scratch memory for one forward pass at a time, kept between calls so that decoding a token
/// allocates nothing. Each generation (or thread of work) owns its own workspace.
public final class Workspace: @unchecked Sendable {
    public enum Slot: Int, CaseIterable {
        case x, h, q, k, v, attention, projected, gate, up, scores, logits, dequantized, rowScratch, rope, loraScratch
    }

    private var buffers: [UnsafeMutablePointer<Float>?]
    private var capacities: [Int]
    private var q8Buffer: UnsafeMutableRawPointer?
    private var q8Capacity = 0

    public init() {
        buffers = Array(repeating: nil, count: Slot.allCases.count)
        capacities = Array(repeating: 0, count: Slot.allCases.count)
    }

    deinit {
        buffers.forEach { $0?.deallocate() }
        q8Buffer?.deallocate()
    }

    /// A buffer of at least `count` floats for `slot`; its contents are undefined.
    public func floats(_ slot: Slot, _ count: Int) -> UnsafeMutablePointer<Float> {
        let i = slot.rawValue
        if capacities[i] < count {
            buffers[i]?.deallocate()
            buffers[i] = UnsafeMutablePointer<Float>.allocate(capacity: count)
            capacities[i] = count
        }
        return buffers[i]!
    }

    /// Room for `bytes` of quantised activation columns (see ht_q8_column_bytes), 64-byte aligned.
    public func q8(_ bytes: Int) -> UnsafeMutableRawPointer {
        if q8Capacity < bytes {
            q8Buffer?.deallocate()
            q8Buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            q8Capacity = bytes
        }
        return q8Buffer!
    }

    /// Frees the dequantisation buffer (tens of MB after a prefill), keeping the small ones.
    public func releaseLarge() {
        let i = Slot.dequantized.rawValue
        buffers[i]?.deallocate()
        buffers[i] = nil
        capacities[i] = 0
    }
}
