/// An owned float buffer that frees itself; training keeps many activations alive per step.
package final class FloatBuffer: @unchecked Sendable {
    package let pointer: UnsafeMutablePointer<Float>
    package let count: Int
    package init(_ count: Int, zeroed: Bool = false) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        if zeroed { pointer.initialize(repeating: 0, count: count) }
    }
    deinit { pointer.deallocate() }
    package func zero() { pointer.update(repeating: 0, count: count) }
}
