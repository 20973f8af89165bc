/// The metadata of a GGUF file as stored: each key with its type code and value bytes, in file order.
/// `metadata` folds the integer widths together, which is enough to read a model but not to copy one:
/// llama.cpp refuses `llama.context_length` as u64 and misreads an i64 `tokenizer.ggml.token_type`.
extension GGUFFile {
    public func rawMetadata() throws -> [(key: String, value: GGUFWriter.RawValue)] {
        var r = ByteReader(bytes: file.bytes, path: path)
        _ = try r.u32("magic")
        _ = try r.u32("version")
        _ = try r.u64("tensor count")
        let kvCount = try r.u64("metadata count")
        var out: [(key: String, value: GGUFWriter.RawValue)] = []
        for _ in 0..<kvCount {  // bounded: init already parsed this many entries from these bytes
            let key = try r.string("metadata key")
            let type = try r.u32("type of '\(key)'")
            let start = r.offset
            _ = try r.value(type: type, key: key, depth: 0)
            out.append((key, GGUFWriter.RawValue(type: type, bytes: Array(r.bytes[start..<r.offset]))))
        }
        return out
    }
}
