/// Carries a value across a concurrency boundary the compiler cannot see is safe: the engine's
/// parallel loops hand disjoint slices of raw buffers to their threads.
public struct UncheckedSendable<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}
