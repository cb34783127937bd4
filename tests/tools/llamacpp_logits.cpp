// llama.cpp's logits for one case of ../shared/fixtures, compared with a reference: built by
// tests/llamacpp_interop.sh against the llama.cpp peer's libllama, only where the peer exists.
//
// usage: llamacpp_logits MODEL.gguf FIXTURE_DIR CASE [REFERENCE.f32]
//        llamacpp_logits --prompt FIXTURE_DIR CASE   (prints the case's prompt, comma-separated)
//   CASE: the "model" of an expected.json case, whose prompt is evaluated in one batch (F32 KV
//   cache, no flash attention, as the fixtures were made). Compared as the fixtures' README
//   says: exact weights against the case's logits (or REFERENCE) within 1e-4; quantized ones
//   against its exact_logits within max(1.5 × llamacpp_rel_l2_vs_exact_max, 1e-3). Prints the
//   max over positions of ‖ours − ref‖₂ / ‖ref‖₂; exits 1 when it exceeds the tolerance.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "llama.h"

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s MODEL.gguf FIXTURE_DIR CASE [REFERENCE.f32]\n", argv[0]);
        return 2;
    }
    const std::string model_path = argv[1], dir = argv[2], case_name = argv[3];
    std::ifstream ej(dir + "/expected.json");
    const auto expected = nlohmann::json::parse(ej);
    if (model_path == "--prompt") {
        for (const auto& c : expected["cases"]) {
            if (c["model"] != case_name) continue;
            std::string ids;
            for (const auto& t : c["prompt"])
                ids += (ids.empty() ? "" : ",") + std::to_string(t.get<int>());
            std::printf("%s\n", ids.c_str());
            return 0;
        }
        return 2;
    }
    std::vector<llama_token> prompt;
    std::string ref_path = argc > 4 ? argv[4] : "";
    double tolerance = 1e-4;
    for (const auto& c : expected["cases"]) {
        if (c["model"] != case_name) continue;
        prompt = c["prompt"].get<std::vector<llama_token>>();
        const bool quantized =
            c.contains("exact_logits") && case_name.find("f32") == std::string::npos;
        if (!ref_path.empty()) break;
        ref_path = dir + "/" + c[quantized ? "exact_logits" : "logits"].get<std::string>();
        if (quantized)
            tolerance = std::max(1.5 * c["llamacpp_rel_l2_vs_exact_max"].get<double>(), 1e-3);
    }
    if (prompt.empty()) {
        std::fprintf(stderr, "no case '%s' in %s/expected.json\n", case_name.c_str(), dir.c_str());
        return 2;
    }

    llama_log_set(
        [](ggml_log_level level, const char* text, void*) {
            if (level >= GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
        },
        nullptr);
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.progress_callback = [](float, void*) { return true; };  // no progress dots
    llama_model* model = llama_model_load_from_file(model_path.c_str(), mp);
    if (!model) {
        std::fprintf(stderr, "llama.cpp could not load %s\n", model_path.c_str());
        return 1;
    }
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = cp.n_batch = cp.n_ubatch = uint32_t(prompt.size());
    cp.n_threads = cp.n_threads_batch = 2;
    cp.type_k = cp.type_v = GGML_TYPE_F32;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    llama_context* ctx = llama_init_from_model(model, cp);
    if (!ctx) {
        std::fprintf(stderr, "llama.cpp could not create a context for %s\n", model_path.c_str());
        return 1;
    }
    llama_batch batch = llama_batch_init(int32_t(prompt.size()), 0, 1);
    batch.n_tokens = int32_t(prompt.size());
    for (int32_t i = 0; i < batch.n_tokens; ++i) {
        batch.token[i] = prompt[size_t(i)];
        batch.pos[i] = i;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i] = 1;
    }
    if (llama_decode(ctx, batch) != 0) {
        std::fprintf(stderr, "llama_decode failed on %s\n", model_path.c_str());
        return 1;
    }
    const int32_t n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    std::ifstream rf(ref_path, std::ios::binary);
    std::vector<float> ref(prompt.size() * size_t(n_vocab));
    rf.read(reinterpret_cast<char*>(ref.data()), std::streamsize(ref.size() * 4));
    if (!rf) {
        std::fprintf(stderr, "%s: expected %zu floats\n", ref_path.c_str(), ref.size());
        return 1;
    }
    double worst = 0;
    for (size_t t = 0; t < prompt.size(); ++t) {
        const float* ours = llama_get_logits_ith(ctx, int32_t(t));
        double num = 0, den = 0;
        for (int32_t v = 0; v < n_vocab; ++v) {
            const double r = ref[t * size_t(n_vocab) + size_t(v)], d = double(ours[v]) - r;
            num += d * d;
            den += r * r;
        }
        worst = std::max(worst, std::sqrt(num / den));
    }
    std::printf("max rel L2 %.3g (tolerance %.3g)\n", worst, tolerance);
    llama_batch_free(batch);
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return worst <= tolerance ? 0 : 1;
}
