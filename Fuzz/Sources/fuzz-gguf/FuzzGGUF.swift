import FuzzSupport
import ModelCore

/// Arbitrary bytes as a GGUF file: the reader either throws a GGUFError or returns a file whose every
/// tensor lies inside the bytes. What a valid-looking file feeds (model config, weights, tokenizer, chat
/// template) is then built too, and every tensor small enough is dequantised, so the address sanitizer sees
/// any read the bounds checks let through.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzBytes(data, size)
    let file: GGUFFile
    do {
        file = try GGUFFile(bytes: input, path: "fuzz.gguf")
    } catch let error as GGUFError {
        fuzzCheck("\(error)".contains("fuzz.gguf"), "error does not name the file: \(error)")
        return 0
    } catch {
        fuzzCheck(false, "untyped error \(error)")
        return 0
    }
    checkStructure(file, size: size)
    checkConsumers(file)
    return 0
}

private func checkStructure(_ file: GGUFFile, size: Int) {
    fuzzCheck(file.file.bytes.count == size, "mapped \(file.file.bytes.count) bytes of \(size)")
    fuzzCheck(file.version == 2 || file.version == 3, "version \(file.version)")
    fuzzCheck(Set(file.tensorNames).count == file.tensorNames.count, "duplicate tensor names")
    fuzzCheck(file.tensorNames.count == file.tensors.count, "tensor table and names disagree")
    for key in file.metadataKeys { fuzzCheck(file.metadata[key] != nil, "key \(key) listed but missing") }
    for value in file.metadata.values { _ = value.summary }
    let base = UInt(bitPattern: file.file.bytes.baseAddress)
    for name in file.tensorNames {
        guard let t = file.tensors[name] else { fuzzCheck(false, "tensor \(name) missing"); return }
        fuzzCheck((1...4).contains(t.dims.count) && t.dims.allSatisfy { $0 > 0 }, "\(name): dims \(t.dims)")
        fuzzCheck(t.rowLength % t.type.blockSize == 0, "\(name): row \(t.rowLength) vs block \(t.type.blockSize)")
        fuzzCheck(t.data.count == t.elementCount / t.type.blockSize * t.type.blockBytes, "\(name): \(t.data.count) bytes")
        if t.data.count > 0 {
            let start = UInt(bitPattern: t.data.baseAddress)
            fuzzCheck(start >= base && start - base + UInt(t.data.count) <= UInt(size), "\(name) lies outside the file")
        }
        if t.elementCount <= 1 << 16 {
            let floats = Dequantize.tensor(t)
            fuzzCheck(floats.count == t.elementCount, "\(name): dequantised \(floats.count) of \(t.elementCount)")
        }
    }
}

private func checkConsumers(_ file: GGUFFile) {
    if let config = try? ModelConfig(gguf: file) {
        fuzzCheck(config.dim > 0 && config.headDim > 0 && config.vocabularySize > 0, "config \(config)")
        if let weights = try? LlamaWeights(gguf: file, config: config) {
            var matrices = [weights.tokenEmbedding, weights.output]
            for layer in weights.layers {
                for p in ["q", "k", "v", "o", "gate", "up", "down"] { matrices.append(layer.projection(p)!) }
            }
            for m in matrices where m.rows * m.cols <= 1 << 16 {
                let out = UnsafeMutablePointer<Float>.allocate(capacity: m.rows * m.cols)
                defer { out.deallocate() }
                m.dequantize(into: out)
            }
        }
    }
    _ = try? ChatTemplate(gguf: file)
    if let tokenizer = try? Tokenizer(gguf: file) {
        let text = "Hello <|im_start|>user\nthe 123 ünïcödé 😀<|im_end|>"
        for parseSpecial in [false, true] {
            let ids = tokenizer.encode(text, parseSpecial: parseSpecial)
            fuzzCheck(ids.allSatisfy { (0..<tokenizer.vocabularySize).contains($0) }, "id outside the vocabulary")
            _ = tokenizer.decode(ids)
            var stream = StreamingDecoder(tokenizer: tokenizer)
            for id in ids { _ = stream.push(id) }
            _ = stream.flush()
        }
    }
}
