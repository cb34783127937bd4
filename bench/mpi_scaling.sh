#!/usr/bin/env bash
# Expert-parallel scaling on synthetic MoE shapes: prefill and decode tokens/s for 1, 2 and 4
# ranks on this machine, with each rank's communication share and the expert load balance.
# usage: bench/mpi_scaling.sh [MODEL.gguf ...]   (default: makes two shapes with pangolin synth)
# On a 2-core machine 4 ranks oversubscribe the cores: the numbers show the overhead of the
# dispatch, not a speed-up (docs/scale-out.md extrapolates).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/pangolin
OUT=${BENCH_DIR:-/tmp/pangolin-bench}
mkdir -p "$OUT"
models=("$@")
if [ ${#models[@]} -eq 0 ]; then
  [ -f "$OUT/qwen3moe-4l-q8_0.gguf" ] || $BIN synth --shape qwen3-30b-a3b --layers 4 --type Q8_0 -o "$OUT/qwen3moe-4l-q8_0.gguf"
  [ -f "$OUT/pangu-pro-moe-2l-q8_0.gguf" ] || $BIN synth --shape pangu-pro-moe --layers 2 --type Q8_0 -o "$OUT/pangu-pro-moe-2l-q8_0.gguf"
  models=("$OUT/qwen3moe-4l-q8_0.gguf" "$OUT/pangu-pro-moe-2l-q8_0.gguf")
fi
MPI="mpirun --allow-run-as-root --oversubscribe --mca btl_vader_single_copy_mechanism none"
echo "| model | ranks | threads/rank | pp128 t/s | tg32 t/s | communication share (rank 0 / max) | expert rows max/mean (per layer) |"
echo "|---|---|---|---|---|---|---|"
for m in "${models[@]}"; do
  for np in 1 2 4; do
    threads=$(( np == 1 ? 2 : 1 ))
    if [ "$np" -eq 1 ]; then
      out=$($BIN bench -m "$m" -p 128 -n 32 -r 2 -t "$threads" -o json 2>"$OUT/err.txt")
    else
      out=$($MPI -np "$np" $BIN bench -m "$m" -p 128 -n 32 -r 2 -t "$threads" --ep -o json 2>"$OUT/err.txt")
    fi
    pick() { echo "$out" | node -e "const a=JSON.parse(require('fs').readFileSync(0,'utf8'));const t=a.find(x=>x.$1>0);process.stdout.write(t?String(t.avg_ts):'0')"; }
    pp=$(pick n_prompt)
    tg=$(pick n_gen)
    share=$(grep -o 'communication [0-9.]* s ([0-9]*%)' "$OUT/err.txt" | grep -o '[0-9]*%' | paste -sd/ - || true)
    imb=$(grep -o 'max/mean [0-9.]*' "$OUT/err.txt" | awk '{print $2}' | paste -sd' ' - || true)
    printf '| %s | %d | %d | %.1f | %.2f | %s | %s |\n' "$(basename "$m")" "$np" "$threads" "${pp:-0}" "${tg:-0}" "${share:-—}" "${imb:-—}"
  done
done
