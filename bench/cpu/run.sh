#!/usr/bin/env bash
# CPU benchmark in one command: the engine's cpu backend vs a plain eager PyTorch forward pass (bench/cpu/torch_peer.py,
# Debian's python3-torch 1.13 on OpenBLAS and oneDNN) over the same random-weight Llama-3.2-1B-shaped BF16 model, with
# the same thread count, interleaved (each round runs ours, then torch, for each measure), side by side with ratios:
#   scoring    tokens/s of the evaluation's teacher-forced scoring (every position's logits and top-10 statistics)
#              at each of LENGTHS tokens
#   decode     greedy tokens/s at batch 1 with the kv cache, after a prompt of the first length
#   bandwidth  the machine's memory bandwidth (STREAM triad, bench/cpu/triad.c), and decode as a fraction of the
#              bandwidth limit (weight bytes read per token / bandwidth = the least seconds a token can take)
# Prints a markdown table (best and median of the rounds per side, ratios ours/torch) with the machine, the thread count,
# the load average before and after, torch's version and BLAS and the JDK; writes it and every raw figure to OUT_DIR.
# Before timing it checks the peer's forward pass: its logits vs `sn11 logits` on the tiny model (fails when they differ).
# Installs python3-torch and libopenblas0-openmp with apt when missing (needs root or sudo) and builds the project via
# ./sn11 on first use. Environment (defaults in brackets):
#   ROUNDS         rounds of interleaved runs [3]
#   THREADS        threads for both sides and the triad [nproc]
#   LENGTHS        scoring lengths in tokens ["128 512"]
#   DECODE_TOKENS  greedy tokens timed per decode run [16]
#   REPEATS        timed repetitions inside each run, after one warm-up; each run reports its best [1]
#   SHAPE          model shape for make-tiny-model: 1b, 8b or tiny (a smoke run in seconds) [1b]
#   BENCH_DIR      cache of the model folders and the triad binary, made only when missing [/tmp/sn11-bench-cpu]
#   OUT_DIR        report.md, results.json and the raw JSON of every run [bench/cpu/out]
#   QUICK=1        a fast smoke run: LENGTHS "16 32", DECODE_TOKENS 4, ROUNDS 1 (values set explicitly still win)
#   PYTHON         the python that has Debian's torch [/usr/bin/python3]
#   OMP_WAIT_POLICY  passed to torch as set [unset: OpenMP's default, threads spin at barriers]; run on an idle machine:
#                  the report warns when the load average was 1 or more before the run
# Usage: bench/cpu/run.sh [--help]     e.g. QUICK=1 bench/cpu/run.sh; ROUNDS=5 THREADS=4 bench/cpu/run.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/bench/cpu"
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
  exit 0
fi
if [[ "${QUICK:-0}" == 1 ]]; then
  : "${LENGTHS:=16 32}" "${DECODE_TOKENS:=4}" "${ROUNDS:=1}"
fi
rounds="${ROUNDS:-3}"
threads="${THREADS:-$(nproc)}"
read -r -a lengths <<< "${LENGTHS:-128 512}"
decode_tokens="${DECODE_TOKENS:-16}"
repeats="${REPEATS:-1}"
shape="${SHAPE:-1b}"
work="${BENCH_DIR:-/tmp/sn11-bench-cpu}"
out="${OUT_DIR:-$here/out}"
python="${PYTHON:-/usr/bin/python3}"
raw="$out/raw"
mkdir -p "$work" "$raw"
rm -f "$raw"/*.json

missing=()
for package in python3-torch libopenblas0-openmp; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "== install ${missing[*]} (apt)" >&2
  sudo=""
  [[ "$(id -u)" == 0 ]] || sudo=sudo
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# the peer runs on the machine's own OpenBLAS settings: these two, set on some hosts, pin another core type and cache
torch_peer() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS="$threads" "$python" "$here/torch_peer.py" "$@"; }
sn11() { "$root/sn11" "$@"; }

triad="$work/triad"
if [[ ! -x "$triad" || "$here/triad.c" -nt "$triad" ]]; then
  echo "== build the triad" >&2
  gcc -O3 -fopenmp -march=native -o "$triad" "$here/triad.c"
fi

# a model folder per shape, written to a temporary folder first so that an interrupted write is never taken as done
model_dir() {
  local dir="$work/llama-$1-bf16"
  if [[ ! -f "$dir/model.safetensors" ]]; then
    echo "== make the $1 model (bf16) in $dir" >&2
    rm -rf "$dir" "$dir.partial"
    sn11 make-tiny-model --out "$dir.partial" --shape "$1" --dtype bf16 --seed 42 >&2
    mv "$dir.partial" "$dir"
  fi
  echo "$dir"
}

echo "== check the peer's forward pass against ours on the tiny model" >&2
tiny="$(model_dir tiny)"
sn11 logits --backend cpu --threads "$threads" --model "$tiny" --tokens "$(seq -s, 1 13 400)" > "$raw/tiny-logits-ours.json"
if ! torch_peer check --model "$tiny" --engine-logits "$raw/tiny-logits-ours.json" > "$out/check.json"; then
  cat "$out/check.json" >&2
  echo "run.sh: the PyTorch peer's logits differ from ours beyond the tolerance: its timings would not be comparable" >&2
  exit 1
fi
model="$(model_dir "$shape")"

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= rounds; r++)); do
  echo "== round $r/$rounds: triad" >&2
  OMP_NUM_THREADS="$threads" "$triad" 256 10 > "$raw/round$r-triad.json"
  for n in "${lengths[@]}"; do
    decode=0
    [[ "$n" == "${lengths[0]}" ]] && decode="$decode_tokens"
    echo "== round $r/$rounds: scoring $n tokens, decode $decode tokens: ours, then torch" >&2
    sn11 bench engine --backend cpu --threads "$threads" --model "$model" --prompt-tokens "$n" \
      --decode-tokens "$decode" --score-batch 1 --repeats "$repeats" --json > "$raw/round$r-ours-$n.json"
    torch_peer bench --model "$model" --threads "$threads" --prompt-tokens "$n" --decode-tokens "$decode" \
      --repeats "$repeats" > "$raw/round$r-torch-$n.json"
  done
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

"$python" "$here/report.py" --raw-dir "$raw" --rounds "$rounds" --lengths "${lengths[@]}" --threads "$threads" \
  --load-before "$load_before" --load-after "$load_after" --check "$out/check.json" --out-json "$out/results.json" \
  | tee "$out/report.md"
echo "== written: $out/report.md, $out/results.json, $raw/" >&2
