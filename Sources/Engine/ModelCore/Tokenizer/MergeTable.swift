/// The merge rules keyed by the ids of the two tokens they join, so BPE never builds or hashes strings.
struct MergeTable {
    struct Merge {
        /// Position in `tokenizer.ggml.merges`; lower merges first.
        let rank: Int32
        let result: Int32
    }

    private var table: [UInt64: Merge] = [:]

    init(capacity: Int) { table.reserveCapacity(capacity) }

    static func key(_ left: Int32, _ right: Int32) -> UInt64 { UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right)) }

    /// A rule listed twice keeps its later rank, as Hugging Face's BPE does (the oracle we are tested against).
    mutating func add(_ left: Int32, _ right: Int32, rank: Int32, result: Int32) {
        table[Self.key(left, right)] = Merge(rank: rank, result: result)
    }

    func merge(_ left: Int32, _ right: Int32) -> Merge? { table[Self.key(left, right)] }
}
