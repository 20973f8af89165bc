/// Keys and values of one sequence, per layer, for the positions seen so far.
/// Memory grows with the sequence (doubling) up to the model's context, so sixteen short
/// sequences decoded together cost what they use, not sixteen full contexts.
public final class KVCache: @unchecked Sendable {
    public let layerCount: Int
    public let kvDim: Int
    public let maxPositions: Int
    /// Positions stored so far.
    public internal(set) var count = 0
    private(set) var capacity = 0
    // keys[l]: (capacity, kvDim) row-major; values[l] the same
    private(set) var keys: [UnsafeMutablePointer<Float>] = []
    private(set) var values: [UnsafeMutablePointer<Float>] = []

    public init(config: ModelConfig, maxPositions: Int? = nil) {
        layerCount = config.layerCount
        kvDim = config.kvDim
        self.maxPositions = min(maxPositions ?? config.contextLength, config.contextLength)
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
    }

    public var remaining: Int { maxPositions - count }

    /// Makes room for `positions` positions in total.
    func reserve(_ positions: Int) {
        guard positions > capacity else { return }
        let newCapacity = min(maxPositions, max(positions, capacity * 2, 64))
        func grow(_ old: [UnsafeMutablePointer<Float>]) -> [UnsafeMutablePointer<Float>] {
            (0..<layerCount).map { l in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity * kvDim)
                if l < old.count {
                    p.update(from: old[l], count: count * kvDim)
                    old[l].deallocate()
                }
                return p
            }
        }
        keys = grow(keys)
        values = grow(values)
        capacity = newCapacity
    }

    /// A new cache holding this one's positions, with room for `maxPositions` in all: several continuations of one
    /// prompt each extend their own copy.
    public func copy(maxPositions: Int) -> KVCache {
        let c = KVCache(layerCount: layerCount, kvDim: kvDim, maxPositions: max(maxPositions, count))
        c.reserve(count)
        for l in 0..<layerCount {
            c.keys[l].update(from: keys[l], count: count * kvDim)
            c.values[l].update(from: values[l], count: count * kvDim)
        }
        c.count = count
        return c
    }

    private init(layerCount: Int, kvDim: Int, maxPositions: Int) {
        self.layerCount = layerCount
        self.kvDim = kvDim
        self.maxPositions = maxPositions
    }

    /// Forgets positions from `position` on (used to rewind a shared prompt, or to reuse the cache).
    public func truncate(to position: Int) {
        count = min(count, max(0, position))
    }
}
