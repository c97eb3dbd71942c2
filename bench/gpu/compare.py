#!/usr/bin/env python3
"""Prints bench/gpu/run.sh's results side by side: ours (cuda backend) vs PyTorch eager, with ratios and goals."""
import argparse
import json
import os


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--bandwidth-gbs", type=float, default=4800.0, help="nominal memory bandwidth (H200: 4800 GB/s)")
    ap.add_argument("shapes", nargs="+")
    a = ap.parse_args()
    rows = []
    for shape in a.shapes:
        def read(name):
            with open(os.path.join(a.dir, f"{name}-{shape}.json")) as f:
                return json.load(f)
        engine, kernels, torch = read("ours-engine"), read("ours-kernels"), read("torch")
        limit = a.bandwidth_gbs * 1e9 / engine["weight_bytes"]
        rows.append((shape, f"scoring tok/s ({engine['score_batch']} x {engine['prompt_tokens']})",
                     engine["score_tokens_per_second"], torch["score"]["tokens_per_second"], ">= 1.5x PyTorch eager"))
        rows.append((shape, f"matmul TFLOP/s ({kernels['rows']} rows)", kernels["prefill_tflops"],
                     torch["matmul"]["prefill_tflops"], ">= 0.7x torch.matmul"))
        rows.append((shape, "matmul GB/s (1 row)", kernels["decode_gb_per_second"],
                     torch["matmul"]["decode_gb_per_second"], ""))
        rows.append((shape, "decode tok/s (batch 1)", engine["decode_tokens_per_second"],
                     torch["decode"]["tokens_per_second"], ""))
        rows.append((shape, f"decode vs limit ({a.bandwidth_gbs:.0f} GB/s / weights)", engine["decode_tokens_per_second"],
                     limit, ">= 0.5 of the limit"))
        print(f"{shape}: {torch['device']}, weights {engine['weight_bytes'] / 1e9:.2f} GB, "
              f"measured copy {torch.get('copy_gb_per_second', 0):.0f} GB/s, torch {torch['torch']}")
    print(f"{'shape':<6}{'metric':<44}{'ours':>12}{'reference':>12}{'ratio':>8}  goal")
    for shape, metric, ours, ref, goal in rows:
        print(f"{shape:<6}{metric:<44}{ours:>12.2f}{ref:>12.2f}{ours / ref:>8.2f}  {goal}")


if __name__ == "__main__":
    main()
