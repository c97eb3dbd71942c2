#!/usr/bin/env bash
# How long `./sn11 serve` takes to evaluate the README's demo submission, from the submit to COMPLETED:
# a fresh node on a temporary data folder and a free port, the quickstart's own submit, status polled every 0.2 s.
# Usage: bench/demo-eval.sh [--backend NAME] [ROUNDS]   (ROUNDS fresh nodes, one after the other; default 3)
# Prints one line per round and the min and median seconds. Needs only what ./sn11 needs (a JDK 25, Maven).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
backend=()
if [[ "${1:-}" == "--backend" ]]; then backend=(--backend "$2"); shift 2; fi
rounds="${1:-3}"
hotkey=5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty
model=(--namespace sn11-demo --name tiny-llama --chat-template chatml --hotkey "$hotkey")

"$root/sn11" --version >/dev/null  # builds once, outside the timing
times=()
for round in $(seq 1 "$rounds"); do
  data="$(mktemp -d)"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "$root/sn11" serve --data-dir "$data" --http-port "$port" "${backend[@]}" > "$data/serve.log" 2>&1 &
  serve=$!
  trap 'kill $serve 2>/dev/null; rm -rf "$data"' EXIT
  until curl -fs "http://127.0.0.1:$port/hc" >/dev/null 2>&1; do
    kill -0 $serve 2>/dev/null || { echo "serve ended; its log:" >&2; cat "$data/serve.log" >&2; exit 1; }
    sleep 0.2
  done
  client=(--url "http://127.0.0.1:$port" --data-dir "$data")
  started=$(date +%s.%N)
  "$root/sn11" submit "${client[@]}" "${model[@]}" --block 100 >/dev/null
  while true; do
    status="$("$root/sn11" status "${client[@]}" "${model[@]}" 2>/dev/null || true)"
    if grep -q COMPLETED <<<"$status"; then break; fi
    if grep -q FAILED <<<"$status"; then echo "the demo evaluation FAILED: $status" >&2; exit 1; fi
    sleep 0.2
  done
  seconds=$(awk -v now="$(date +%s.%N)" -v started="$started" 'BEGIN { print now - started }')
  times+=("$seconds")
  printf 'round %d: submit -> COMPLETED in %.1f s\n' "$round" "$seconds"
  kill $serve; wait $serve 2>/dev/null || true
  rm -rf "$data"
  trap - EXIT
done
printf '%s\n' "${times[@]}" | sort -n | awk '{t[NR]=$1} END {printf "demo evaluation: min %.1f s, median %.1f s over %d rounds\n", t[1], t[int((NR+1)/2)], NR}'
