#!/usr/bin/env python3
"""PyTorch side of bench/cpu/run.sh: a plain eager Llama forward pass on the CPU over the same model folder as the
engine (config.json + model.safetensors written by make-tiny-model), with no library beyond torch and the standard
library (Debian's python3-torch 1.13 has neither transformers nor safetensors).

  bench   the engine's `bench engine` measures, printed as JSON with the same field names:
          scoring  one teacher-forced forward over a random prompt: the logits of every position, then per position
                   the top-10 logits, softmax over them, entropy and the next token's probability (as the evaluation)
          decode   greedy, batch 1, one token per forward with the kv cache, after the prompt's prefill
  check   the logits of a few token ids next to the engine's (the JSON of `sn11 logits`): prints the largest absolute
          difference for float32 and for bfloat16 compute, and fails when the float32 one exceeds the tolerance

The weights stay torch.bfloat16 as stored; `--dtype` picks the compute type (bf16, like a Hugging Face model loaded in
bf16: norms and attention softmax in float32, everything else in bf16; or f32, the weights upcast once).
"""
import argparse
import json
import math
import os
import re
import struct
import sys
import time

import torch
import torch.nn.functional as F

SAFETENSORS_DTYPES = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32}
# a same-width integer type that numpy knows, to read bytes straight into a tensor's storage
RAW_VIEW = {torch.bfloat16: torch.int16, torch.float16: torch.int16, torch.float32: torch.int32}
COMPUTE_DTYPES = {"bf16": torch.bfloat16, "f32": torch.float32}


def read_safetensors(path):
    """name -> tensor of a .safetensors file: an 8-byte little-endian header length, a JSON header of
    {name: {dtype, shape, data_offsets: [begin, end]}} (offsets relative to the data after the header), the data."""
    tensors = {}
    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_len))
        data_start = 8 + header_len
        for name, info in header.items():
            if name == "__metadata__":
                continue
            dtype = SAFETENSORS_DTYPES.get(info["dtype"])
            if dtype is None:
                raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']}; supported: {sorted(SAFETENSORS_DTYPES)}")
            begin, end = info["data_offsets"]
            t = torch.empty(info["shape"], dtype=dtype)
            if t.numel() * t.element_size() != end - begin:
                raise ValueError(f"{path}: tensor {name} has {end - begin} bytes for shape {info['shape']}")
            f.seek(data_start + begin)
            if f.readinto(memoryview(t.view(RAW_VIEW[dtype]).numpy()).cast("B")) != end - begin:
                raise ValueError(f"{path}: tensor {name} is cut short")
            tensors[name] = t
    return tensors


def inverse_frequencies(cfg):
    """RoPE inverse frequencies per pair index, with "rope_type": "llama3" scaling when config.json asks for it."""
    head_dim = head_dim_of(cfg)
    theta = cfg.get("rope_theta", 10000.0)
    inv = [1.0 / theta ** (2.0 * i / head_dim) for i in range(head_dim // 2)]
    scaling = cfg.get("rope_scaling")
    if scaling:
        kind = scaling.get("rope_type", scaling.get("type"))
        if kind != "llama3":
            raise ValueError(f"rope_scaling type {kind!r} is not supported; supported: llama3 (or none)")
        factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
        original = scaling["original_max_position_embeddings"]
        low_wavelen, high_wavelen = original / low, original / high

        def scale(f):
            wavelen = 2 * math.pi / f
            if wavelen < high_wavelen:
                return f
            if wavelen > low_wavelen:
                return f / factor
            smooth = (original / wavelen - low) / (high - low)
            return (1 - smooth) * f / factor + smooth * f

        inv = [scale(f) for f in inv]
    return torch.tensor(inv, dtype=torch.float32)


def head_dim_of(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class KvCache:
    """Keys and values of every layer for one sequence: [kv_heads, capacity, head_dim] each, filled up to length."""

    def __init__(self, cfg, capacity, dtype):
        shape = (cfg["num_key_value_heads"], capacity, head_dim_of(cfg))
        self.keys = [torch.empty(shape, dtype=dtype) for _ in range(cfg["num_hidden_layers"])]
        self.values = [torch.empty(shape, dtype=dtype) for _ in range(cfg["num_hidden_layers"])]
        self.length = 0


class Llama:
    """The Llama forward pass for one sequence: RMSNorm, RoPE, grouped-query attention, SiLU-gated MLP, lm_head
    (tied to the embeddings when config.json says so)."""

    def __init__(self, model_dir, dtype=torch.bfloat16):
        with open(os.path.join(model_dir, "config.json")) as f:
            self.cfg = cfg = json.load(f)
        if cfg.get("attention_bias") or cfg.get("hidden_act", "silu") != "silu":
            raise ValueError("only Llama models without attention bias and with SiLU are supported")
        path = os.path.join(model_dir, "model.safetensors")
        self.weight_bytes = os.path.getsize(path)
        w = read_safetensors(path)
        if dtype != torch.bfloat16:
            w = {name: t.to(dtype) for name, t in w.items()}
        self.w, self.dtype = w, dtype
        self.lm_head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else w["lm_head.weight"]
        self.heads, self.kv_heads, self.head_dim = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim_of(cfg)
        self.eps = cfg["rms_norm_eps"]
        self.inv_freq = inverse_frequencies(cfg)

    def norm(self, x, weight):
        x32 = x.float()
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return weight * x32.to(x.dtype)

    def rope(self, positions):
        angles = positions.float()[:, None] * self.inv_freq[None, :]
        angles = torch.cat((angles, angles), dim=-1)
        return angles.cos().to(self.dtype), angles.sin().to(self.dtype)

    def attention(self, x, layer, p, cache, cos, sin):
        n, start = x.shape[0], cache.length
        q = F.linear(x, self.w[p + "self_attn.q_proj.weight"]).view(n, self.heads, self.head_dim).transpose(0, 1)
        k = F.linear(x, self.w[p + "self_attn.k_proj.weight"]).view(n, self.kv_heads, self.head_dim).transpose(0, 1)
        v = F.linear(x, self.w[p + "self_attn.v_proj.weight"]).view(n, self.kv_heads, self.head_dim).transpose(0, 1)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        cache.keys[layer][:, start:start + n] = k
        cache.values[layer][:, start:start + n] = v
        total = start + n
        group = self.heads // self.kv_heads
        keys = cache.keys[layer][:, :total].repeat_interleave(group, dim=0)
        values = cache.values[layer][:, :total].repeat_interleave(group, dim=0)
        scores = torch.matmul(q, keys.transpose(1, 2)) / math.sqrt(self.head_dim)
        if n > 1:  # causal: query i (at position start + i) sees keys up to start + i
            scores = scores + torch.full((n, total), float("-inf"), dtype=scores.dtype).triu(start + 1)
        attn = torch.softmax(scores.float(), dim=-1).to(self.dtype)
        out = torch.matmul(attn, values).transpose(0, 1).reshape(n, self.heads * self.head_dim)
        return F.linear(out, self.w[p + "self_attn.o_proj.weight"])

    def hidden(self, ids, cache):
        """Final-norm hidden states of the new tokens ids (a 1-d tensor) appended to the sequence in cache."""
        x = self.w["model.embed_tokens.weight"][ids]
        cos, sin = self.rope(torch.arange(cache.length, cache.length + ids.shape[0]))
        for layer in range(self.cfg["num_hidden_layers"]):
            p = f"model.layers.{layer}."
            x = x + self.attention(self.norm(x, self.w[p + "input_layernorm.weight"]), layer, p, cache, cos, sin)
            h = self.norm(x, self.w[p + "post_attention_layernorm.weight"])
            gated = F.silu(F.linear(h, self.w[p + "mlp.gate_proj.weight"])) * F.linear(h, self.w[p + "mlp.up_proj.weight"])
            x = x + F.linear(gated, self.w[p + "mlp.down_proj.weight"])
        cache.length += ids.shape[0]
        return self.norm(x, self.w["model.norm.weight"])

    def logits(self, hidden):
        return F.linear(hidden, self.lm_head).float()

    def new_cache(self, capacity):
        return KvCache(self.cfg, capacity, self.dtype)


def score(model, ids, k=10):
    """The evaluation's scoring of one sequence: position i predicts token i + 1; per position the top-k logits,
    softmax over them, its entropy and the probability of the actual next token (0 when not in the top k)."""
    logits = model.logits(model.hidden(ids, model.new_cache(ids.shape[0])))[:-1]
    top, top_ids = logits.topk(k, dim=-1)
    p = torch.softmax(top, dim=-1)
    entropy = -(p * torch.log(p)).sum(-1)
    hit = top_ids == ids[1:, None]
    return (p * hit).sum(-1), hit.any(-1), entropy


def decode(model, prompt, steps):
    """Seconds for steps greedy tokens after prefilling prompt, each token taken out as a Python int (as ours does)."""
    cache = model.new_cache(prompt.shape[0] + steps)
    nxt = int(model.logits(model.hidden(prompt, cache)[-1:]).argmax())
    start = time.perf_counter()
    for _ in range(steps):
        nxt = int(model.logits(model.hidden(torch.tensor([nxt]), cache)).argmax())
    return time.perf_counter() - start


def blas_line():
    """The build's BLAS and oneDNN settings (torch.__config__.show()) and the BLAS libraries this process really loaded
    (Debian's torch links libblas.so.3, which the alternatives system points at OpenBLAS or the reference BLAS)."""
    settings = re.findall(r"\b(BLAS_INFO|LAPACK_INFO|USE_MKLDNN|USE_OPENMP)=([^,\s]+)", torch.__config__.show())
    with open("/proc/self/maps") as f:
        loaded = sorted({os.path.realpath(line.split()[-1]) for line in f if "blas" in line.rsplit("/", 1)[-1]})
    return ", ".join(f"{k}={v}" for k, v in settings) + "; loaded: " + (" ".join(loaded) or "no BLAS library")


def bench(a):
    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    model = Llama(a.model, COMPUTE_DTYPES[a.dtype])
    load_seconds = time.perf_counter() - t0
    vocab = model.cfg["vocab_size"]
    generator = torch.Generator().manual_seed(1)
    prompt = torch.randint(0, min(vocab, 256), (a.prompt_tokens,), generator=generator)
    scored = torch.randint(0, min(vocab, 256), (a.prompt_tokens,), generator=generator)
    best_score = best_decode = float("inf")
    for rep in range(max(1, a.repeats) + 1):  # the first is a warm-up, as in ours
        s0 = time.perf_counter()
        score(model, scored)
        score_seconds = time.perf_counter() - s0
        decode_seconds = decode(model, prompt, a.decode_tokens) if a.decode_tokens > 0 else 0.0
        if rep > 0:
            best_score, best_decode = min(best_score, score_seconds), min(best_decode, decode_seconds)
    return {
        "model": a.model, "torch": torch.__version__, "blas": blas_line(), "threads": torch.get_num_threads(),
        "openmp": f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}",
        "dtype": a.dtype, "load_seconds": load_seconds, "weight_bytes": model.weight_bytes,
        "prompt_tokens": a.prompt_tokens, "score_batch": 1, "score_seconds": best_score,
        "score_tokens_per_second": a.prompt_tokens / best_score,
        "decode_tokens": a.decode_tokens, "decode_seconds": best_decode,
        "decode_tokens_per_second": a.decode_tokens / best_decode if a.decode_tokens > 0 else None,  # none timed
    }


def check(a):
    with open(a.engine_logits) as f:
        engine = json.load(f)
    ids = torch.tensor(engine["tokens"])
    expected = torch.tensor(engine["logits"], dtype=torch.float32)
    scale = max(1.0, float(expected.abs().max()))
    result = {"model": a.model, "tokens": len(engine["tokens"]), "max_abs_logit": float(expected.abs().max())}
    for name, dtype in COMPUTE_DTYPES.items():
        model = Llama(a.model, dtype)
        got = model.logits(model.hidden(ids, model.new_cache(ids.shape[0])))
        result[f"max_abs_diff_{name}"] = float((got - expected).abs().max())
    result["tolerance_f32"] = a.tolerance * scale
    result["ok"] = result["max_abs_diff_f32"] <= result["tolerance_f32"]
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench", help="scoring and decode tokens/s as JSON")
    b.add_argument("--model", required=True)
    b.add_argument("--threads", type=int, default=os.cpu_count())
    b.add_argument("--prompt-tokens", type=int, default=128)
    b.add_argument("--decode-tokens", type=int, default=16, help="0 measures scoring only")
    b.add_argument("--repeats", type=int, default=1, help="timed repetitions after one warm-up; the best is reported")
    b.add_argument("--dtype", choices=sorted(COMPUTE_DTYPES), default="bf16")
    c = sub.add_parser("check", help="logits vs the engine's (`sn11 logits` JSON)")
    c.add_argument("--model", required=True)
    c.add_argument("--engine-logits", required=True, metavar="FILE")
    c.add_argument("--tolerance", type=float, default=1e-3,
                   help="largest float32 difference allowed, relative to the largest logit (at least 1)")
    a = ap.parse_args()
    with torch.inference_mode():
        result = bench(a) if a.command == "bench" else check(a)
    print(json.dumps(result, indent=2))
    return 0 if result.get("ok", True) else 1


if __name__ == "__main__":
    sys.exit(main())
