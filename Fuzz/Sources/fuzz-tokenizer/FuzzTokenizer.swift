import FuzzSupport
import ModelCore

/// The default model's tokenizer on arbitrary input, two ways:
/// - the bytes as text (invalid UTF-8 as U+FFFD): encoding with and without special tokens gives ids in the
///   vocabulary whose bytes are exactly the text's, less any byte the vocabulary has no token for (dropped,
///   as Hugging Face does; SmolLM2 lacks a few control bytes), and streaming them gives what decoding gives,
///   with no broken character on the way when no byte was dropped;
/// - the bytes as a sequence of ids (16 bits each, some outside the vocabulary): streaming gives exactly what
///   `decode` gives, and that is the tokens' bytes decoded as UTF-8.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let tokenizer = FuzzModel.tokenizer
    let bytes = fuzzBytes(data, size)
    let text = String(decoding: bytes, as: UTF8.self)
    let kept = text.utf8.filter { byteHasToken[Int($0)] }
    let complete = kept.count == text.utf8.count
    for parseSpecial in [false, true] {
        let ids = tokenizer.encode(text, parseSpecial: parseSpecial)
        fuzzCheck(ids.allSatisfy { (0..<tokenizer.vocabularySize).contains($0) }, "id outside the vocabulary")
        if !parseSpecial {
            fuzzCheck(!ids.contains(where: tokenizer.isSpecial), "special id from plain text \(excerpt(text))")
        }
        // Special tokens keep their text whole, so the dropped bytes are only known exactly without them.
        if !parseSpecial || complete {
            let raw = ids.flatMap { tokenizer.bytes(of: $0) }
            fuzzCheck(raw == kept, "encode(\(excerpt(text)), parseSpecial: \(parseSpecial)) gives the bytes of "
                      + excerpt(String(decoding: raw, as: UTF8.self)))
        }
        let decoded = tokenizer.decode(ids)
        if complete {
            fuzzCheck(decoded.utf8.elementsEqual(text.utf8),
                      "decode(encode(\(excerpt(text)), parseSpecial: \(parseSpecial))) = \(excerpt(decoded))")
        }
        let streamed = stream(ids, tokenizer, cleanText: complete && !text.unicodeScalars.contains("\u{FFFD}"))
        fuzzCheck(streamed.utf8.elementsEqual(decoded.utf8), "streamed \(excerpt(streamed)), decoded \(excerpt(decoded))")
    }

    // Two bytes per id, spread over the vocabulary and a little past both ends of it.
    var ids: [Int] = []
    var i = 0
    while i + 1 < bytes.count {
        let raw = Int(bytes[i]) | Int(bytes[i + 1]) << 8
        ids.append(raw % (tokenizer.vocabularySize + 16) - 8)
        i += 2
    }
    let decoded = tokenizer.decode(ids)
    let raw = ids.flatMap { tokenizer.bytes(of: $0) }
    fuzzCheck(decoded.utf8.elementsEqual(String(decoding: raw, as: UTF8.self).utf8), "decode differs from the tokens' bytes")
    let streamed = stream(ids, tokenizer, cleanText: false)
    fuzzCheck(streamed.utf8.elementsEqual(decoded.utf8), "streamed \(excerpt(streamed)) but decode gives \(excerpt(decoded)) for \(ids.prefix(40))")
    return 0
}

/// Which bytes have a token of their own: only those survive encoding.
private let byteHasToken: [Bool] = {
    let tokenizer = FuzzModel.tokenizer
    var has = [Bool](repeating: false, count: 256)
    for id in 0..<tokenizer.vocabularySize where !tokenizer.isSpecial(id) {
        let b = tokenizer.bytes(of: id)
        if b.count == 1 { has[Int(b[0])] = true }
    }
    return has
}()

/// The text a StreamingDecoder gives for `ids`, push by push and then flushed. With `cleanText` (the ids
/// encode text without U+FFFD) no chunk may hold a U+FFFD: a character split across tokens is held back.
private func stream(_ ids: [Int], _ tokenizer: Tokenizer, cleanText: Bool) -> String {
    var decoder = StreamingDecoder(tokenizer: tokenizer)
    var out = ""
    for id in ids {
        let chunk = decoder.push(id)
        if cleanText { fuzzCheck(!chunk.unicodeScalars.contains("\u{FFFD}"), "broken character streaming \(ids.prefix(40))") }
        out += chunk
    }
    let rest = decoder.flush()
    if cleanText { fuzzCheck(!rest.unicodeScalars.contains("\u{FFFD}"), "broken character at the end \(ids.prefix(40))") }
    return out + rest
}

/// Loads the tokenizer before fuzzing starts, so its build time does not count against the first input.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    _ = byteHasToken
    return 0
}
