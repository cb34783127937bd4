// The peer side of bench_json's BM_generation: llama.cpp's grammar sampler (the GBNF that
// json_schema_to_grammar makes of the same schemas) generating with the same random model on the
// same vocabulary; prints microseconds per step (llama_sampler_apply on the full candidate
// array + llama_sampler_accept). Built and run by json_mask_vs_llamacpp.sh against the llama.cpp
// peer of ../shared/tools/llamacpp-peer.sh; not part of the CMake build.
#include <time.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "json-schema-to-grammar.h"
#include "json.h"
#include "llama.h"

namespace {

double cpu_seconds() {  // this thread's CPU time, as Google Benchmark counts it for bench_json
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Same as bench_json.cpp's Model.
struct Model {
    std::vector<double> weight;
    std::vector<uint8_t> closing;
    explicit Model(const llama_vocab* vocab) {
        const int n = llama_vocab_n_tokens(vocab);
        weight.resize(static_cast<size_t>(n));
        closing.resize(static_cast<size_t>(n));
        char buf[512];
        for (int id = 0; id < n; ++id) {
            const int len = llama_token_to_piece(vocab, id, buf, sizeof buf, 0, false);
            const std::string piece(buf, static_cast<size_t>(std::max(len, 0)));
            double b = 0;
            closing[static_cast<size_t>(id)] = piece.find_first_of("}]") != std::string::npos;
            if (!piece.empty() && piece.find_first_not_of(" \t\n\r") == std::string::npos) b -= 3;
            if (llama_vocab_is_eog(vocab, id)) b = 10;
            weight[static_cast<size_t>(id)] = std::exp(b);
        }
    }
    double w(size_t k, int step) const {
        return closing[k] ? weight[k] * (step < 60 ? 0.05 : 20.0) : weight[k];
    }
};

const char* const k_schemas[] = {
    R"({"type": "object"})",  // bench_json's null (json_object)
    R"({"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer",
        "minimum": 0, "maximum": 150}, "tags": {"type": "array", "items": {"enum": ["a", "b"]}}},
        "required": ["name", "age"]})",
    R"({"type": "array", "items": {"type": "object", "properties": {"x": {"type": "number"},
        "ok": {"type": "boolean"}}, "required": ["x", "ok"]}, "maxItems": 20})",
};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s VOCAB.gguf\n", argv[0]);
        return 1;
    }
    llama_backend_init();
    llama_model_params params = llama_model_default_params();
    params.vocab_only = true;
    llama_model* model = llama_model_load_from_file(argv[1], params);
    if (!model) return 1;
    const llama_vocab* vocab = llama_model_get_vocab(model);
    const int n = llama_vocab_n_tokens(vocab);
    const Model random_model(vocab);
    std::vector<llama_token_data> cands(static_cast<size_t>(n));
    for (size_t k = 0; k < std::size(k_schemas); ++k) {
        const std::string grammar = json_schema_to_grammar(common_json::parse(k_schemas[k]));
        llama_sampler* smpl = llama_sampler_init_grammar(vocab, grammar.c_str(), "root");
        std::mt19937_64 rng(1);
        double seconds = 0;
        int steps = 0;
        for (int step = 0; step < 300; ++step) {
            for (int id = 0; id < n; ++id) cands[static_cast<size_t>(id)] = {id, 0.0f, 0.0f};
            llama_token_data_array arr{cands.data(), cands.size(), -1, false};
            const double t0 = cpu_seconds();
            llama_sampler_apply(smpl, &arr);
            const double t1 = cpu_seconds();
            double total = 0;
            for (size_t i = 0; i < arr.size; ++i)
                if (std::isfinite(arr.data[i].logit)) total += random_model.w(i, step);
            double r = std::uniform_real_distribution<double>(0, total)(rng);
            llama_token token = -1;
            for (size_t i = 0; i < arr.size; ++i) {
                if (!std::isfinite(arr.data[i].logit)) continue;
                token = arr.data[i].id;
                if ((r -= random_model.w(i, step)) <= 0) break;
            }
            const double t2 = cpu_seconds();
            if (token < 0 || llama_vocab_is_eog(vocab, token)) {
                seconds += t1 - t0;
                ++steps;
                break;
            }
            llama_sampler_accept(smpl, token);
            const double t3 = cpu_seconds();
            seconds += (t1 - t0) + (t3 - t2);
            ++steps;
        }
        std::printf("schema %zu: %d steps, %.1f us/step\n", k, steps, 1e6 * seconds / steps);
        llama_sampler_free(smpl);
    }
    llama_model_free(model);
    return 0;
}
