#!/usr/bin/env bash
# Per-step time of JSON-constrained decoding, Pangolin (bench_json's BM_generation: mask +
# apply + accept) against llama.cpp's grammar sampler (llama_sampler_apply on all candidates +
# llama_sampler_accept, GBNF from json_schema_to_grammar), on the same three schemas, random
# model and Qwen2 vocabulary, measured in the same run. CPU time of the thread, per step.
# usage: bench/peer/json_mask_vs_llamacpp.sh [BUILD_DIR]   (default: build)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build}"
vocab="$root/../shared/fixtures/vocab/ggml-vocab-qwen2.gguf"
bin="$("$root/../shared/tools/llamacpp-peer.sh" llama-bench)"
src="$(dirname "$(dirname "$bin")")"
g++ -std=c++17 -O2 -I"$src/include" -I"$src/ggml/include" -I"$src/common" \
    "$root/bench/peer/llamacpp_json_mask.cpp" -L"$bin" -lllama-common -lllama -lggml -lggml-base \
    -Wl,-rpath,"$bin" -o "$build/bench/llamacpp_json_mask"
ninja -C "$build" bench_json >/dev/null
ours="$("$build/bench/bench_json" --benchmark_filter=BM_generation --benchmark_format=json \
        2>/dev/null | python3 -c '
import json, sys
for b in json.load(sys.stdin)["benchmarks"]:
    print(b["name"].split("/")[-1], int(b["steps"]), 1e6 * b["us_per_step"])')"
peer="$("$build/bench/llamacpp_json_mask" "$vocab" 2>/dev/null | sed -E 's/schema ([0-9]+): ([0-9]+) steps, ([0-9.]+) us\/step/\1 \2 \3/')"
printf '%-8s %22s %22s %8s\n' schema "pangolin us/step (n)" "llama.cpp us/step (n)" ratio
join <(echo "$ours") <(echo "$peer") | while read -r k n1 t1 n2 t2; do
    printf '%-8s %15.1f (%4d) %15.1f (%4d) %7.1fx\n' "$k" "$t1" "$n1" "$t2" "$n2" \
        "$(python3 -c "print($t2 / $t1)")"
done
