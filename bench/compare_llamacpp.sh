#!/usr/bin/env bash
# Pangolin against llama.cpp (the peer build of ../shared/tools/llamacpp-peer.sh), side by
# side on random-weight models of real shapes. Run by hand, never by CI:
#
#   bench/compare_llamacpp.sh [--cases "SHAPE:TYPE,TYPE ..."] [--threads 2] [--reps 5]
#                             [--rounds 2] [--no-wait]
#   bench/compare_llamacpp.sh --table RESULTS.jsonl    (the table of an earlier run again)
#
# For every case it makes the model once (F16 by `pangolin synth`, quantized types from that
# file by llama-quantize, so both engines read identical bytes), then runs llama-bench and
# `pangolin bench` with the same tests (-p 512 -n 128 -r REPS -t THREADS) back to back, the
# order alternating every round (ABBA...), so both engines see the same machine. It prints a
# markdown table of the means over the rounds: pp512 and tg128 of each engine, their ratio,
# and tg128 as a share of the bandwidth limit (measured read bandwidth ÷ weight bytes read
# per token, both reported by `pangolin bench`): against the best bandwidth measured during
# the whole run, and against the bandwidth `pangolin bench` measured just before that very
# tg run (a VM's bandwidth drifts: both are shown). Raw JSON lines go to
# $PANGOLIN_BENCH_DIR/compare-<time>.jsonl.
#
# Environment: PANGOLIN_BENCH_DIR (models and results, default ~/.cache/pangolin-bench),
# PANGOLIN (the binary, default build/pangolin), PEER_DIR (see llamacpp-peer.sh).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cases="qwen2.5-0.5b:Q8_0,Q4_0,Q4_K_M,F16 r1-distill-qwen-1.5b:Q8_0,Q4_0,Q4_K_M,F16 qwen3-30b-a3b-8l:Q4_K_M"
threads=2
reps=5
rounds=2
wait_quiet=1
table_only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --cases) cases="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --no-wait) wait_quiet=0; shift ;;
    --table) table_only="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "compare_llamacpp.sh: unknown option $1" >&2; exit 1 ;;
  esac
done

command -v jq >/dev/null || { echo "compare_llamacpp.sh: needs jq (apt-get install jq)" >&2; exit 1; }

print_table() {  # $1: results (JSON lines)
  local results="$1"
  echo "| model | type | pp512 llama.cpp | pp512 Pangolin | ratio | tg128 llama.cpp | tg128 Pangolin | ratio | BW limit t/s | tg % of limit (llama.cpp / Pangolin) | Pangolin tg % of the bandwidth measured with it |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  # The bandwidth limit uses the best read bandwidth measured during the whole run (the
  # machine's capability; single measurements dip when other work shares the memory bus).
  jq -s -r '
    def mean: if length == 0 then null else add / length end;
    def r1: if . == null then "n/a" else (. * 10 | round / 10 | tostring) end;
    def ratio($a; $b): if $a == null or $b == null then "n/a" else ($a / $b * 100 | round / 100 | tostring) end;
    ([.[] | select(.engine == "pangolin") | .membw] | max) as $membw |
    group_by(.ci) | map(
      . as $rows |
      ($rows[0].case | split(" ")) as $c |
      def ts($e; $t): [$rows[] | select(.engine == $e and .test == $t) | .ts] | mean;
      ([$rows[] | select(.engine == "pangolin" and .test == "tg128") | .bytes] | if length == 0 then null else .[0] end) as $bytes |
      (if $bytes == null or $membw == null then null else $membw * 1e9 / $bytes end) as $limit |
      [ts("llama.cpp"; "pp512"), ts("pangolin"; "pp512"), ts("llama.cpp"; "tg128"), ts("pangolin"; "tg128")] as $v |
      def pct($x): if $x == null or $limit == null then "n/a" else "\($x / $limit * 100 | round)%" end;
      ([$rows[] | select(.engine == "pangolin" and .test == "tg128") | "\(.ts * .bytes / 1e9 / .membw * 100 | round)%"] | join(" / ")) as $own |
      "| \($c[0]) | \($c[1]) | \($v[0]|r1) | \($v[1]|r1) | \(ratio($v[1]; $v[0])) | \($v[2]|r1) | \($v[3]|r1) | \(ratio($v[3]; $v[2])) | \($limit|r1) | \(pct($v[2])) / \(pct($v[3])) | \($own) |"
    ) | .[]' "$results"
  echo
  jq -s -r '"read bandwidth: best \([.[] | select(.engine == "pangolin") | .membw] | max * 10 | round / 10) GB/s, lowest \([.[] | select(.engine == "pangolin") | .membw] | min * 10 | round / 10) GB/s during the run"' "$results"
}
if [ -n "$table_only" ]; then
  [ -f "$table_only" ] || { echo "compare_llamacpp.sh: no results file $table_only" >&2; exit 1; }
  print_table "$table_only"
  exit 0
fi
pangolin="${PANGOLIN:-$root/build/pangolin}"
[ -x "$pangolin" ] || { echo "compare_llamacpp.sh: $pangolin not built (scripts/setup.sh)" >&2; exit 1; }
dir="${PANGOLIN_BENCH_DIR:-$HOME/.cache/pangolin-bench}"
mkdir -p "$dir"

echo "peer: building or finding llama-bench and llama-quantize (the first build takes 10-20 min)" >&2
peer="$(nice -n 10 "$root/../shared/tools/llamacpp-peer.sh" llama-bench llama-quantize)"

# --- models -----------------------------------------------------------------------------
model_path() { echo "$dir/$1-$(echo "$2" | tr 'A-Z' 'a-z').gguf"; }
for c in $cases; do
  shape="${c%%:*}"
  f16="$(model_path "$shape" F16)"
  if [ ! -f "$f16" ]; then
    echo "models: $shape F16 (pangolin synth)" >&2
    nice -n 10 "$pangolin" synth --shape "$shape" -o "$f16"
  fi
  for type in $(echo "${c#*:}" | tr ',' ' '); do
    out="$(model_path "$shape" "$type")"
    if [ ! -f "$out" ]; then
      echo "models: $shape $type (llama-quantize)" >&2
      nice -n 10 "$peer/llama-quantize" "$f16" "$out" "$type" "$threads" > "$out.log" 2>&1 ||
        { cat "$out.log" >&2; exit 1; }
      rm -f "$out.log"
    fi
  done
done

# --- runs -------------------------------------------------------------------------------
if [ "$wait_quiet" = 1 ]; then
  # other work on the machine skews both engines; wait (up to 15 min) for a quiet minute
  for _ in $(seq 90); do
    load="$(cut -d' ' -f1 /proc/loadavg)"
    awk -v l="$load" 'BEGIN { exit !(l < 1.0) }' && break
    echo "waiting for a quiet machine (load $load)" >&2
    sleep 10
  done
fi

results="$dir/compare-$(date +%Y%m%d-%H%M%S).jsonl"
: > "$results"
run_llama() {
  local out
  out="$("$peer/llama-bench" -m "$1" -t "$threads" -p 512 -n 128 -r "$reps" -o json 2>/dev/null)" ||
    { echo "warning: llama-bench failed on $1 (round $2); skipped" >&2; return 0; }
  echo "$out" |
    jq -c --arg round "$2" --arg case "$3" --argjson ci "$4" '.[] | {engine: "llama.cpp", round: $round, case: $case, ci: $ci,
        test: (if .n_prompt > 0 then "pp512" else "tg128" end), ts: .avg_ts, sd: .stddev_ts}' >> "$results"
}
run_pangolin() {
  local out
  out="$("$pangolin" -q bench -m "$1" -t "$threads" -p 512 -n 128 -r "$reps" -o json)" ||
    { echo "warning: pangolin bench failed on $1 (round $2); skipped" >&2; return 0; }
  echo "$out" |
    jq -c --arg round "$2" --arg case "$3" --argjson ci "$4" '.[] | {engine: "pangolin", round: $round, case: $case, ci: $ci,
        test: (if .n_prompt > 0 then "pp512" else "tg128" end), ts: .avg_ts, sd: .stddev_ts,
        bytes: .weight_bytes_per_token, membw: .membw_gbs}' >> "$results"
}
for round in $(seq "$rounds"); do
  ci=0
  for c in $cases; do
    shape="${c%%:*}"
    for type in $(echo "${c#*:}" | tr ',' ' '); do
      m="$(model_path "$shape" "$type")"
      ci=$((ci + 1))
      echo "round $round: $shape $type" >&2
      if [ $((round % 2)) = 1 ]; then
        run_llama "$m" "$round" "$shape $type" "$ci"; run_pangolin "$m" "$round" "$shape $type" "$ci"
      else
        run_pangolin "$m" "$round" "$shape $type" "$ci"; run_llama "$m" "$round" "$shape $type" "$ci"
      fi
    done
  done
done

# --- table ------------------------------------------------------------------------------
echo
echo "Pangolin $(git -C "$root" rev-parse --short HEAD) vs llama.cpp (peer build), $threads threads, $rounds rounds × $reps reps,"
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs; tokens/s, mean over rounds"
echo
print_table "$results"
echo
echo "raw results: $results" >&2
