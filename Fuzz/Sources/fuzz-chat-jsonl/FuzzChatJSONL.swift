import Foundation
import FuzzSupport
import ModelCore
import Training

/// Arbitrary bytes as a chat fine-tuning JSONL file. Parsing either throws a DatasetError naming the file
/// (and a line within it, when the error is about one), or gives valid examples that survive a round trip
/// through `jsonl()`. Every example is then encoded for training with the default model's tokenizer and
/// the ChatML template: that either throws a DatasetError or gives targets that point at the next token.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChatJSONL(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Data(fuzzBytes(data, size))
    let lineCount = input.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
    let dataset: ChatDataset
    do {
        dataset = try ChatDataset.parse(input, path: "fuzz.jsonl")
    } catch let error as DatasetError {
        fuzzCheck("\(error)".hasPrefix("fuzz.jsonl"), "error does not start with the file: \(error)")
        if let line = error.line { fuzzCheck((1...lineCount).contains(line), "line \(line) of \(lineCount): \(error)") }
        return 0
    } catch {
        fuzzCheck(false, "untyped error \(error)")
        return 0
    }

    fuzzCheck(!dataset.examples.isEmpty && dataset.examples.count == dataset.lineNumbers.count, "examples and lines")
    fuzzCheck(zip(dataset.lineNumbers, dataset.lineNumbers.dropFirst()).allSatisfy { $0 < $1 }, "lines out of order")
    fuzzCheck(dataset.lineNumbers.allSatisfy { (1...lineCount).contains($0) }, "line number past the end")
    for (messages, line) in zip(dataset.examples, dataset.lineNumbers) {
        do { try ChatDataset.validate(messages, path: "fuzz.jsonl", line: line) } catch {
            fuzzCheck(false, "parse accepted what validate rejects: \(error)")
        }
    }
    let written = dataset.jsonl()
    do {
        let again = try ChatDataset.parse(Data(written.utf8), path: "again.jsonl")
        fuzzCheck(exactly(again.examples) == exactly(dataset.examples), "jsonl() round trip changed the examples:\n\(excerpt(written, 400))")
    } catch {
        fuzzCheck(false, "jsonl() wrote what parse rejects: \(error)\n\(excerpt(written, 400))")
    }

    let tokenizer = FuzzModel.tokenizer
    let template = ChatTemplate(kind: .chatml)
    for (messages, line) in zip(dataset.examples, dataset.lineNumbers) {
        do {
            let example = try TrainingExample.encode(messages, tokenizer: tokenizer, template: template,
                                                     contextLength: 8192, line: line, path: "fuzz.jsonl")
            let tokens = example.tokens, targets = example.targets
            fuzzCheck(tokens.count == targets.count && targets.last == -1, "targets do not line up")
            fuzzCheck(example.labelledCount > 0, "an encoded example with nothing to train")
            for t in targets.indices where targets[t] != -1 {
                fuzzCheck(targets[t] == tokens[t + 1], "target \(t) is not the next token")
            }
        } catch let error as DatasetError {
            fuzzCheck("\(error)".hasPrefix("fuzz.jsonl:\(line)"), "error does not name the line: \(error)")
        } catch {
            fuzzCheck(false, "untyped error \(error)")
        }
    }
    return 0
}

/// The examples as bytes, so that the round trip must keep every scalar (String's == would accept a
/// canonically equivalent rewrite).
private func exactly(_ examples: [[ChatMessage]]) -> [[[UInt8]]] {
    examples.map { $0.flatMap { [Array($0.role.utf8), Array($0.content.utf8), $0.weight.map { [UInt8($0)] } ?? []] } }
}

/// Loads the tokenizer before fuzzing starts, so its build time does not count against the first input.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    _ = FuzzModel.tokenizer
    return 0
}
