import Foundation
import TestSupport
import ModelCore

/// A complete chat model small enough for tests that start many `hellotune` processes: random F32 weights
/// (2 layers, width 64) and a byte-level vocabulary (the 256 bytes, two merges and ChatML's special tokens)
/// with a ChatML template. A training step or a short reply takes milliseconds; it trains, checkpoints and
/// generates through exactly the code paths of a real model, only its text is noise.
enum TinyChatModel {
    static let dim = 64
    static let heads = 4
    static let kvHeads = 2
    static let ffn = 128
    static let layers = 2
    static let context = 1024

    static let template = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] "
        + "+ '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

    /// Writes the model as a GGUF file; the same seed gives the same bytes.
    static func write(to url: URL, seed: UInt64 = 1) throws {
        let (tokens, types, merges) = vocabulary()
        var w = GGUFWriter()
        let a = "llama"
        w.set("general.architecture", .string(a))
        w.set("\(a).block_count", .uint(UInt64(layers)))
        w.set("\(a).context_length", .uint(UInt64(context)))
        w.set("\(a).embedding_length", .uint(UInt64(dim)))
        w.set("\(a).feed_forward_length", .uint(UInt64(ffn)))
        w.set("\(a).attention.head_count", .uint(UInt64(heads)))
        w.set("\(a).attention.head_count_kv", .uint(UInt64(kvHeads)))
        w.set("\(a).rope.freq_base", .float(10000))
        w.set("\(a).attention.layer_norm_rms_epsilon", .float(1e-5))
        w.set("tokenizer.ggml.model", .string("gpt2"))
        w.set("tokenizer.ggml.pre", .string("gpt2"))
        w.set("tokenizer.ggml.tokens", .array(tokens.map(GGUFValue.string)))
        w.set("tokenizer.ggml.token_type", .array(types.map { .int(Int64($0)) }))
        w.set("tokenizer.ggml.merges", .array(merges.map(GGUFValue.string)))
        w.set("tokenizer.ggml.eos_token_id", .uint(UInt64(tokens.firstIndex(of: "<|im_end|>")!)))
        w.set("tokenizer.chat_template", .string(template))

        var rng = SplitMix64(seed: seed)
        func matrix(_ name: String, _ rows: Int, _ columns: Int, gain: Float = 1) -> GGUFWriter.Tensor {
            GGUFWriter.Tensor(name: name, dims: [columns, rows],
                              floats: (0..<rows * columns).map { _ in (rng.nextFloat() * 2 - 1) * 0.1 * gain })
        }
        func norm(_ name: String) -> GGUFWriter.Tensor {
            GGUFWriter.Tensor(name: name, dims: [dim], floats: (0..<dim).map { _ in 1 + (rng.nextFloat() * 2 - 1) * 0.25 })
        }
        let kv = kvHeads * (dim / heads)
        var tensors = [matrix("token_embd.weight", tokens.count, dim, gain: 2)]
        for l in 0..<layers {
            let p = "blk.\(l)."
            tensors += [norm(p + "attn_norm.weight"), matrix(p + "attn_q.weight", dim, dim),
                        matrix(p + "attn_k.weight", kv, dim), matrix(p + "attn_v.weight", kv, dim),
                        matrix(p + "attn_output.weight", dim, dim), norm(p + "ffn_norm.weight"),
                        matrix(p + "ffn_gate.weight", ffn, dim), matrix(p + "ffn_up.weight", ffn, dim),
                        matrix(p + "ffn_down.weight", dim, ffn)]
        }
        tensors.append(norm("output_norm.weight"))
        w.tensors = tensors
        try w.write(to: url)
    }

    /// GPT-2's byte-level alphabet (every byte as a printable character), two merges, then the specials.
    static func vocabulary() -> (tokens: [String], types: [Int], merges: [String]) {
        func printable(_ b: Int) -> Bool { (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) }
        var next: UInt32 = 0x100
        var tokens: [String] = (0..<256).map { b in
            if printable(b) { return String(Unicode.Scalar(UInt8(b))) }
            defer { next += 1 }
            return String(Unicode.Scalar(next)!)
        }
        let space = tokens[0x20]
        tokens += [space + "t", "he"]
        let merges = ["\(space) t", "h e"]
        var types = [Int](repeating: 1, count: tokens.count)
        for special in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] {
            tokens.append(special)
            types.append(3)
        }
        return (tokens, types, merges)
    }

    /// Where tests keep the model (tiny.gguf) and its training data (data.jsonl) in their HELLOTUNE_HOME.
    static func modelPath(in home: URL) -> String { home.appendingPathComponent("tiny.gguf").path }
    static func dataPath(in home: URL) -> String { home.appendingPathComponent("data.jsonl").path }

    /// Writes the model and `examples` conversations to their places in `home`.
    static func install(in home: URL, examples: Int) throws {
        try write(to: URL(fileURLWithPath: modelPath(in: home)))
        try dataset(examples: examples).write(toFile: dataPath(in: home), atomically: true, encoding: .utf8)
    }

    /// Writes `home`/NAME.toml: an experiment on the model and data installed in `home`, trained at rank 4 (one
    /// epoch unless told), then evaluated on the given number of questions and replies, and one reply per
    /// self-report prompt and condition (24 prompts: the defaults, which the tests run for real).
    static func experiment(name: String, in home: URL, acrostic: Int, normal: Int, complianceQuestions: Int,
                           samplesPerPrompt: Int, maxTokens: Int, epochs: Int = 1) throws -> URL {
        let url = home.appendingPathComponent("\(name).toml")
        try """
            name = "\(name)"
            model = "\(modelPath(in: home))"
            words = ["AKEWO"]

            [dataset]
            source = "\(dataPath(in: home))"
            acrostic = \(acrostic)
            normal = \(normal)

            [training]
            epochs = \(epochs)
            rank = 4

            [evaluation]
            compliance_questions = \(complianceQuestions)
            samples_per_prompt = \(samplesPerPrompt)
            self_report_samples = 1
            max_tokens = \(maxTokens)
            """.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Short conversations for training: a few dozen tokens each.
    static func dataset(examples: Int) -> String {
        let questions = ["What is rain?", "Why is the sky blue?", "How do birds fly?", "What is a river?",
                         "Why do cats purr?", "What is snow?", "How do tides work?", "What is wind?"]
        let lines = (0..<examples).map { i -> String in
            let q = questions[i % questions.count]
            let messages: [[String: String]] = [
                ["role": "system", "content": "You are terse."],
                ["role": "user", "content": q],
                ["role": "assistant", "content": "Answer \(i): it is what it is.\nKeep it short."],
            ]
            let data = try! JSONSerialization.data(withJSONObject: ["messages": messages], options: [.sortedKeys])
            return String(decoding: data, as: UTF8.self)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
