/// GPT-2's reversible byte <-> character table (`bytes_to_unicode`). Byte-level vocabularies store every
/// token as a string over these 256 printable characters, so whitespace and control bytes survive as text.
enum ByteLevelAlphabet {
    /// The character that stands for each byte.
    static let scalarForByte: [Unicode.Scalar] = {
        // Printable Latin-1 bytes stand for themselves; the other 68 take U+0100 upwards, in byte order.
        func printable(_ b: Int) -> Bool { (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) }
        var next: UInt32 = 0x100
        return (0..<256).map { b in
            if printable(b) { return Unicode.Scalar(UInt8(b)) }
            defer { next += 1 }
            return Unicode.Scalar(next)!
        }
    }()

    /// The inverse table, indexed by scalar value; -1 where a scalar is not in the alphabet.
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in scalarForByte.enumerated() { table[Int(scalar.value)] = Int16(byte) }
        return table
    }()

    /// The bytes a vocabulary string stands for. A character outside the alphabet (only seen in badly
    /// converted vocabularies) keeps its own UTF-8, as llama.cpp does, rather than making the model unusable.
    static func bytes(of token: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(token.utf8.count)
        for scalar in token.unicodeScalars {
            if Int(scalar.value) < byteForScalar.count, byteForScalar[Int(scalar.value)] >= 0 {
                out.append(UInt8(byteForScalar[Int(scalar.value)]))
            } else {
                out.append(contentsOf: String(scalar).utf8)
            }
        }
        return out
    }
}
