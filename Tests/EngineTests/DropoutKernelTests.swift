import CKernels
import Foundation
import XCTest
import ModelCore

/// dropout.c: the LoRA inputs' dropout mask, drawn from any stretch of the `SeededRandom` stream at once, and the
/// backward pass through it.
final class DropoutKernelTests: XCTestCase {
    /// What the training pass did before the kernel: one draw per element, in order.
    private func sequential(_ x: [Float], _ rng: inout SeededRandom, p: Float) -> [Float] {
        let keep = 1 / (1 - p)
        return x.map { rng.nextUnit() < Double(p) ? 0 : $0 * keep }
    }

    private func bits(_ a: [Float]) -> [UInt32] { a.map(\.bitPattern) }

    func testTheMaskIsTheStreamsDrawsInOrderForAnyStretch() {
        for (seed, n, p) in [(UInt64(7), 1000, Float(0.05)), (42, 13, 0.5), (3, 4099, 0.1), (0, 8, 0.9)] {
            var source = SeededRandom(seed: seed)
            let x = (0..<n).map { _ in Float(source.nextUnit() * 2 - 1) }
            var one = SeededRandom(seed: seed &+ 1), cut = one
            let want = sequential(x, &one, p: p)

            // The same draws taken as the training pass takes them: skip, then cut into uneven stretches.
            let state = cut.skip(n)
            var got = [Float](repeating: .nan, count: n)
            var start = 0
            for len in [1, 7, 64, 3, n] where start < n {
                let end = min(n, start + len)
                got.withUnsafeMutableBufferPointer { g in
                    ht_dropout(g.baseAddress! + start, Array(x[start..<end]), end - start,
                               SeededRandom.state(state, after: start), Double(p), 1 / (1 - p))
                }
                start = end
            }
            XCTAssertEqual(bits(got), bits(want), "seed \(seed), n \(n), p \(p)")
            XCTAssertEqual(cut.next(), one.next(), "skip(n) leaves the stream where n draws leave it")
            let dropped = want.filter { $0 == 0 }.count
            XCTAssert(dropped > 0 && dropped < n, "seed \(seed): \(dropped) of \(n) dropped: the test needs both kinds")
        }
    }

    /// The gradient passes exactly the kept elements, whatever their input was: a dropped input of exactly 0 takes
    /// none (the training pass used to tell kept from dropped by the output, and let those through).
    func testTheBackwardPassLetsThroughExactlyTheKeptElements() {
        let n = 2000, p: Float = 0.3, keep = 1 / (1 - p)
        var rng = SeededRandom(seed: 5)
        var x = (0..<n).map { _ in Float(rng.nextUnit() + 0.5) }
        for i in stride(from: 0, to: n, by: 3) { x[i] = 0 }
        let state = rng.skip(0)
        var y = [Float](repeating: 0, count: n)
        ht_dropout(&y, x, n, state, Double(p), keep)
        var draws = SeededRandom(seed: 5)
        for _ in 0..<n { _ = draws.next() }   // the same stream as `rng` was at `state`
        var dropped = [Bool]()
        for _ in 0..<n { dropped.append(draws.nextUnit() < Double(p)) }

        let dy = (0..<n).map { Float($0 % 17) - 8 }
        var dx = [Float](repeating: 1, count: n)
        ht_dropout_backward(&dx, dy, n, state, Double(p), keep)
        var zerosDropped = 0
        for i in 0..<n {
            let want: Float = dropped[i] ? 1 : 1 + dy[i] * keep
            XCTAssertEqual(dx[i].bitPattern, want.bitPattern, "element \(i) (input \(x[i]), dropped \(dropped[i]))")
            XCTAssertEqual(y[i] == 0 && x[i] != 0, dropped[i] && x[i] != 0, "element \(i)")
            if dropped[i] && x[i] == 0 && dy[i] != 0 { zerosDropped += 1 }
        }
        XCTAssertGreaterThan(zerosDropped, 20, "dropped zero inputs with a gradient: the case this test is about")
    }
}
