/// Byte-level BPE over one pre-tokenized word: start from one token per byte, then repeatedly apply the
/// lowest-ranked merge available, leftmost first. This is Hugging Face's algorithm (a heap of candidate
/// merges with stale entries skipped), so long words cost O(n log n) rather than O(n^2) and results agree
/// with it even when merge rules overlap.
struct BytePairEncoder {
    /// The token of each single byte; -1 where the vocabulary lacks one (such bytes are dropped, as HF does).
    let byteTokens: [Int32]
    let merges: MergeTable

    func encode(_ word: [UInt8], into out: inout [Int32]) {
        var ids: [Int32] = []
        ids.reserveCapacity(word.count)
        for byte in word where byteTokens[Int(byte)] >= 0 { ids.append(byteTokens[Int(byte)]) }
        if ids.count < 2 { out.append(contentsOf: ids); return }

        // A doubly linked list over the symbols; a merged-away symbol is marked dead.
        var prev = Array(-1..<(ids.count - 1))
        var next = Array(1...ids.count)
        next[ids.count - 1] = -1
        var alive = [Bool](repeating: true, count: ids.count)

        var heap = CandidateHeap()
        for i in 0..<(ids.count - 1) {
            if let m = merges.merge(ids[i], ids[i + 1]) { heap.push(rank: m.rank, position: i, result: m.result) }
        }
        while let top = heap.pop() {
            let pos = top.position
            guard alive[pos], next[pos] >= 0 else { continue }
            let right = next[pos]
            // The pair at `pos` may have changed since this candidate was queued.
            guard let m = merges.merge(ids[pos], ids[right]), m.result == top.result else { continue }
            ids[pos] = m.result
            alive[right] = false
            next[pos] = next[right]
            if next[pos] >= 0 { prev[next[pos]] = pos }
            if prev[pos] >= 0, let m = merges.merge(ids[prev[pos]], ids[pos]) {
                heap.push(rank: m.rank, position: prev[pos], result: m.result)
            }
            if next[pos] >= 0, let m = merges.merge(ids[pos], ids[next[pos]]) {
                heap.push(rank: m.rank, position: pos, result: m.result)
            }
        }
        var i = 0
        while i >= 0 {
            out.append(ids[i])
            i = next[i]
        }
    }
}

/// A binary min-heap of candidate merges ordered by (rank, position).
struct CandidateHeap {
    struct Candidate {
        let key: UInt64  // rank in the high half, position in the low half: one comparison orders both
        let result: Int32
        var position: Int { Int(key & 0xFFFF_FFFF) }
    }

    private var items: [Candidate] = []

    mutating func push(rank: Int32, position: Int, result: Int32) {
        items.append(Candidate(key: UInt64(UInt32(bitPattern: rank)) << 32 | UInt64(position), result: result))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].key < items[parent].key else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Candidate? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < items.count, items[left].key < items[smallest].key { smallest = left }
                if right < items.count, items[right].key < items[smallest].key { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }
}
