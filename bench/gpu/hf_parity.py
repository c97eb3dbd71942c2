#!/usr/bin/env python3
"""Parity of our engine with Hugging Face transformers on the same random-weight model folders (bench/gpu/run.sh).

Reads what io.sn11.engine.eval.ParityDump wrote (DIR/NAME.json and its float32 logits files) and loads each folder
with AutoModelForCausalLM.from_pretrained, eager attention, in the folder's dtype and then upcast to float32 (the
exact function of the stored weights). Per model and backend of ours it prints:
  logits    max |ours - transformers| over every row, relative to the row's largest |logit|, for one prefill
            ("whole") and for the same tokens fed as prefills at non-zero starts ("chunked"), against transformers in
            float32 (the verdict) and in the folder's dtype (for scale: transformers' own dtype error is printed too);
  eval      eval score and creativity of the same samples (the tokens ParityDump wrote), computed here from
            transformers' logits with the subnet's rule (top-10 softmax, n-gram score, entropy), against ours.
Tolerances, as the engine's CUDA tests: logits f32 1e-4, f16 5e-3, bf16 3e-2 of the row's largest |logit|; eval score
and creativity f32 1e-4, else 2e-2. Exit status 1 when a row is out of tolerance.

Without transformers (the CPU machine) our backends are compared with the first of them instead, and the script says
so. Needs numpy; torch and transformers for the reference.
"""
import argparse
import json
import math
import os
import sys
import traceback

import numpy as np

LOGIT_TOLERANCE = {"float32": 1e-4, "float16": 5e-3, "bfloat16": 3e-2}
MISSING_PROB, MAX_NGRAM, TOP_K, CREATIVITY_SHARPNESS = 1e-9, 4, 10, 5.0


def eval_tolerance(dtype):
    return 1e-4 if dtype == "float32" else 2e-2


def sample_score(target_prob, in_top_k, entropy):
    """The subnet's rule, as io.sn11.engine.scoring.EvalScore: n-gram score of the target probabilities, creativity."""
    p = [tp if hit else MISSING_PROB for tp, hit in zip(target_prob, in_top_k)]
    n = len(p)
    total = sum(math.prod(p[s:s + k]) for k in range(1, MAX_NGRAM + 1) for s in range(n - k + 1))
    ngram = total / MAX_NGRAM / n if n else 0.0
    x = sum(entropy) / n / math.log(TOP_K) if n else 0.0
    return ngram, (1 - math.exp(-CREATIVITY_SHARPNESS * x)) if n else 0.0


def relative_max_diff(ours, reference):
    """max over rows of max |ours - reference| / max |reference| (the engine's tests' measure)."""
    scale = np.abs(reference).max(axis=1)
    return float((np.abs(ours - reference).max(axis=1) / np.maximum(scale, 1e-30)).max())


def read_logits(folder, dump, name):
    rows = len(dump["tokens"])
    return np.fromfile(os.path.join(folder, name), dtype="<f4").reshape(rows, dump["vocab_size"])


class Transformers:
    """The reference: the folder loaded by transformers, in its dtype, then upcast to float32."""

    def __init__(self, device):
        import torch
        import transformers
        self.torch, self.transformers, self.device = torch, transformers, device

    def load(self, folder, dtype):
        torch = self.torch
        kwargs = {"attn_implementation": "eager"}
        wanted = getattr(torch, dtype)
        try:
            model = self.transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=wanted, **kwargs)
        except TypeError:  # transformers before 4.56 names it torch_dtype
            model = self.transformers.AutoModelForCausalLM.from_pretrained(folder, torch_dtype=wanted, **kwargs)
        # .to(wanted) as well: a transformers that ignores the keyword loads float32, which holds the weights exactly
        return model.to(device=self.device, dtype=wanted).eval()

    def logits(self, model, tokens):
        with self.torch.inference_mode():
            ids = self.torch.tensor([tokens], device=self.device)
            return model(ids).logits[0].float().cpu().numpy()

    def eval(self, model, samples):
        torch = self.torch
        scores = []
        with torch.inference_mode():
            for s in samples:
                tokens, start = s["tokens"], s["target_start"]
                logits = model(torch.tensor([tokens], device=self.device)).logits[0].float()
                rows = logits[start - 1:len(tokens) - 1]  # row i predicts token i + 1
                top, top_ids = rows.topk(TOP_K, dim=-1)
                p = torch.softmax(top, dim=-1)
                entropy = torch.special.entr(p).sum(-1)  # 0 log 0 = 0
                targets = torch.tensor(tokens[start:], device=self.device)[:, None]
                hit = top_ids == targets
                target_prob = (p * hit).sum(-1)
                scores.append(sample_score(target_prob.tolist(), hit.any(-1).tolist(), entropy.tolist()))
        return sum(s[0] for s in scores) / len(scores), sum(s[1] for s in scores) / len(scores)


def folder_dtype(folder):
    with open(os.path.join(folder, "config.json")) as f:
        return json.load(f).get("torch_dtype", "float32")


def compare(folder, name, reference):
    """The rows of one model: each of our backends against the reference."""
    rows = []
    with open(os.path.join(folder, name + ".json")) as f:
        dump = json.load(f)
    dtype = folder_dtype(dump["dir"])
    backends = dump["backends"]
    with_logits = [b for b in backends if "logits" in backends[b]]
    with_eval = [b for b in backends if "eval_score" in backends[b]]
    if reference is not None:
        model = reference.load(dump["dir"], dtype)
        ref_dtype_logits = reference.logits(model, dump["tokens"])
        ref_dtype_eval = reference.eval(model, dump["samples"])
        model = model.float()
        ref_logits = reference.logits(model, dump["tokens"])
        ref_eval = reference.eval(model, dump["samples"])
        del model
        if reference.device == "cuda":
            reference.torch.cuda.empty_cache()
        ref_name = "transformers f32"
        own_error = relative_max_diff(ref_dtype_logits, ref_logits)
    else:
        first = with_logits[0]
        ref_logits = read_logits(folder, dump, backends[first]["logits"])
        ref_dtype_logits, ref_dtype_eval, own_error = None, None, None
        ref_eval = (backends[with_eval[0]]["eval_score"], backends[with_eval[0]]["creativity"]) if with_eval else None
        ref_name = "ours " + first
    for b in backends:
        r = backends[b]
        row = {"model": name, "dtype": dtype, "backend": b, "reference": ref_name}
        if "logits" in r:
            for kind in ("logits", "chunked_logits"):
                ours = read_logits(folder, dump, r[kind])
                row[kind] = relative_max_diff(ours, ref_logits)
                row[kind + "_abs"] = float(np.abs(ours - ref_logits).max())
                if ref_dtype_logits is not None:
                    row[kind + "_vs_dtype"] = relative_max_diff(ours, ref_dtype_logits)
            row["reference_dtype_error"] = own_error
        if "eval_score" in r and ref_eval is not None:
            row["eval_score"], row["creativity"] = r["eval_score"], r["creativity"]
            row["ref_eval_score"], row["ref_creativity"] = ref_eval
            if ref_dtype_eval is not None:
                row["ref_dtype_eval_score"], row["ref_dtype_creativity"] = ref_dtype_eval
        ok = all(row.get(k, 0) <= LOGIT_TOLERANCE[dtype] for k in ("logits", "chunked_logits"))
        if "ref_eval_score" in row:
            ok = ok and abs(row["eval_score"] - row["ref_eval_score"]) <= eval_tolerance(dtype)
            ok = ok and abs(row["creativity"] - row["ref_creativity"]) <= eval_tolerance(dtype)
        row["ok"] = ok
        rows.append(row)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True, help="ParityDump's output folder")
    ap.add_argument("--json-out", help="write the rows here as JSON too")
    ap.add_argument("models", nargs="+", help="model names (the folders' names)")
    a = ap.parse_args()
    try:
        import torch
        reference = Transformers("cuda" if torch.cuda.is_available() else "cpu")
        print(f"reference: transformers {reference.transformers.__version__}, torch {torch.__version__} on "
              f"{torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu'}, eager attention")
    except ImportError as e:
        reference = None
        print(f"reference: transformers is not installed here ({e.name} missing): skipping the Hugging Face comparison; "
              f"our backends are compared with the first one instead")

    rows = []
    for name in a.models:
        try:
            rows += compare(a.dir, name, reference)
        except Exception:  # one model's failure must not hide the others' results
            traceback.print_exc()
            rows.append({"model": name, "dtype": "?", "backend": "-", "reference": "-", "ok": False, "error": True})

    print(f"{'model':<22}{'dtype':<10}{'ours':<7}{'logits whole':>13}{'chunked':>10}{'(abs)':>9}{'vs dtype':>10}{'ref own':>9}"
          f"{'eval ours':>11}{'ref':>9}{'creat. ours':>12}{'ref':>9}  verdict (vs {rows[0]['reference'] if rows else ''})")
    for r in rows:
        def f(key, width, fmt):
            return format("-" if r.get(key) is None else format(r[key], fmt), f">{width}")
        print(f"{r['model']:<22}{r['dtype']:<10}{r['backend']:<7}{f('logits', 13, '.2e')}{f('chunked_logits', 10, '.2e')}"
              f"{f('logits_abs', 9, '.2e')}{f('logits_vs_dtype', 10, '.2e')}{f('reference_dtype_error', 9, '.2e')}{f('eval_score', 11, '.5f')}"
              f"{f('ref_eval_score', 9, '.5f')}{f('creativity', 12, '.5f')}{f('ref_creativity', 9, '.5f')}  "
              f"{'ok' if r['ok'] else 'FAILED (traceback above)' if r.get('error') else 'OUT OF TOLERANCE'}")
    print("logits: max |ours - reference| / max |reference| per row (tolerance f32 1e-4, f16 5e-3, bf16 3e-2); (abs): "
          "max |ours - reference|; vs dtype: the same against transformers in the folder's dtype; ref own: transformers "
          "in the folder's dtype against float32")
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(rows, f, indent=2)
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
