extension Tokenizer {
    /// The tokenizer a GGUF model describes in its `tokenizer.ggml.*` metadata.
    public convenience init(gguf: GGUFFile) throws {
        let model = try gguf.string("tokenizer.ggml.model")
        guard model == "gpt2" else { throw TokenizerError.unsupportedModel(model) }
        let tokens = try gguf.stringArray("tokenizer.ggml.tokens")
        // Token types are optional in GGUF; without them every token is an ordinary one.
        let types = gguf.metadata["tokenizer.ggml.token_type"] == nil
            ? [Int](repeating: 1, count: tokens.count) : try gguf.intArray("tokenizer.ggml.token_type")
        func optionalID(_ key: String) -> Int? { gguf.metadata["tokenizer.ggml.\(key)_token_id"]?.int }
        try self.init(tokens: tokens, tokenTypes: types,
                      merges: try gguf.stringArray("tokenizer.ggml.merges"),
                      // Converters older than the `pre` key only produced GPT-2-style vocabularies.
                      preTokenizer: gguf.metadata["tokenizer.ggml.pre"]?.string ?? "gpt2",
                      bosID: optionalID("bos"), eosID: optionalID("eos"),
                      eotID: optionalID("eot"), paddingID: optionalID("padding"))
    }
}
