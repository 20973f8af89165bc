import CKernels

/// Scratch memory for one forward pass at a time, kept between calls so that decoding a token
/// allocates nothing. Each generation (or thread of work) owns its own workspace.
public final class Workspace: @unchecked Sendable {
    public enum Slot: Int, CaseIterable {
        case x, h, q, k, v, attention, projected, gate, up, scores, logits, dequantized, rowScratch, rope
    }

    private var buffers: [UnsafeMutablePointer<Float>?]
    private var capacities: [Int]
    private var q8Buffer: UnsafeMutablePointer<ht_block_q8>?
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

    public func q8(_ blocks: Int) -> UnsafeMutablePointer<ht_block_q8> {
        if q8Capacity < blocks {
            q8Buffer?.deallocate()
            q8Buffer = UnsafeMutablePointer<ht_block_q8>.allocate(capacity: blocks)
            q8Capacity = blocks
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
