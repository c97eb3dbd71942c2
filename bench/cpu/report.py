#!/usr/bin/env python3
"""Prints bench/cpu/run.sh's rounds side by side as a markdown table (ours vs the PyTorch peer: best and median of the
rounds, ratios ours/torch) and writes every raw figure to one JSON file.

Reads RAW_DIR/round<R>-triad.json and RAW_DIR/round<R>-<ours|torch>-<LENGTH>.json for each round and scoring length;
decode comes from the runs at the first length. Best = the fastest round; the decode rows divide the bandwidth limit
(weight bytes read per token / the best triad bandwidth = the least seconds a token can take) by each side's measured
seconds per token.
"""
import argparse
import json
import os
import platform
import statistics

SIDES = ("ours", "torch")


def read(path):
    with open(path) as f:
        return json.load(f)


def cpu_info():
    model, flags = platform.processor() or "unknown", set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    wanted = ("avx2", "fma", "avx512f", "avx512bw", "avx512_bf16", "avx512_vnni", "amx_bf16")
    return model, [f for f in wanted if f in flags]


def jdk_version(ours):
    """The JVM that ran ours, as `bench engine --json` reports it (./sn11 picks a JDK 25, not the java on PATH)."""
    return ours.get("jvm", "jvm unknown")


def summary(values):
    return {"best": max(values), "median": statistics.median(values), "rounds": values}


def ratio(a, b):
    return a / b if b else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--raw-dir", required=True)
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--lengths", type=int, nargs="+", required=True, help="scoring lengths; decode runs at the first")
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--load-before", required=True)
    ap.add_argument("--load-after", required=True)
    ap.add_argument("--check", required=True, help="the torch peer's check JSON (logits vs ours on the tiny model)")
    ap.add_argument("--out-json", required=True)
    a = ap.parse_args()

    rounds = range(1, a.rounds + 1)
    raw = {"triad": [read(os.path.join(a.raw_dir, f"round{r}-triad.json")) for r in rounds]}
    for side in SIDES:
        for n in a.lengths:
            raw[f"{side}-{n}"] = [read(os.path.join(a.raw_dir, f"round{r}-{side}-{n}.json")) for r in rounds]
    first = raw[f"ours-{a.lengths[0]}"][0]
    peer = raw[f"torch-{a.lengths[0]}"][0]
    bandwidth = summary([t["gb_per_second"] for t in raw["triad"]])
    weight_bytes = first["weight_bytes"]
    least_seconds_per_token = weight_bytes / (bandwidth["best"] * 1e9)

    measures = {}  # name -> side -> summary of tokens/s
    for n in a.lengths:
        measures[f"scoring tokens/s, {n} tokens"] = {
            side: summary([run["score_tokens_per_second"] for run in raw[f"{side}-{n}"]]) for side in SIDES}
    decode_name = f"decode tokens/s, batch 1, {first['decode_tokens']} tokens after a {a.lengths[0]}-token prompt"
    measures[decode_name] = {
        side: summary([run["decode_tokens_per_second"] for run in raw[f"{side}-{a.lengths[0]}"]]) for side in SIDES}
    fractions = {side: {k: measures[decode_name][side][k] * least_seconds_per_token for k in ("best", "median")}
                 for side in SIDES}

    cpu, flags = cpu_info()
    check = read(a.check)
    header = [
        f"- machine: {cpu}, {os.cpu_count()} cpus, flags: {' '.join(flags) or 'none of avx2/avx512'}",
        f"- threads: {a.threads} (both sides), rounds: {a.rounds} (ours then torch, interleaved)",
        f"- load average before: {a.load_before}; after: {a.load_after}",
        f"- ours: {first['engine_version']}, backend {first['backend']} "
        f"({', '.join(f'{k}={v}' for k, v in first['backend_settings'].items())}), {jdk_version(first)}",
        f"- torch: {peer['torch']} ({peer['dtype']} compute, {peer['openmp']}), {peer['blas']}",
        f"- model: {first['model']} ({first['parameters']:,} parameters, {weight_bytes / 1e9:.2f} GB of weights)",
        f"- forward check on the tiny model: max |logit diff| vs ours {check['max_abs_diff_f32']:.2e} (f32 compute), "
        f"{check['max_abs_diff_bf16']:.2e} (bf16 compute), largest |logit| {check['max_abs_logit']:.2f}",
        f"- memory bandwidth (STREAM triad, 3 x {raw['triad'][0]['array_mib']} MiB doubles, {a.threads} threads): "
        f"best {bandwidth['best']:.2f} GB/s, median {bandwidth['median']:.2f} GB/s",
        f"- decode limit: {weight_bytes / 1e9:.2f} GB of weights per token / {bandwidth['best']:.2f} GB/s = "
        f"{least_seconds_per_token * 1e3:.1f} ms per token ({1 / least_seconds_per_token:.2f} tokens/s)",
    ]
    busy = float(a.load_before.split()[0])
    if busy >= os.cpu_count() - a.threads + 1.0:  # other work then competes for the cores the runs need
        header.append(f"- WARNING: the machine was busy before the run (load {busy:.2f} on {os.cpu_count()} cpus, "
                      f"{a.threads} threads wanted): the "
                      "figures are not a fair measure, torch's least (OpenMP threads spin at each barrier and stall when "
                      "one of them is descheduled; OMP_WAIT_POLICY=passive softens that)")
    if "openblas" not in peer["blas"]:
        header.append("- WARNING: torch did not load OpenBLAS (reference BLAS?): its float32 matmuls are no fair peer")
    print("\n".join(header))
    print()
    print("| measure | ours best | ours median | torch best | torch median | ours/torch (median) | ours/torch (best) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, m in measures.items():
        o, t = m["ours"], m["torch"]
        print(f"| {name} | {o['best']:.2f} | {o['median']:.2f} | {t['best']:.2f} | {t['median']:.2f} "
              f"| {ratio(o['median'], t['median']):.2f} | {ratio(o['best'], t['best']):.2f} |")
    o, t = fractions["ours"], fractions["torch"]
    print(f"| decode / bandwidth limit (fraction) | {o['best']:.3f} | {o['median']:.3f} | {t['best']:.3f} "
          f"| {t['median']:.3f} | {ratio(o['median'], t['median']):.2f} | {ratio(o['best'], t['best']):.2f} |")

    with open(a.out_json, "w") as f:
        json.dump({"header": header, "threads": a.threads, "load_before": a.load_before, "load_after": a.load_after,
                   "bandwidth_gb_per_second": bandwidth, "weight_bytes": weight_bytes,
                   "least_seconds_per_token": least_seconds_per_token, "measures": measures,
                   "decode_fraction_of_bandwidth_limit": fractions, "check": check, "raw": raw}, f, indent=2)


if __name__ == "__main__":
    main()
