#!/usr/bin/env python3
"""Writes the small GGUF seed files of the fuzz-gguf corpus (Fuzz/corpus/gguf/).

The seeds are valid files that reach every part of the reader: every metadata value type (arrays of each),
GGUF v2 and v3, a custom alignment, every supported tensor type, and two complete tiny models (llama with a
byte-level tokenizer, qwen2 with biases) that also load as a model and a tokenizer. Weights are
arbitrary bytes: the fuzz target checks bounds, not numbers. Run from the repository root:
    python3 Fuzz/make_gguf_seeds.py
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "gguf")

# ggml type -> (block size, block bytes), as in Sources/Engine/Model/GGMLType.swift
TYPES = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
         10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210), 30: (1, 2)}


def s(text):
    b = text.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def scalar(t, v):
    fmt = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<B", 10: "<Q", 11: "<q", 12: "<d"}
    if t == 8:
        return s(v)
    return struct.pack(fmt[t], v)


def kv(key, t, v):
    out = s(key) + struct.pack("<I", t)
    if t == 9:
        item_type, items = v
        out += struct.pack("<IQ", item_type, len(items)) + b"".join(scalar(item_type, x) for x in items)
    else:
        out += scalar(t, v)
    return out


def gguf(metadata, tensors, version=3, alignment=32, seed=1):
    """metadata: [(key, type, value)]; tensors: [(name, dims, ggml type)]. Tensor bytes are a counter pattern."""
    meta = list(metadata)
    if alignment != 32:
        meta.append(("general.alignment", 4, alignment))
    head = struct.pack("<IIQQ", 0x46554747, version, len(tensors), len(meta))
    head += b"".join(kv(k, t, v) for k, t, v in meta)
    data = b""
    infos = b""
    for name, dims, t in tensors:
        block, block_bytes = TYPES[t]
        count = 1
        for d in dims:
            count *= d
        size = count // block * block_bytes
        infos += s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        infos += struct.pack("<IQ", t, len(data))
        # Small, finite-looking bytes: 0x3c3c as f16 is 1.06, as f32 about 0.011.
        data += bytes(((i * 7 + seed) % 5) + 0x3a for i in range(size))
        data += b"\0" * (-len(data) % alignment)
    out = head + infos
    out += b"\0" * (-len(out) % alignment)
    return out + data


def tokenizer_metadata(specials):
    """A byte-level BPE vocabulary: the 256 byte tokens, a few merges, and special tokens."""
    printable = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    alphabet = {}
    n = 0
    for b in range(256):
        if b in printable:
            alphabet[b] = chr(b)
        else:
            alphabet[b] = chr(256 + n)
            n += 1
    tokens = [alphabet[b] for b in range(256)]
    merges = ["h e", "l l", "he ll", "Ġ t", "Ġt h", "o Ġ"]
    for m in merges:
        tokens.append(m.replace(" ", ""))
    types = [1] * len(tokens)
    for text in specials:
        tokens.append(text)
        types.append(3)
    return tokens, types, merges


def model(arch, dim, heads, kv_heads, ffn, types, bias=False, version=3, alignment=32):
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tokens, token_types, merges = tokenizer_metadata(specials)
    vocab = len(tokens)
    head_dim = dim // heads
    meta = [
        ("general.architecture", 8, arch),
        ("general.name", 8, "fuzz seed " + arch),
        (arch + ".block_count", 4, 1),
        (arch + ".context_length", 4, 64),
        (arch + ".embedding_length", 4, dim),
        (arch + ".feed_forward_length", 4, ffn),
        (arch + ".attention.head_count", 4, heads),
        (arch + ".attention.head_count_kv", 4, kv_heads),
        (arch + ".rope.freq_base", 6, 10000.0),
        (arch + ".attention.layer_norm_rms_epsilon", 6, 1e-5),
        ("tokenizer.ggml.model", 8, "gpt2"),
        ("tokenizer.ggml.pre", 8, "smollm" if arch == "llama" else "qwen2"),
        ("tokenizer.ggml.tokens", 9, (8, tokens)),
        ("tokenizer.ggml.token_type", 9, (5, token_types)),
        ("tokenizer.ggml.merges", 9, (8, merges)),
        ("tokenizer.ggml.bos_token_id", 4, vocab - 2),
        ("tokenizer.ggml.eos_token_id", 4, vocab - 1),
        ("tokenizer.chat_template", 8, "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"),
    ]
    q, kvd = heads * head_dim, kv_heads * head_dim
    embed, norm, mat = types
    tensors = [("token_embd.weight", [dim, vocab], embed), ("output_norm.weight", [dim], norm)]
    p = "blk.0."
    tensors += [(p + "attn_norm.weight", [dim], norm), (p + "ffn_norm.weight", [dim], norm),
                (p + "attn_q.weight", [dim, q], mat), (p + "attn_k.weight", [dim, kvd], mat),
                (p + "attn_v.weight", [dim, kvd], mat), (p + "attn_output.weight", [q, dim], mat),
                (p + "ffn_gate.weight", [dim, ffn], mat), (p + "ffn_up.weight", [dim, ffn], mat),
                (p + "ffn_down.weight", [ffn, dim], mat)]
    if bias:
        tensors += [(p + "attn_q.bias", [q], 0), (p + "attn_k.bias", [kvd], 0), (p + "attn_v.bias", [kvd], 0)]
    return gguf(meta, tensors, version=version, alignment=alignment)


def main():
    os.makedirs(OUT, exist_ok=True)
    seeds = {}
    every_type = [("u8", 0, 7), ("i8", 1, -7), ("u16", 2, 700), ("i16", 3, -700), ("u32", 4, 70000),
                  ("i32", 5, -70000), ("f32", 6, 0.5), ("bool", 7, 1), ("str", 8, "hello"),
                  ("u64", 10, 1 << 40), ("i64", 11, -(1 << 40)), ("f64", 12, 2.5)]
    arrays = [("arr." + name, 9, (t, [v, v])) for name, t, v in every_type]
    seeds["metadata-every-type.gguf"] = gguf(every_type + arrays, [])
    seeds["v2-one-tensor.gguf"] = gguf([("general.architecture", 8, "llama")], [("t", [4, 2], 0)], version=2)
    seeds["every-tensor-type.gguf"] = gguf([], [("t%d" % t, [TYPES[t][0] * 2 if TYPES[t][0] > 1 else 8, 2], t)
                                                 for t in sorted(TYPES)], alignment=64)
    seeds["empty-v3.gguf"] = gguf([], [])
    seeds["llama-tiny.gguf"] = model("llama", 32, 2, 1, 64, (2, 0, 3))
    seeds["qwen2-tiny.gguf"] = model("qwen2", 32, 2, 2, 64, (30, 1, 7), bias=True, alignment=64)
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
