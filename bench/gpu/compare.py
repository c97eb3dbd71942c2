#!/usr/bin/env python3
"""Prints bench/gpu/run.sh's benchmark side by side: ours (bench engine, bench kernels) vs transformers eager and
torch.matmul (torch_reference.py), with ratios and the issue's goals. Where the reference is missing (no GPU, no
transformers) it prints ours alone. The decode limit is the bytes read per token (the weights) over the copy bandwidth
torch measured, or --bandwidth-gbs where it did not run."""
import argparse
import json
import os


def read(folder, name):
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--bandwidth-gbs", type=float, default=4300.0, help="copy bandwidth when torch did not measure it")
    ap.add_argument("models", nargs="+", help="model names: ours-engine-NAME.json, ours-kernels-NAME.json, torch-NAME.json")
    a = ap.parse_args()
    rows = []
    for name in a.models:
        engine, kernels = read(a.dir, f"ours-engine-{name}.json"), read(a.dir, f"ours-kernels-{name}.json")
        torch = read(a.dir, f"torch-{name}.json") or {}
        bandwidth = torch.get("copy_gb_per_second") or a.bandwidth_gbs
        limit = bandwidth * 1e9 / engine["weight_bytes"]
        ref = lambda *keys: _get(torch, keys)
        rows.append((name, f"scoring tok/s ({engine['score_batch']} x {engine['prompt_tokens']}, top-10)",
                     engine["score_tokens_per_second"], ref("score", "tokens_per_second"), 1.5, ">= 1.5x transformers eager"))
        rows.append((name, f"matmul TFLOP/s ({kernels['rows']} rows)", kernels["prefill_tflops"],
                     ref("matmul", "prefill_tflops"), 0.9, ">= 0.9x torch.matmul"))
        rows.append((name, "matmul GB/s (1 row)", kernels["decode_gb_per_second"], ref("matmul", "decode_gb_per_second"),
                     None, ""))
        rows.append((name, "decode tok/s (batch 1)", engine["decode_tokens_per_second"],
                     ref("decode", "tokens_per_second"), None, ""))
        rows.append((name, f"decode vs limit ({bandwidth:.0f} GB/s / weight bytes)", engine["decode_tokens_per_second"],
                     limit, 0.6, ">= 0.6 of the limit"))
        print(f"{name}: ours on {engine['backend']} {engine.get('backend_settings', {})}; weights "
              f"{engine['weight_bytes'] / 1e9:.2f} GB; reference: "
              + (f"{torch['device']}, torch {torch['torch']}, transformers {torch.get('transformers', '?')}, measured copy "
                 f"{torch['copy_gb_per_second']:.0f} GB/s" if torch else "none (needs torch with CUDA and transformers)"))
    print(f"{'model':<18}{'metric':<46}{'ours':>12}{'reference':>12}{'ratio':>9}  goal")
    for name, metric, ours, reference, goal, text in rows:
        ratio = ours / reference if reference else None
        verdict = "" if ratio is None or goal is None else (" met" if ratio >= goal else " not met")
        print(f"{name:<18}{metric:<46}{ours:>12.4g}{cell(reference, '.4g'):>12}{cell(ratio, '.3g'):>9}  {text}{verdict}")

def cell(value, fmt):
    return "-" if value is None else format(value, fmt)


def _get(d, keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


if __name__ == "__main__":
    main()
