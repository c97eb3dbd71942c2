#!/usr/bin/env bash
# The GPU proof in one command, from the bundle (bench/gpu/bundle.sh) and the machine's python3 alone: no JDK, no Maven.
#   1. the CUDA tests in strict mode (SN11_REQUIRE_CUDA=1: a test that cannot use CUDA fails, it does not skip)
#   2. parity with Hugging Face transformers (hf_parity.py): tiny llama/mistral/qwen2 in f32, f16 and bf16 and the
#      tiny128 shape (head dim 128, sizes off the kernels' tiles), logits of one prefill and of prefills at non-zero
#      starts, eval score and creativity of the same samples; ours on cuda and cpu
#   3. per big shape (SHAPES, bf16): its parity, then ours vs transformers eager (compare.py): scoring tokens/s, decode
#      tokens/s against the bandwidth limit, matmul TFLOP/s against torch.matmul
# What must pass comes first and the 8B shape last (writing it is 16 GB); a big shape starts only while the whole run
# can still end within about 8 minutes (the device's commands stop at 10). Every step runs even when one before it
# failed; the exit status is 1 when any failed. The log and the results go to $OUT too when it is set (the device
# tool's folder that comes back).
#
# --cpu: the same script here, on the CPU (backends cpu and scalar, the tiny shapes, tiny benchmark sizes); steps that
# need transformers or a GPU say that they are skipped, and strict mode is checked to refuse this machine.
#
# Environment: BUNDLE (.gpu-bundle), WORK (/tmp/sn11-gpu-proof: models and results), SHAPES ("1b 8b"; --cpu or
# SHAPES= : none), SEQ_LEN (1024; --cpu 32), BATCH (4; --cpu 1), DECODE_TOKENS (64; --cpu 4), BANDWIDTH_GBS (4300, the
# H200's measured copy bandwidth, used when torch cannot measure it), BIG_SHAPE_BUDGET_S ("1b:330 8b:190": a shape
# starts only while at most that many seconds have passed), PYTHON (python3), OUT.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cpu=false
[[ "${1:-}" == "--cpu" ]] && cpu=true
bundle="${BUNDLE:-$root/.gpu-bundle}"
work="${WORK:-/tmp/sn11-gpu-proof}"
python="${PYTHON:-python3}"
if $cpu; then
  shapes="${SHAPES-}" seq="${SEQ_LEN:-32}" batch="${BATCH:-1}" decode="${DECODE_TOKENS:-4}"
  backends=cpu,scalar main=cpu
  unset SN11_REQUIRE_CUDA
else
  shapes="${SHAPES-1b 8b}" seq="${SEQ_LEN:-1024}" batch="${BATCH:-4}" decode="${DECODE_TOKENS:-64}"
  backends=cuda,cpu main=cuda
  export SN11_REQUIRE_CUDA=1
fi
budget="${BIG_SHAPE_BUDGET_S:-1b:330 8b:190}"
export PYTHONUNBUFFERED=1
mkdir -p "$work/models" "$work/results"
log="$work/run.log"
[[ -n "${OUT:-}" ]] && log="$OUT/run.log"
exec > >(tee "$log") 2>&1

start=$SECONDS
failed=()
# step NAME COMMAND...: runs it, prints its time, remembers a failure (the script goes on); its exit status.
step() {
  local name="$1" t0=$SECONDS
  shift
  echo "== $name"
  "$@"
  local rc=$?
  echo "== $name: $([[ $rc == 0 ]] && echo ok || echo "FAILED (exit $rc)") in $((SECONDS - t0)) s (total $((SECONDS - start)) s)"
  [[ $rc == 0 ]] || failed+=("$name")
  [[ -n "${OUT:-}" ]] && tar -C "$work" -czf "$OUT/results.tar.gz" results
  return $rc
}
skip() { echo "== $1: skipped: $2"; }
java() { "$bundle/java" "$@"; }
engine() { java io.sn11.engine.commands.EngineCommands "$@"; }
has_reference() { "$python" -c 'import torch, transformers' 2>/dev/null; }
has_gpu_torch() { "$python" -c 'import torch, transformers, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; }

echo "GPU proof$($cpu && echo ' (--cpu: on this machine'"'"'s CPU)'), $(date -u +%FT%TZ), $(uname -n), $(nproc) cores"
[[ -x "$bundle/java" ]] || { echo "run.sh: no bundle at $bundle: run bench/gpu/bundle.sh first"; exit 2; }
cat "$bundle/BUNDLE.txt"
$cpu || nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.memory --format=csv,noheader
"$python" -c 'import sys; print("python", sys.version.split()[0])'
"$python" -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)' \
  2>/dev/null || echo "torch/transformers: not both installed here"

if ! $cpu && [[ -z "$(find "$bundle/kernels" -name '*.cubin' 2>/dev/null)" ]]; then
  nvcc="$(command -v nvcc || ls /usr/local/cuda/bin/nvcc 2>/dev/null || true)"
  if [[ -n "$nvcc" ]]; then
    step "sm_90a cubins with this machine's $nvcc (the bundle came without them)" "$here/cubins.sh" "$bundle/kernels" "$nvcc"
  else
    skip "sm_90a cubins" "no nvcc here either: the driver JIT-compiles the PTX"
  fi
fi

# The CUDA tests run from the engine's folder: CudaPtxResourcesTest reads src/main/cuda.
cuda_tests=(io.sn11.engine.backend.cuda.CudaPtxResourcesTest io.sn11.engine.backend.CudaBackendKernelTest
            io.sn11.engine.CudaTransformerParityTest)
cuda_tests() { (cd "$root/engine" && java io.sn11.engine.JUnitMain "${cuda_tests[@]}"); }
if $cpu; then
  step "CUDA tests, skipping without a device" cuda_tests
  strict_refuses() { ! SN11_REQUIRE_CUDA=1 cuda_tests >"$work/results/strict.txt"; grep ' tests: ' "$work/results/strict.txt"; }
  step "strict mode (SN11_REQUIRE_CUDA=1) fails those tests here" strict_refuses
else
  step "CUDA tests, strict (SN11_REQUIRE_CUDA=1)" cuda_tests
fi

step "dataset" engine make-dataset --out "$work/rp.jsonl" --count 64 --seed 1
# model NAME SHAPE ARCH DTYPE: writes $work/models/NAME unless it is there.
model() {
  [[ -f "$work/models/$1/model.safetensors" ]] && return 0
  engine make-tiny-model --out "$work/models/$1" --shape "$2" --arch "$3" --dtype "$4" --seed 42
}
make_tiny_models() {
  local arch dtype
  for arch in llama mistral qwen2; do
    for dtype in f32 f16 bf16; do model "tiny-$arch-$dtype" tiny "$arch" "$dtype" || return 1; done
  done
  model tiny128-llama-f32 tiny128 llama f32 && model tiny128-llama-bf16 tiny128 llama bf16
}
step "tiny models" make_tiny_models
tiny=(tiny-{llama,mistral,qwen2}-{f32,f16,bf16} tiny128-llama-{f32,bf16})

# parity LABEL LOGITS_BACKENDS EVAL_BACKENDS NAME...: ours (ParityDump), then the reference (hf_parity.py).
parity() {
  local label="$1" logits="$2" evals="$3"
  shift 3
  java io.sn11.engine.eval.ParityDump --out "$work/parity" --dataset "$work/rp.jsonl" --logits-backends "$logits" \
    --eval-backends "$evals" "${@/#/$work/models/}" || return 1
  "$python" "$here/hf_parity.py" --dir "$work/parity" --json-out "$work/results/parity-$label.json" "$@" \
    | tee "$work/results/parity-$label.txt"
}
step "parity, tiny shapes" parity tiny "$backends" "$backends" "${tiny[@]}"

# bench NAME: ours (bench engine, bench kernels), then transformers eager and torch.matmul.
bench() {
  local name="$1" m="$work/models/$1" r="$work/results"
  engine bench engine --backend "$main" --model "$m" --prompt-tokens "$seq" --score-batch "$batch" \
    --decode-tokens "$decode" --repeats 2 --json > "$r/ours-engine-$name.json" || return 1
  engine bench kernels --backend "$main" --model "$m" --rows "$seq" --json > "$r/ours-kernels-$name.json" || return 1
  if has_gpu_torch; then
    "$python" "$here/torch_reference.py" --model "$m" --seq "$seq" --batch "$batch" --decode-tokens "$decode" \
      > "$r/torch-$name.json" || return 1
  else
    echo "transformers eager: skipped, needs torch with a CUDA device and transformers"
  fi
}
benched=()
if $cpu; then
  step "benchmark, tiny llama bf16" bench tiny-llama-bf16 && benched+=(tiny-llama-bf16)
fi
for shape in $shapes; do
  limit="$(tr ' ' '\n' <<<"$budget" | sed -n "s/^$shape://p")"
  if [[ -n "$limit" && $((SECONDS - start)) -gt "$limit" ]]; then
    skip "the $shape shape" "$((SECONDS - start)) s have passed, more than the $limit s after which it would not end in time"
    continue
  fi
  name="$shape-llama-bf16"
  step "$shape model (bf16)" model "$name" "$shape" llama bf16 || continue
  # the cpu backend's logits on the 8B shape would take minutes: cuda alone there
  if [[ "$shape" == 8b ]]; then logits="$main"; else logits="$backends"; fi
  step "parity, $shape" parity "$shape" "$logits" "$main" "$name"
  step "benchmark, $shape" bench "$name" && benched+=("$name")
done

echo
echo "== results ($((SECONDS - start)) s)"
for f in "$work"/results/parity-*.txt; do [[ -f "$f" ]] && cat "$f"; done
if [[ ${#benched[@]} -gt 0 ]]; then
  "$python" "$here/compare.py" --dir "$work/results" --bandwidth-gbs "${BANDWIDTH_GBS:-4300}" "${benched[@]}" \
    | tee "$work/results/compare.txt" || failed+=("compare")
fi
[[ -n "${OUT:-}" ]] && tar -C "$work" -czf "$OUT/results.tar.gz" results
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all steps passed"
