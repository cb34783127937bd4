// JSON-constrained decoding on the real Qwen2 vocabulary (151,936 tokens): time to compute the
// token mask in the states generation spends its time in, and per step over whole generations
// by a random-logits model (mask + apply + accept, sampling excluded).
//
//   build/bench/bench_json [--benchmark_filter=…]      (reads ../shared/fixtures/vocab)
// PANGOLIN_VOCAB=path overrides the vocabulary. bench/peer/json_mask_vs_llamacpp.sh runs the same
// generations through llama.cpp's grammar sampler and prints the ratio.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "text/json_constraint.h"
#include "text/tokenizer.h"

using namespace pangolin;
using nlohmann::json;

namespace {

std::string vocab_path() {
    const char* path = std::getenv("PANGOLIN_VOCAB");
    return path ? path : PANGOLIN_SOURCE_DIR "/../shared/fixtures/vocab/ggml-vocab-qwen2.gguf";
}

const Tokenizer& vocab() {
    static const auto tok = load_tokenizer(vocab_path());
    return *tok;
}

// A model with random preferences: closing brackets avoided for the first 60 steps and favoured
// after, end-of-generation as soon as allowed, whitespace-only tokens rare. Strings run long (a
// quote is about 1 token in 500), so string bodies take most steps, as in real outputs.
struct Model {
    std::vector<double> weight;
    std::vector<uint8_t> closing;
    Model() {
        const Tokenizer& tok = vocab();
        weight.resize(tok.n_vocab());
        closing.resize(tok.n_vocab());
        for (size_t k = 0; k < weight.size(); ++k) {
            const auto id = static_cast<int32_t>(k);
            const std::string piece = tok.token_to_piece(id, false);
            double b = 0;
            closing[k] = piece.find_first_of("}]") != std::string::npos;
            if (!piece.empty() && piece.find_first_not_of(" \t\n\r") == std::string::npos) b -= 3;
            if (tok.is_eog(id)) b = 10;
            weight[k] = std::exp(b);
        }
    }
    double w(size_t k, int step) const {
        return closing[k] ? weight[k] * (step < 60 ? 0.05 : 20.0) : weight[k];
    }
    int32_t sample(const std::vector<float>& logits, std::mt19937_64& rng, int step) const {
        double total = 0;
        for (size_t k = 0; k < logits.size(); ++k)
            if (std::isfinite(logits[k])) total += w(k, step);
        double r = std::uniform_real_distribution<double>(0, total)(rng);
        int32_t last = -1;
        for (size_t k = 0; k < logits.size(); ++k) {
            if (!std::isfinite(logits[k])) continue;
            last = static_cast<int32_t>(k);
            if ((r -= w(k, step)) <= 0) break;
        }
        return last;
    }
};

const char* const k_schemas[] = {
    "null",
    R"({"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer",
        "minimum": 0, "maximum": 150}, "tags": {"type": "array", "items": {"enum": ["a", "b"]}}},
        "required": ["name", "age"]})",
    R"({"type": "array", "items": {"type": "object", "properties": {"x": {"type": "number"},
        "ok": {"type": "boolean"}}, "required": ["x", "ok"]}, "maxItems": 20})",
};

// Token sequences sampled under the constraint (up to 300 tokens each), made once.
const std::vector<std::vector<int32_t>>& sequences() {
    static const auto seqs = [] {
        const Model model;
        std::vector<std::vector<int32_t>> out;
        for (const char* text : k_schemas) {
            const auto c = JsonConstraint::from_schema(json::parse(text), vocab());
            std::mt19937_64 rng(1);
            std::vector<int32_t> seq;
            std::vector<float> logits(vocab().n_vocab());
            for (int step = 0; step < 300; ++step) {
                std::fill(logits.begin(), logits.end(), 0.0f);
                c->apply(logits.data(), static_cast<int64_t>(logits.size()));
                const int32_t t = model.sample(logits, rng, step);
                seq.push_back(t);
                if (vocab().is_eog(t)) break;
                c->accept(t);
            }
            out.push_back(std::move(seq));
        }
        return out;
    }();
    return seqs;
}

void BM_index_build(benchmark::State& state) {
    for (auto _ : state) {
        // token_index caches per tokenizer; load a fresh tokenizer to rebuild it.
        state.PauseTiming();
        const auto tok = load_tokenizer(vocab_path());
        state.ResumeTiming();
        benchmark::DoNotOptimize(token_index(*tok));
    }
}
BENCHMARK(BM_index_build)->Unit(benchmark::kMillisecond)->Iterations(3);

// The mask in one state, recomputed each iteration.
void BM_mask_state(benchmark::State& state, const char* schema, const char* prefix) {
    const auto c = JsonConstraint::from_schema(json::parse(schema), vocab());
    if (!c->accept_bytes(prefix)) state.SkipWithError("prefix not accepted");
    size_t allowed = 0;
    for (auto _ : state) {
        c->accept_bytes("");  // forces a fresh mask
        allowed = c->count_allowed();
    }
    state.counters["allowed"] = static_cast<double>(allowed);
}
BENCHMARK_CAPTURE(BM_mask_state, object_start, "null", "")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_mask_state, free_key, "null", R"({"ab)")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_mask_state, string_body, R"({"type": "string"})", R"("Hello wor)")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_mask_state, string_max_length, R"({"type": "string", "maxLength": 40})",
                  R"("Hello wor)")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_mask_state, string_alternatives,
                  R"({"anyOf": [{"type": "string", "maxLength": 40}, {"enum": ["Hello world"]}]})",
                  R"("Hello wor)")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_mask_state, after_value, "null", R"({"a": 1)")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_mask_state, any_value, "null", R"({"a": )")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_mask_state, declared_key, k_schemas[1], R"({)")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_mask_state, bounded_integer, k_schemas[1], R"({"age": 1)")
    ->Unit(benchmark::kMicrosecond);

// Whole generations: per step, the mask, apply() on a logits row and accept().
void BM_generation(benchmark::State& state) {
    const size_t k = static_cast<size_t>(state.range(0));
    const auto& seq = sequences()[k];
    const json schema = json::parse(k_schemas[k]);
    std::vector<float> logits(vocab().n_vocab());
    int64_t steps = 0;
    for (auto _ : state) {
        state.PauseTiming();
        const auto c = JsonConstraint::from_schema(schema, vocab());
        state.ResumeTiming();
        for (const int32_t t : seq) {
            c->apply(logits.data(), static_cast<int64_t>(logits.size()));
            c->accept(t);
            ++steps;
        }
    }
    state.counters["steps"] = static_cast<double>(seq.size());
    state.counters["us_per_step"] = benchmark::Counter(
        static_cast<double>(steps), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_generation)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
