#!/usr/bin/env python3
"""PyTorch eager side of bench/gpu/run.sh: the same computations as the engine's benchmarks, on the same model folder
(config.json + model.safetensors written by make-tiny-model), printed as JSON.

scoring: teacher-forced scoring of batch x seq random tokens: the full forward pass (logits of every position), then per
         position the top-10 logits, softmax over them, entropy and the next token's probability.
decode:  greedy decode at batch 1 with the kv cache, after a 128-token prompt.
matmul:  torch.matmul on the model's projection and lm-head shapes, seq rows (TFLOP/s) and one row (GB/s).
copy:    device-to-device copy bandwidth, for reference against the nominal memory bandwidth.
"""
import argparse
import json
import subprocess

import torch
from transformers import AutoConfig, LlamaForCausalLM


def timed(fn, repeats):
    """Mean seconds of fn() over repeats, after one warm-up, timed with CUDA events."""
    fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(repeats):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / 1000.0 / repeats


def load(model_dir):
    try:
        model = LlamaForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16)
    except TypeError:  # transformers before 4.56 names it torch_dtype
        model = LlamaForCausalLM.from_pretrained(model_dir, torch_dtype=torch.bfloat16)
    return model.to("cuda").eval()


def score(model, ids, k=10):
    logits = model(ids).logits[:, :-1]  # position i predicts token i + 1
    top, top_ids = logits.float().topk(k, dim=-1)
    p = torch.softmax(top, dim=-1)
    entropy = -(p * torch.log(p)).sum(-1)
    hit = top_ids == ids[:, 1:, None]
    target_prob = (p * hit).sum(-1)
    return entropy, target_prob, hit.any(-1)


def decode(model, prompt, steps):
    out = model(prompt, use_cache=True)
    past, nxt = out.past_key_values, out.logits[:, -1].argmax(-1, keepdim=True)
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(steps):
        out = model(nxt, past_key_values=past, use_cache=True)
        past, nxt = out.past_key_values, out.logits[:, -1].argmax(-1, keepdim=True)
        nxt.item()  # the engine also takes each token to the host
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / 1000.0


def matmul_shapes(cfg):
    hd = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    h, q, kv, ff = cfg.hidden_size, cfg.num_attention_heads * hd, cfg.num_key_value_heads * hd, cfg.intermediate_size
    return [("q_proj", q, h), ("k_proj", kv, h), ("v_proj", kv, h), ("o_proj", h, q),
            ("gate_proj", ff, h), ("up_proj", ff, h), ("down_proj", h, ff), ("lm_head", cfg.vocab_size, h)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--seq", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--decode-tokens", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    torch.manual_seed(0)
    result = {"torch": torch.__version__, "device": torch.cuda.get_device_name(0)}
    try:
        import transformers
        result["transformers"] = transformers.__version__
        result["nvidia_smi"] = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,clocks.max.memory",
                                               "--format=csv,noheader"], capture_output=True, text=True).stdout.strip()
    except (OSError, ImportError):
        pass

    cfg = AutoConfig.from_pretrained(a.model)
    with torch.inference_mode():
        # matmul first, before the model takes its memory
        shapes, flops, seconds, weight_bytes, gemv_seconds = [], 0.0, 0.0, 0.0, 0.0
        for name, out_dim, in_dim in matmul_shapes(cfg):
            w = torch.randn(out_dim, in_dim, device="cuda", dtype=torch.bfloat16)
            x = torch.randn(a.seq, in_dim, device="cuda", dtype=torch.bfloat16)
            x1 = torch.randn(1, in_dim, device="cuda", dtype=torch.bfloat16)
            t = timed(lambda: torch.matmul(x, w.t()), 20)
            t1 = timed(lambda: torch.matmul(x1, w.t()), 20)
            f, b = 2.0 * a.seq * out_dim * in_dim, 2.0 * out_dim * in_dim
            flops, seconds, weight_bytes, gemv_seconds = flops + f, seconds + t, weight_bytes + b, gemv_seconds + t1
            shapes.append({"name": name, "out": out_dim, "in": in_dim, "prefill_tflops": f / t / 1e12,
                           "decode_gb_per_second": b / t1 / 1e9})
            del w, x, x1
        result["matmul"] = {"rows": a.seq, "shapes": shapes, "prefill_tflops": flops / seconds / 1e12,
                            "decode_gb_per_second": weight_bytes / gemv_seconds / 1e9}

        src = torch.empty(1 << 30, dtype=torch.uint8, device="cuda")
        dst = torch.empty_like(src)
        result["copy_gb_per_second"] = 2.0 * src.numel() / timed(lambda: dst.copy_(src), 10) / 1e9
        del src, dst

        model = load(a.model)
        result["weight_bytes"] = sum(p.numel() * p.element_size() for p in model.parameters())
        ids = torch.randint(0, 256, (a.batch, a.seq), device="cuda")
        t = timed(lambda: score(model, ids), a.repeats)
        result["score"] = {"batch": a.batch, "seq": a.seq, "seconds": t, "tokens_per_second": a.batch * a.seq / t}
        torch.cuda.empty_cache()
        prompt = torch.randint(0, 256, (1, 128), device="cuda")
        decode(model, prompt, 4)  # warm-up
        t = min(decode(model, prompt, a.decode_tokens) for _ in range(a.repeats))
        result["decode"] = {"tokens": a.decode_tokens, "seconds": t, "tokens_per_second": a.decode_tokens / t}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
