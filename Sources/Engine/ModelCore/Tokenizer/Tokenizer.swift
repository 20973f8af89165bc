/// A byte-level BPE tokenizer (GGUF `tokenizer.ggml.model` "gpt2": SmolLM2, Llama 3, Qwen2), built from the
/// model's vocabulary and merges. Immutable after init apart from an internal, locked word cache, so one
/// instance can be shared across threads.
public final class Tokenizer: @unchecked Sendable {
    public let bosID: Int?
    public let eosID: Int?
    /// End of turn, for models whose chat turns end with a token other than EOS (Llama 3's <|eot_id|>).
    public let eotID: Int?
    public let paddingID: Int?
    /// The `tokenizer.ggml.pre` name this tokenizer splits text by.
    public let preTokenizer: String

    private let tokens: [String]
    private let special: [Bool]
    private let idsByBytes: [[UInt8]: Int]
    // Every token's bytes in one buffer: decoding is then a copy per token, with no per-token allocation.
    private let byteStorage: [UInt8]
    private let byteOffsets: [Int]
    private let splitter: PreTokenizer
    private let specials: SpecialTokenMatcher
    private let bpe: BytePairEncoder
    private let cache = WordCache()

    public var vocabularySize: Int { tokens.count }

    /// - Parameters:
    ///   - tokens: `tokenizer.ggml.tokens`, byte-level encoded (special tokens as plain text).
    ///   - tokenTypes: `tokenizer.ggml.token_type`; 3 (control) and 4 (user-defined) are matched literally in text.
    ///   - merges: `tokenizer.ggml.merges`, "left right" pairs; a merge's rank is its index.
    ///   - preTokenizer: `tokenizer.ggml.pre`: "gpt2", "smollm", "qwen2" or "llama-bpe".
    public init(tokens: [String], tokenTypes: [Int], merges: [String], preTokenizer: String,
                bosID: Int?, eosID: Int?, eotID: Int? = nil, paddingID: Int? = nil) throws {
        guard !tokens.isEmpty else {
            throw TokenizerError.malformed(key: "tokenizer.ggml.tokens", index: nil, reason: "is empty")
        }
        guard tokenTypes.count == tokens.count else {
            throw TokenizerError.malformed(key: "tokenizer.ggml.token_type", index: nil,
                                           reason: "has \(tokenTypes.count) entries for \(tokens.count) tokens")
        }
        for (key, id) in [("bos", bosID), ("eos", eosID), ("eot", eotID), ("padding", paddingID)] {
            if let id, !tokens.indices.contains(id) {
                throw TokenizerError.malformed(key: "tokenizer.ggml.\(key)_token_id", index: nil,
                                               reason: "is \(id), outside the vocabulary of \(tokens.count) tokens")
            }
        }
        splitter = try PreTokenizer(name: preTokenizer)
        self.preTokenizer = preTokenizer
        self.tokens = tokens
        self.bosID = bosID
        self.eosID = eosID
        self.eotID = eotID
        self.paddingID = paddingID
        special = tokenTypes.map { $0 == 3 || $0 == 4 }

        var storage: [UInt8] = []
        var offsets = [0]
        var byBytes: [[UInt8]: Int] = [:]
        byBytes.reserveCapacity(tokens.count)
        offsets.reserveCapacity(tokens.count + 1)
        var specialTexts: [(text: String, id: Int)] = []
        for (id, token) in tokens.enumerated() {
            // Later duplicates win, as in Hugging Face's vocabulary dictionary and llama.cpp's token map.
            byBytes[Array(token.utf8)] = id
            if special[id] {
                storage.append(contentsOf: token.utf8)
                specialTexts.append((token, id))
            } else {
                storage.append(contentsOf: ByteLevelAlphabet.bytes(of: token))
            }
            offsets.append(storage.count)
        }
        byteStorage = storage
        byteOffsets = offsets
        idsByBytes = byBytes
        specials = SpecialTokenMatcher(tokens: specialTexts)

        let byteTokens: [Int32] = ByteLevelAlphabet.scalarForByte.map { scalar in
            byBytes[Array(String(scalar).utf8)].map { Int32($0) } ?? -1
        }
        var table = MergeTable(capacity: merges.count)
        for (rank, merge) in merges.enumerated() {
            func bad(_ reason: String) -> TokenizerError {
                .malformed(key: "tokenizer.ggml.merges", index: rank, reason: "(\"\(merge)\") \(reason)")
            }
            guard let space = merge.utf8.firstIndex(of: 0x20) else { throw bad("is not two tokens separated by a space") }
            let left = Array(merge.utf8[..<space]), right = Array(merge.utf8[merge.utf8.index(after: space)...])
            guard let l = byBytes[left] else { throw bad("names a left token that is not in the vocabulary") }
            guard let r = byBytes[right] else { throw bad("names a right token that is not in the vocabulary") }
            guard let result = byBytes[left + right] else { throw bad("makes a token that is not in the vocabulary") }
            table.add(Int32(l), Int32(r), rank: Int32(rank), result: Int32(result))
        }
        bpe = BytePairEncoder(byteTokens: byteTokens, merges: table)
    }

    /// Token ids of `text`, without BOS. With `parseSpecial`, control and user-defined tokens written in
    /// the text (e.g. "<|im_start|>") become their ids; without it they are tokenized as ordinary text,
    /// which is what untrusted input (a user's message) needs.
    public func encode(_ text: String, parseSpecial: Bool = true) -> [Int] {
        let scalars = ScalarText(text)
        let segments: [SpecialTokenMatcher.Segment] = parseSpecial && !specials.isEmpty
            ? specials.segments(scalars.values) : [.text(0..<scalars.count)]
        var out: [Int32] = []
        out.reserveCapacity(scalars.count / 3 + 1)
        var pieces: [Range<Int>] = []
        var word: [UInt8] = []
        for segment in segments {
            switch segment {
            case let .special(id):
                out.append(Int32(id))
            case let .text(range):
                pieces.removeAll(keepingCapacity: true)
                splitter.split(scalars, range, into: &pieces)
                for piece in pieces {
                    word.removeAll(keepingCapacity: true)
                    for i in piece { appendUTF8(scalars.values[i], to: &word) }
                    encodeWord(word, into: &out)
                }
            }
        }
        return out.map(Int.init)
    }

    private func encodeWord(_ word: [UInt8], into out: inout [Int32]) {
        if word.count == 1 {
            let id = bpe.byteTokens[Int(word[0])]
            if id >= 0 { out.append(id) }
            return
        }
        if let cached = cache.tokens(of: word) {
            out.append(contentsOf: cached)
            return
        }
        var ids: [Int32] = []
        bpe.encode(word, into: &ids)
        cache.store(ids, for: word)
        out.append(contentsOf: ids)
    }

    /// The text of `ids`. Bytes that are not valid UTF-8 (a character cut off mid-sequence) become U+FFFD;
    /// ids outside the vocabulary are skipped.
    public func decode(_ ids: [Int]) -> String {
        var bytes: [UInt8] = []
        for id in ids where tokens.indices.contains(id) {
            bytes.append(contentsOf: byteStorage[byteOffsets[id]..<byteOffsets[id + 1]])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The raw bytes token `id` stands for: the decoded byte-level string, or a special token's own text.
    /// Empty for an id outside the vocabulary.
    public func bytes(of id: Int) -> [UInt8] {
        guard tokens.indices.contains(id) else { return [] }
        return Array(byteStorage[byteOffsets[id]..<byteOffsets[id + 1]])
    }

    /// The vocabulary string as stored in the GGUF (byte-level encoded, e.g. "Ġthe"); "" outside the vocabulary.
    public func piece(_ id: Int) -> String {
        tokens.indices.contains(id) ? tokens[id] : ""
    }

    /// The id of a vocabulary string, compared byte for byte (not by Swift's canonical equivalence).
    public func id(of piece: String) -> Int? {
        idsByBytes[Array(piece.utf8)]
    }

    /// Whether `id` is a control (type 3) or user-defined (type 4) token.
    public func isSpecial(_ id: Int) -> Bool {
        special.indices.contains(id) && special[id]
    }
}

private func appendUTF8(_ value: UInt32, to bytes: inout [UInt8]) {
    switch value {
    case 0..<0x80:
        bytes.append(UInt8(value))
    case 0x80..<0x800:
        bytes.append(UInt8(0xC0 | value >> 6))
        bytes.append(UInt8(0x80 | value & 0x3F))
    case 0x800..<0x10000:
        bytes.append(UInt8(0xE0 | value >> 12))
        bytes.append(UInt8(0x80 | value >> 6 & 0x3F))
        bytes.append(UInt8(0x80 | value & 0x3F))
    default:
        bytes.append(UInt8(0xF0 | value >> 18))
        bytes.append(UInt8(0x80 | value >> 12 & 0x3F))
        bytes.append(UInt8(0x80 | value >> 6 & 0x3F))
        bytes.append(UInt8(0x80 | value & 0x3F))
    }
}
