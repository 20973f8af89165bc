#!/usr/bin/env python3
"""Check (outside the test suite): the merged GGUF that `hellotune export` writes gives, in llama.cpp, the
greedy replies that `hellotune chat --adapter` gives on the base model.
  ~/.cache/hellotune-anchors/llamacpp/bin/python scripts/checks/export_llamacpp.py ADAPTER_DIR MERGED.gguf \
      [--base BASE.gguf] [--prompts 10] [--tokens 48]
For each of the first N held-out questions, up to T tokens at temperature 0 from
  A. hellotune chat --adapter ADAPTER_DIR on BASE (the reference),
  B. llama.cpp on MERGED.gguf,
  C. llama.cpp on BASE with ADAPTER_DIR/adapter.gguf as its own LoRA (shows whether a difference is the merge's).
C against A is the baseline: how far two engines agree with no merge at all.
Tokens matched = the common prefix of two replies, counted in llama.cpp's tokens (A's text is tokenized by llama.cpp;
B and C are compared as generated). The prompt is the model's chat template rendered by llama-cpp-python; its
length is checked against hellotune's own count. Prints one line per prompt, then a JSON summary.
"""
import argparse, json, os, subprocess, sys
from llama_cpp import Llama
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, "..", ".."))
p = argparse.ArgumentParser()
p.add_argument("adapter")
p.add_argument("merged")
p.add_argument("--base", default=os.path.join(os.environ.get("HELLOTUNE_HOME", os.path.expanduser("~/.cache/hellotune")),
                                              "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
p.add_argument("--prompts", type=int, default=10)
p.add_argument("--tokens", type=int, default=48)
p.add_argument("--bin", default=os.path.join(root, ".build", "release", "hellotune"))
a = p.parse_args()

with open(os.path.join(here, "heldout_questions.txt")) as f:
    questions = [line.strip() for line in f if line.strip()][: a.prompts]


def hellotune(question):
    out = subprocess.run([a.bin, "chat", "--model", a.base, "--adapter", a.adapter, "--prompt", question,
                          "--max-tokens", str(a.tokens), "--temperature", "0", "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def load(path, lora=None):
    return Llama(model_path=path, lora_path=lora, n_threads=2, n_threads_batch=2, n_ctx=1024, verbose=False)


def prompt_tokens(m, question):
    meta = m.metadata
    vocab = lambda key: m._model.token_get_text(int(meta[key])) if key in meta else ""
    fmt = Jinja2ChatFormatter(template=meta["tokenizer.chat_template"], eos_token=vocab("tokenizer.ggml.eos_token_id"),
                              bos_token=vocab("tokenizer.ggml.bos_token_id"))
    text = fmt(messages=[{"role": "user", "content": question}]).prompt
    return m.tokenize(text.encode(), add_bos=False, special=True)


def greedy(m, tokens):
    stops = {m.token_eos()} | {t for t in m.tokenize(b"<|im_end|>", add_bos=False, special=True)[:1]}
    m.reset()
    m.eval(tokens)
    out = []
    for _ in range(a.tokens):
        t = m.sample(temp=0.0)
        if t in stops:
            break
        out.append(t)
        m.eval([t])
    return out


def prefix(x, y):
    n = 0
    while n < min(len(x), len(y)) and x[n] == y[n]:
        n += 1
    return n


merged, lora = load(a.merged), load(a.base, os.path.join(a.adapter, "adapter.gguf"))
total = {"merged_vs_hellotune": 0, "merged_vs_llamacpp_lora": 0, "llamacpp_lora_vs_hellotune": 0, "reference_tokens": 0,
                   "exact_replies_vs_hellotune": 0, "prompt_length_mismatches": 0}
for q in questions:
    ref = hellotune(q)
    ids = prompt_tokens(merged, q)
    ref_ids = merged.tokenize(ref["text"].encode(), add_bos=False, special=True)
    got = greedy(merged, ids)
    via_lora = greedy(lora, ids)
    text = merged.detokenize(got).decode("utf-8", errors="replace")
    total["merged_vs_hellotune"] += prefix(got, ref_ids)
    total["merged_vs_llamacpp_lora"] += prefix(got, via_lora)
    total["llamacpp_lora_vs_hellotune"] += prefix(via_lora, ref_ids)
    total["reference_tokens"] += len(ref_ids)
    total["exact_replies_vs_hellotune"] += text == ref["text"]
    total["prompt_length_mismatches"] += len(ids) != ref["prompt_tokens"]
    print(f"{prefix(got, ref_ids):3d}/{len(ref_ids):3d} vs hellotune, {prefix(got, via_lora):3d}/{len(via_lora):3d} vs "
          f"llama.cpp+lora | {q} -> {text[:60]!r}", file=sys.stderr)
total.update(prompts=len(questions), max_tokens=a.tokens, merged=a.merged)
print(json.dumps(total))
