#!/usr/bin/env bash
# Interoperability with llama.cpp (the peer of ../shared/tools/llamacpp-peer.sh, commit de3ff81):
#   1. llama.cpp loads Pangolin's converted GGUF of every shared architecture it knows and
#      gives the fixture's logits (max relative L2 ≤ 1e-4 against ../shared's references);
#   2. llama.cpp runs Pangolin-quantized files within the fixtures' tolerance of the exact
#      logits (its own llama-quantize files' cases);
#   3. the peer's llama-quantize and `pangolin quantize` write identical files, and Pangolin
#      runs llama-quantize's files.
# Uses the peer only where it is already built (never builds it); exits 77 (ctest: skipped)
# otherwise.
# usage: llamacpp_interop.sh PANGOLIN_BINARY SHARED_DIR WORK_DIR
set -euo pipefail
pangolin=$1 shared=$2 work=$3
peer=${PEER_DIR:-$HOME/.cache/pangolin-peer}/src
bin=$peer/build/bin
if [ ! -f "$bin/libllama.so" ] || [ ! -x "$bin/llama-quantize" ]; then
  echo "SKIPPED: the llama.cpp peer is not built at $bin (build it with ../shared/tools/llamacpp-peer.sh llama-quantize)"
  exit 77
fi
if [ ! -d "$shared/fixtures/models" ]; then
  echo "SKIPPED: no fixtures at $shared/fixtures/models"
  exit 77
fi
fixtures=$shared/fixtures/models
src_dir=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
tool=$work/llamacpp_logits
if [ ! -x "$tool" ] || [ "$src_dir/tools/llamacpp_logits.cpp" -nt "$tool" ]; then
  c++ -std=c++17 -O2 -I"$peer/include" -I"$peer/ggml/include" "$src_dir/tools/llamacpp_logits.cpp" \
      -L"$bin" -lllama -lggml -lggml-base -Wl,-rpath,"$bin" -o "$tool"
fi

failures=0
check() {  # description, command...
  local what=$1; shift
  if out=$("$@" 2>&1); then
    echo "ok    $what${out:+: ${out##*$'\n'}}"
  else
    echo "FAIL  $what"; echo "$out" | tail -5; failures=$((failures + 1))
  fi
}

# 1. converted files, F32, in llama.cpp
for m in llama qwen2 qwen3 pangu-embedded qwen3moe deepseek-v3; do
  "$pangolin" -q convert "$fixtures/$m/hf" "$work/$m-f32.gguf" --vocab-from "$fixtures/$m/model-f32.gguf"
  check "llama.cpp runs pangolin convert $m" "$tool" "$work/$m-f32.gguf" "$fixtures/$m" model-f32.gguf
done
# DeepSeek's FP8 checkpoint, dequantized to F32 (the fixture's reference is llama.cpp on those weights)
"$pangolin" -q convert "$fixtures/deepseek-v3-fp8/hf" "$work/ds-fp8-f32.gguf" --vocab-from "$fixtures/deepseek-v3/model-f32.gguf"
check "llama.cpp runs pangolin convert deepseek-v3-fp8 (F32)" "$tool" "$work/ds-fp8-f32.gguf" "$fixtures/deepseek-v3-fp8" hf \
  "$fixtures/deepseek-v3-fp8/model-f32.logits.f32"

# RoPE scaling as llama.cpp reads it (Llama 3 → rope_freqs.weight, linear, YaRN keys): llama.cpp
# on the converted file against Pangolin on the Hugging Face folder
prompt=$("$tool" --prompt "$fixtures/llama" model-f32.gguf)
for scaling in '{"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 64}' \
               '{"type": "linear", "factor": 2.0}' \
               '{"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64}'; do
  name=$(echo "$scaling" | sed 's/.*type": "\([a-z0-9]*\)".*/\1/')
  dir=$work/llama-$name
  rm -rf "$dir" && mkdir -p "$dir"
  ln -s "$fixtures/llama/hf/model.safetensors" "$dir/model.safetensors"
  sed "s/\"head_dim\": 16/\"head_dim\": 16, \"rope_scaling\": $scaling/" "$fixtures/llama/hf/config.json" > "$dir/config.json"
  "$pangolin" -q logits -m "$dir" --tokens "$prompt" -o "$work/llama-$name.hf.f32" -t 2
  "$pangolin" -q convert "$dir" "$work/llama-$name.gguf" --vocab-from "$fixtures/llama/model-f32.gguf"
  check "llama.cpp runs pangolin convert llama with $name rope scaling" "$tool" "$work/llama-$name.gguf" \
    "$fixtures/llama" model-f32.gguf "$work/llama-$name.hf.f32"
done

# 2. Pangolin-quantized files in llama.cpp, against the exact logits of the matching case
for x in "qwen2 Q8_0 q8_0" "qwen2 Q4_0 q4_0" "qwen2 Q4_K_M q4_k_m" "qwen2 Q6_K q6_k" "qwen3moe MXFP4_MOE mxfp4_moe"; do
  set -- $x
  "$pangolin" -q quantize "$fixtures/$1/model-f32.gguf" "$work/$1-$3.gguf" "$2"
  check "llama.cpp runs pangolin quantize $1 $2" "$tool" "$work/$1-$3.gguf" "$fixtures/$1" "model-$3.gguf"
done

# 3. llama-quantize and pangolin quantize write the same file; Pangolin runs llama.cpp's
for x in "llama Q4_K_M" "qwen3 Q4_K_M" "qwen3 Q4_0" "pangu-embedded Q6_K" "qwen3moe Q4_K_M" "qwen3moe Q6_K" \
         "deepseek-v3 Q8_0" "deepseek-v3 Q4_K_M" "deepseek-v3 MXFP4_MOE"; do
  set -- $x
  "$bin/llama-quantize" "$fixtures/$1/model-f32.gguf" "$work/$1-$2.llama.gguf" "$2" 2 > "$work/$1-$2.log" 2>&1 ||
    { echo "FAIL  llama-quantize $1 $2"; tail -3 "$work/$1-$2.log"; failures=$((failures + 1)); continue; }
  "$pangolin" -q quantize "$fixtures/$1/model-f32.gguf" "$work/$1-$2.pangolin.gguf" "$2"
  check "llama-quantize and pangolin quantize agree on $1 $2" cmp "$work/$1-$2.llama.gguf" "$work/$1-$2.pangolin.gguf"
  check "pangolin runs llama-quantize's $1 $2 (greedy ids)" "$pangolin" -q run -m "$work/$1-$2.llama.gguf" --tokens 1,2,3 -n 4 --temp 0 --ids
done

if [ "$failures" -gt 0 ]; then echo "$failures check(s) failed"; exit 1; fi
echo "all llama.cpp interoperability checks passed"
