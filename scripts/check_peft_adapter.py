#!/usr/bin/env python3
"""Check a LoRA adapter folder the way a PEFT / llama.cpp user would see it.

    scripts/check_peft_adapter.py DIR [--rank R] [--layers N] [--alpha A] [--arch llama]
                                      [--dim D --ffn F --heads H --kv-heads K [--head-dim HD]]
                                      [--targets q_proj,k_proj,...] [--no-gguf]

DIR must hold adapter_config.json and adapter_model.safetensors (PEFT). Checked:
  * adapter_config.json: peft_type LORA, task_type CAUSAL_LM, r, lora_alpha, target_modules,
    bias "none", no DoRA / fan_in_fan_out;
  * every base_model.model.model.layers.{l}.{self_attn|mlp}.{proj}.lora_{A,B}.weight for every
    layer and target, A of shape [r, in], B of shape [out, r], float dtype, nothing else;
  * shapes consistent across layers and projections (or equal to --dim/--ffn/--heads/...).
If the `gguf` package is importable and DIR/adapter.gguf exists, also: general.architecture,
general.type "adapter", adapter.type "lora", adapter.lora.alpha (float32, equal to lora_alpha),
tensor names blk.{l}.{stem}.weight.lora_{a,b} with ggml shapes [in, r] / [r, out], and values:
lora_a equal to lora_A, lora_b equal to lora_B (for llama, after llama.cpp's q/k row permutation,
which needs --heads and --kv-heads).

Uses the `safetensors` package when installed (pip install safetensors numpy), else a small
built-in parser. Prints a summary; exits 1 on any mismatch, 2 on usage errors.
"""

import argparse
import json
import os
import struct
import sys

import numpy as np

TARGETS = [  # (HF name, HF block, GGUF stem)
    ("q_proj", "self_attn", "attn_q"),
    ("k_proj", "self_attn", "attn_k"),
    ("v_proj", "self_attn", "attn_v"),
    ("o_proj", "self_attn", "attn_output"),
    ("gate_proj", "mlp", "ffn_gate"),
    ("up_proj", "mlp", "ffn_up"),
    ("down_proj", "mlp", "ffn_down"),
]
BLOCK = {t: b for t, b, _ in TARGETS}
STEM = {t: s for t, _, s in TARGETS}


def peft_name(layer, target, b):
    return f"base_model.model.model.layers.{layer}.{BLOCK[target]}.{target}.lora_{'B' if b else 'A'}.weight"


def gguf_name(layer, target, b):
    return f"blk.{layer}.{STEM[target]}.weight.lora_{'b' if b else 'a'}"


def load_safetensors(path):
    """{name: np.ndarray (float32)}, dtypes {name: str}, loader description."""
    try:
        from safetensors import safe_open
    except ImportError:
        safe_open = None
    if safe_open is not None:
        out, dtypes = {}, {}
        with safe_open(path, framework="numpy") as f:
            for k in f.keys():
                t = f.get_tensor(k)
                dtypes[k] = str(t.dtype)
                out[k] = t
        return out, dtypes, "safetensors package"
    # Fallback: header + raw data (F32 / F16 / BF16 only).
    with open(path, "rb") as fh:
        raw = fh.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    out, dtypes = {}, {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        buf = data[b:e]
        if v["dtype"] == "F32":
            a = np.frombuffer(buf, dtype="<f4")
        elif v["dtype"] == "F16":
            a = np.frombuffer(buf, dtype="<f2").astype(np.float32)
        elif v["dtype"] == "BF16":
            a = (np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise SystemExit(f"{path}: tensor {k} has dtype {v['dtype']}, not a float type")
        out[k] = a.reshape(v["shape"])
        dtypes[k] = v["dtype"]
    return out, dtypes, "built-in parser (safetensors not installed)"


def hf_to_gguf_rows(w, n_head):
    """llama.cpp's LlamaModel.permute (convert_hf_to_gguf.py), applied to a LoRA B matrix."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--rank", type=int)
    ap.add_argument("--layers", type=int)
    ap.add_argument("--alpha", type=float)
    ap.add_argument("--arch", default="llama")
    ap.add_argument("--dim", type=int, help="hidden size")
    ap.add_argument("--ffn", type=int, help="intermediate size")
    ap.add_argument("--heads", type=int)
    ap.add_argument("--kv-heads", type=int)
    ap.add_argument("--head-dim", type=int)
    ap.add_argument("--targets", default=",".join(t for t, _, _ in TARGETS))
    ap.add_argument("--no-gguf", action="store_true")
    args = ap.parse_args()

    errors = []

    def err(msg):
        errors.append(msg)

    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = [t for t in targets if t not in BLOCK]
    if unknown:
        ap.error(f"unknown targets {unknown}; known: {[t for t, _, _ in TARGETS]}")

    cfg_path = os.path.join(args.dir, "adapter_config.json")
    st_path = os.path.join(args.dir, "adapter_model.safetensors")
    for p in (cfg_path, st_path):
        if not os.path.isfile(p):
            print(f"FAIL: {p} is missing")
            return 1

    # adapter_config.json
    try:
        with open(cfg_path) as f:
            cfg = json.load(f)
    except json.JSONDecodeError as e:
        print(f"FAIL: {cfg_path} is not valid JSON: {e}")
        return 1
    for key, want in [("peft_type", "LORA"), ("task_type", "CAUSAL_LM"), ("bias", "none"),
                      ("fan_in_fan_out", False), ("use_dora", False)]:
        if cfg.get(key, want) != want:
            err(f"adapter_config.json: {key} is {cfg.get(key)!r}, expected {want!r}")
    r = cfg.get("r")
    if not isinstance(r, int) or r <= 0:
        err(f"adapter_config.json: r is {r!r}, not a positive integer")
    if args.rank is not None and r != args.rank:
        err(f"adapter_config.json: r is {r}, expected {args.rank}")
    rank = args.rank if args.rank is not None else r
    alpha = cfg.get("lora_alpha")
    if not isinstance(alpha, (int, float)):
        err(f"adapter_config.json: lora_alpha is {alpha!r}, not a number")
    elif args.alpha is not None and float(alpha) != args.alpha:
        err(f"adapter_config.json: lora_alpha is {alpha}, expected {args.alpha}")
    tm = cfg.get("target_modules")
    if not isinstance(tm, list) or sorted(tm) != sorted(targets):
        err(f"adapter_config.json: target_modules is {tm!r}, expected {targets}")
    for key in ("base_model_name_or_path", "lora_dropout", "inference_mode"):
        if key not in cfg:
            err(f"adapter_config.json: {key} is missing")

    # adapter_model.safetensors
    tensors, dtypes, loader = load_safetensors(st_path)
    prefix = "base_model.model.model.layers."
    layer_ids = set()
    for k in tensors:
        if k.startswith(prefix) and k[len(prefix):].split(".")[0].isdigit():
            layer_ids.add(int(k[len(prefix):].split(".")[0]))
    layers = args.layers if args.layers is not None else (max(layer_ids) + 1 if layer_ids else 0)
    if layers == 0:
        err("adapter_model.safetensors holds no layer tensors")

    expected = set()
    dims = {}  # target -> (out, in) seen at layer 0
    for layer in range(layers):
        for t in targets:
            a_name, b_name = peft_name(layer, t, False), peft_name(layer, t, True)
            expected.update((a_name, b_name))
            a, b = tensors.get(a_name), tensors.get(b_name)
            if a is None or b is None:
                err(f"missing {a_name if a is None else b_name}")
                continue
            if a.ndim != 2 or b.ndim != 2 or a.shape[0] != rank or b.shape[1] != rank:
                err(f"{t} layer {layer}: lora_A {list(a.shape)} / lora_B {list(b.shape)}, expected [{rank}, in] / [out, {rank}]")
                continue
            shape = (b.shape[0], a.shape[1])
            if dims.setdefault(t, shape) != shape:
                err(f"{t} layer {layer}: (out, in) = {shape}, layer 0 has {dims[t]}")
            if not np.issubdtype(a.dtype, np.floating) or not np.issubdtype(b.dtype, np.floating):
                err(f"{t} layer {layer}: dtype {a.dtype}/{b.dtype} is not a float type")
            if not (np.isfinite(a).all() and np.isfinite(b).all()):
                err(f"{t} layer {layer}: non-finite values")
    extra = sorted(set(tensors) - expected)
    for k in extra[:10]:
        err(f"unexpected tensor {k}")

    # Model dimensions: given, or inferred and checked for consistency.
    hidden = args.dim
    head_dim = args.head_dim or (args.dim // args.heads if args.dim and args.heads else None)
    if hidden is None:
        for t in ("q_proj", "k_proj", "v_proj", "gate_proj", "up_proj"):
            if t in dims:
                hidden = dims[t][1]
                break
        for t in ("o_proj", "down_proj"):
            if hidden is None and t in dims:
                hidden = dims[t][0]
    ffn = args.ffn or next((dims[t][0] for t in ("gate_proj", "up_proj") if t in dims), None) or (dims["down_proj"][1] if "down_proj" in dims else None)
    q_out = args.heads * head_dim if args.heads and head_dim else next((dims[t][s] for t, s in (("q_proj", 0), ("o_proj", 1)) if t in dims), None)
    kv_out = args.kv_heads * head_dim if args.kv_heads and head_dim else next((dims[t][0] for t in ("k_proj", "v_proj") if t in dims), None)
    want = {"q_proj": (q_out, hidden), "k_proj": (kv_out, hidden), "v_proj": (kv_out, hidden), "o_proj": (hidden, q_out),
            "gate_proj": (ffn, hidden), "up_proj": (ffn, hidden), "down_proj": (hidden, ffn)}
    for t, shape in dims.items():
        if shape != want[t]:
            err(f"{t}: (out, in) = {shape}, expected {want[t]} (hidden {hidden}, q {q_out}, kv {kv_out}, ffn {ffn})")
    if q_out is not None and args.heads and q_out % args.heads:
        err(f"q_proj out {q_out} is not a multiple of --heads {args.heads}")

    n_st = len(tensors)
    st_dtypes = sorted(set(dtypes.values()))
    print(f"safetensors ({loader}): {n_st} tensors, layers={layers}, rank={rank}, alpha={alpha}, "
          f"targets={len(targets)} ({','.join(targets)}), hidden={hidden}, q={q_out}, kv={kv_out}, ffn={ffn}, dtype={st_dtypes}")
    print(f"adapter_config.json: peft_type={cfg.get('peft_type')} task_type={cfg.get('task_type')} r={r} "
          f"lora_alpha={alpha} lora_dropout={cfg.get('lora_dropout')} base_model={cfg.get('base_model_name_or_path')!r}")

    # adapter.gguf
    gguf_path = os.path.join(args.dir, "adapter.gguf")
    if args.no_gguf:
        pass
    elif not os.path.isfile(gguf_path):
        print("adapter.gguf: not present, skipped")
    else:
        try:
            import gguf
        except ImportError:
            gguf = None
            print("adapter.gguf: the gguf package is not installed (pip install gguf), skipped")
        if gguf is not None:
            check_gguf(gguf, gguf_path, args, cfg, tensors, targets, layers, rank, err)

    if errors:
        print(f"FAIL: {len(errors)} problem(s)")
        for e in errors[:25]:
            print("  - " + e)
        if len(errors) > 25:
            print(f"  ... and {len(errors) - 25} more")
        return 1
    print("OK")
    return 0


def check_gguf(gguf, path, args, cfg, st, targets, layers, rank, err):
    reader = gguf.GGUFReader(path)

    def field(key):
        f = reader.fields.get(key)
        if f is None:
            return None, None
        if hasattr(f, "contents"):
            return f.contents(), f.types[0]
        v = f.parts[f.data[0]]
        return (bytes(v).decode() if f.types[0] == gguf.GGUFValueType.STRING else v[0]), f.types[0]

    for key, want in [("general.architecture", args.arch), ("general.type", "adapter"), ("adapter.type", "lora")]:
        v, _ = field(key)
        if v != want:
            err(f"adapter.gguf: {key} is {v!r}, expected {want!r}")
    alpha, atype = field("adapter.lora.alpha")
    if atype != gguf.GGUFValueType.FLOAT32:
        err(f"adapter.gguf: adapter.lora.alpha has type {atype}, llama.cpp reads FLOAT32")
    elif isinstance(cfg.get("lora_alpha"), (int, float)) and np.float32(alpha) != np.float32(cfg["lora_alpha"]):
        err(f"adapter.gguf: adapter.lora.alpha is {alpha}, adapter_config.json has {cfg['lora_alpha']}")

    by_name = {t.name: t for t in reader.tensors}
    expected = set()
    compared = permuted = 0
    can_permute = args.heads is not None and args.kv_heads is not None
    for layer in range(layers):
        for t in targets:
            for b in (False, True):
                name = gguf_name(layer, t, b)
                expected.add(name)
                gt = by_name.get(name)
                if gt is None:
                    err(f"adapter.gguf: missing {name}")
                    continue
                ref = st.get(peft_name(layer, t, b))
                if ref is None:
                    continue
                ne = [int(x) for x in gt.shape]
                want_ne = [ref.shape[1], rank] if not b else [rank, ref.shape[0]]
                if ne != want_ne:
                    err(f"adapter.gguf: {name} has ggml shape {ne}, expected {want_ne}")
                    continue
                if gt.tensor_type != gguf.GGMLQuantizationType.F32:
                    err(f"adapter.gguf: {name} is {gt.tensor_type.name}, expected F32")
                    continue
                data = np.asarray(gt.data, dtype=np.float32).reshape(ref.shape)
                want = ref.astype(np.float32)
                if b and args.arch == "llama" and t in ("q_proj", "k_proj"):
                    if not can_permute:
                        continue
                    want = hf_to_gguf_rows(want, args.heads if t == "q_proj" else args.kv_heads)
                    permuted += 1
                if not np.array_equal(data, want):
                    err(f"adapter.gguf: {name} values differ from {peft_name(layer, t, b)}"
                        + (" (after llama.cpp's q/k permutation)" if b and t in ("q_proj", "k_proj") and args.arch == "llama" else ""))
                compared += 1
    for name in sorted(set(by_name) - expected)[:10]:
        err(f"adapter.gguf: unexpected tensor {name}")
    note = "" if can_permute or args.arch != "llama" else " (q/k lora_b not compared: pass --heads and --kv-heads)"
    print(f"adapter.gguf: arch={field('general.architecture')[0]} general.type={field('general.type')[0]} "
          f"adapter.type={field('adapter.type')[0]} alpha={alpha} ({atype.name if atype is not None else None}), "
          f"{len(by_name)} tensors, {compared} compared bit-exactly with the safetensors ({permuted} through the q/k permutation){note}")


if __name__ == "__main__":
    sys.exit(main())
