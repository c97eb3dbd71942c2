#!/usr/bin/env bash
# GPU benchmark in one command: the engine's cuda backend vs PyTorch eager (Hugging Face transformers) on the same
# random-weight Llama models (1B and 8B shapes, BF16), side by side with ratios:
#   scoring   teacher-forced scoring of BATCH x SEQ_LEN tokens (logits -> top-10, softmax, entropy, target probability)
#   decode    greedy tokens/s at batch 1 vs the memory-bandwidth limit (weight bytes read once per token)
#   matmul    TFLOP/s on the model's projection and lm-head shapes vs torch.matmul
# Needs: an NVIDIA GPU with its driver, a JDK 25, Maven (with the project's dependencies in ~/.m2 when offline; set
# MVN_ARGS=-o), nvcc for the PTX (or an engine/target/classes built elsewhere), python3 with torch and transformers.
# Environment: SHAPES ("1b 8b"), SEQ_LEN (1024), BATCH (4), DECODE_TOKENS (64), BANDWIDTH_GBS (4800, H200),
# BENCH_DIR (data/bench-gpu: models and results), PYTHON (python3), MVN_ARGS.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/bench/gpu"
work="${BENCH_DIR:-$root/data/bench-gpu}"
shapes="${SHAPES:-1b 8b}"
seq="${SEQ_LEN:-1024}"
batch="${BATCH:-4}"
decode="${DECODE_TOKENS:-64}"
bandwidth="${BANDWIDTH_GBS:-4800}"
python="${PYTHON:-python3}"
mkdir -p "$work"

echo "== build (the launcher and its modules, tests skipped)" >&2
(cd "$root" && mvn -B -q ${MVN_ARGS:-} -DskipTests -pl launcher -am package)
if ! ls "$root"/engine/target/classes/io/sn11/engine/cuda/*.ptx >/dev/null 2>&1; then
  echo "run.sh: the build packaged no PTX (nvcc not found at /usr/local/bin/nvcc); build with -Pptx -Dnvcc.executable=PATH" >&2
  exit 2
fi
# ./sn11 finds the JDK 25 and runs the engine's commands from the build just made.
engine() { "$root/sn11" "$@"; }

for shape in $shapes; do
  model="$work/llama-$shape-bf16"
  if [[ ! -f "$model/model.safetensors" ]]; then
    echo "== make the $shape model" >&2
    engine make-tiny-model --out "$model" --shape "$shape" --dtype bf16 --seed 42 >&2
  fi
  echo "== ours: $shape" >&2
  engine bench engine --backend cuda --model "$model" --prompt-tokens "$seq" --score-batch "$batch" \
    --decode-tokens "$decode" --repeats 3 --json > "$work/ours-engine-$shape.json"
  engine bench kernels --backend cuda --model "$model" --rows "$seq" --json > "$work/ours-kernels-$shape.json"
  echo "== pytorch: $shape" >&2
  "$python" "$here/torch_reference.py" --model "$model" --seq "$seq" --batch "$batch" --decode-tokens "$decode" \
    > "$work/torch-$shape.json"
done

"$python" "$here/compare.py" --dir "$work" --bandwidth-gbs "$bandwidth" $shapes
