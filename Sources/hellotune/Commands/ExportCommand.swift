import ArgumentParser
import Foundation
import Support
import ModelCore
import Training

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Merge a LoRA adapter into its base model and write one GGUF file that llama.cpp and Ollama load.",
        discussion: """
        Every adapted projection becomes W + (alpha / rank) B A, stored as --type (f16, or q8_0 with llama.cpp's \
        quantiser); every other tensor (embeddings, norms) is copied unchanged in its own type, and the tokenizer, \
        chat template and other metadata are copied as they are. The file is written to a temporary name and renamed.
        """)
    enum OutputType: String, ExpressibleByArgument, CaseIterable { case f16, q8_0 }

    @Option(help: "LoRA adapter folder written by `hellotune train` or a run (PEFT files or adapter.gguf).") var adapter: String
    @Option(help: "The GGUF file to write.") var out: String
    @Option(help: "Type of the merged projections: f16 or q8_0.") var type: OutputType = .f16
    @Option(help: "The base model the adapter was trained on: a name from `hellotune model list`, hf:OWNER/REPO/FILE.gguf, or a GGUF file (default: the default model).")
    var model: String?
    @Flag(help: "Replace --out if it exists.") var force = false

    func validate() throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: adapter, isDirectory: &isDir), isDir.boolValue else {
            throw ValidationError("--adapter \(adapter) is not a folder: pass the folder `hellotune train --out` wrote (it holds adapter.gguf or the PEFT files).")
        }
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDir), isDir.boolValue {
            throw ValidationError("--out \(out) is a folder: give the file to write, for example \(out)/merged.gguf")
        }
    }

    func run() throws {
        let basePath: String
        if let model {
            do { basePath = try ModelReference.resolve(model) } catch let e as ModelLookupError { throw ValidationError("--model: \(e)") }
        } else {
            basePath = Paths.defaultModel.path
            guard FileManager.default.fileExists(atPath: basePath) else {
                throw ValidationError("the default model is not fetched yet: run `hellotune model fetch` (or pass --model PATH).")
            }
        }
        let base = try GGUFFile(path: basePath)
        let config = try ModelConfig(gguf: base)
        let lora = try AdapterIO.read(from: URL(fileURLWithPath: adapter), modelConfig: config)
        let kind: MergedModel.OutputType = type == .f16 ? .f16 : .q8_0
        let summary = try MergedModel.write(base: base, adapter: lora, type: kind, to: URL(fileURLWithPath: out), overwrite: force)
        let size = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        say("merged \(summary.merged) projections (rank \(lora.config.rank), alpha \(lora.config.alpha)) of \(adapter) into \(basePath)")
        say("wrote \(out): \(kind.ggml) projections, \(summary.copied) tensors copied unchanged, \(size / 1_000_000) MB")
        if !summary.storedAsF16.isEmpty {
            say("stored as F16 (rows not a multiple of 32): \(summary.storedAsF16.joined(separator: ", "))")
        }
    }
}
