// Embeddings through the serving engine, against an independent reference.
//
// Reference: the qwen3 fixture has tied embeddings, so llama.cpp's logits at every prompt
// position are l = W h with W = embed_tokens [n_vocab, n_embd] (read raw from the HF
// safetensors) and h the final hidden state after the output norm. W has full column rank
// (1024 × 128, random), so h is recovered exactly in float64 by least squares,
// h = (WᵀW)⁻¹ Wᵀ l (Cholesky). llama.cpp's logits are within 1e-6 of float64 math
// (fixtures/README.md), so the recovered h is the hidden state to ~1e-6. Attention is
// causal: the prefix of length k has hidden states rows 0..k-1, so every prefix of the
// fixture prompt has a reference for mean and last-token pooling.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include "core/error.h"
#include "model/registry.h"
#include "runtime/engine.h"
#include "support/fixtures.h"

using namespace pangolin;
using namespace pangolin::test;

namespace {

namespace fs = std::filesystem;

struct Reference {
    std::vector<int32_t> prompt;
    int64_t n_embd = 0;
    std::vector<std::vector<double>> hidden;  // per prompt position
};

// embed_tokens.weight of the HF folder as doubles, [n_vocab, n_embd].
std::vector<double> embedding_matrix(const fs::path& hf, int64_t& n_vocab, int64_t& n_embd) {
    const std::string bytes = read_file(hf / "model.safetensors");
    uint64_t n;
    std::memcpy(&n, bytes.data(), 8);
    const auto header = nlohmann::json::parse(bytes.substr(8, n));
    const auto& t = header.at("model.embed_tokens.weight");
    EXPECT_EQ(t.at("dtype"), "F32");
    n_vocab = t["shape"][0];
    n_embd = t["shape"][1];
    const uint64_t begin = t["data_offsets"][0];
    std::vector<double> w(size_t(n_vocab * n_embd));
    for (size_t i = 0; i < w.size(); ++i) {
        float f;
        std::memcpy(&f, bytes.data() + 8 + n + begin + 4 * i, 4);
        w[i] = f;
    }
    return w;
}

Reference reference() {
    const fs::path dir = fixture_models_dir() / "qwen3";
    const auto c = read_json(dir / "expected.json")["cases"][0];
    Reference ref;
    ref.prompt = c["prompt"].get<std::vector<int32_t>>();
    int64_t n_vocab = 0, d = 0;
    const std::vector<double> w = embedding_matrix(dir / "hf", n_vocab, d);
    ref.n_embd = d;
    const std::vector<float> logits = read_f32(dir / c["logits"].get<std::string>());
    EXPECT_EQ(int64_t(logits.size()), int64_t(ref.prompt.size()) * n_vocab);
    // Cholesky factor of WᵀW [d, d]
    std::vector<double> g(size_t(d * d), 0.0);
    for (int64_t v = 0; v < n_vocab; ++v)
        for (int64_t i = 0; i < d; ++i)
            for (int64_t j = 0; j <= i; ++j)
                g[size_t(i * d + j)] += w[size_t(v * d + i)] * w[size_t(v * d + j)];
    for (int64_t i = 0; i < d; ++i)
        for (int64_t j = 0; j <= i; ++j) {
            double s = g[size_t(i * d + j)];
            for (int64_t k = 0; k < j; ++k) s -= g[size_t(i * d + k)] * g[size_t(j * d + k)];
            g[size_t(i * d + j)] = i == j ? std::sqrt(s) : s / g[size_t(j * d + j)];
        }
    for (size_t p = 0; p < ref.prompt.size(); ++p) {
        std::vector<double> b(static_cast<size_t>(d), 0.0), y(b.size()), h(b.size());
        for (int64_t v = 0; v < n_vocab; ++v)
            for (int64_t i = 0; i < d; ++i)
                b[size_t(i)] +=
                    w[size_t(v * d + i)] * double(logits[p * size_t(n_vocab) + size_t(v)]);
        for (int64_t i = 0; i < d; ++i) {  // L y = b
            double s = b[size_t(i)];
            for (int64_t k = 0; k < i; ++k) s -= g[size_t(i * d + k)] * y[size_t(k)];
            y[size_t(i)] = s / g[size_t(i * d + i)];
        }
        for (int64_t i = d - 1; i >= 0; --i) {  // Lᵀ h = y
            double s = y[size_t(i)];
            for (int64_t k = i + 1; k < d; ++k) s -= g[size_t(k * d + i)] * h[size_t(k)];
            h[size_t(i)] = s / g[size_t(i * d + i)];
        }
        ref.hidden.push_back(h);
    }
    return ref;
}

// The reference embedding of the prompt's first k tokens.
std::vector<double> expected(const Reference& ref, size_t k, Pooling pooling) {
    std::vector<double> e(size_t(ref.n_embd), 0.0);
    for (size_t p = pooling == Pooling::Mean ? 0 : k - 1; p < k; ++p)
        for (size_t j = 0; j < e.size(); ++j) e[j] += ref.hidden[p][j];
    double norm = 0;
    for (double x : e) norm += x * x;
    for (double& x : e) x /= std::sqrt(norm);
    return e;
}

double rel_diff(const std::vector<float>& a, const std::vector<double>& b) {
    EXPECT_EQ(a.size(), b.size());
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
        num += (a[i] - b[i]) * (a[i] - b[i]);
        den += b[i] * b[i];
    }
    return std::sqrt(num / den);
}

struct Embedded {
    std::vector<float> vector;
    RequestResult result;
    bool done = false;
};

std::shared_ptr<EmbeddingRequest> request(const std::vector<int32_t>& prompt, Pooling pooling,
                                          Embedded& out) {
    auto r = std::make_shared<EmbeddingRequest>();
    r->prompt = prompt;
    r->pooling = pooling;
    r->on_done = [&out](const std::vector<float>& e, const RequestResult& res) {
        out.vector = e;
        out.result = res;
        out.done = true;
    };
    return r;
}

std::vector<int32_t> prefix(const Reference& ref, size_t k) {
    return {ref.prompt.begin(), ref.prompt.begin() + int64_t(k)};
}

const size_t k_lengths[8] = {40, 37, 31, 24, 17, 16, 9, 1};

// Embeds the 8 prefixes together (prompts chunked and mixed with a generation) and each alone.
void check_model(const std::string& path, const Reference& ref) {
    LoadOptions lo;
    lo.n_threads = 2;
    auto model = load_model(path, lo);
    for (Pooling pooling : {Pooling::Mean, Pooling::Last}) {
        const char* name = pooling == Pooling::Mean ? "mean" : "last";
        EngineOptions opt;
        opt.n_ctx = 2048;
        opt.max_running = 9;
        opt.max_batch_tokens = 24;  // long prompts take several steps
        std::vector<Embedded> together(8), alone(8);
        {
            Engine engine(*model, opt);
            // a generation running beside them
            auto gen = std::make_shared<GenerationRequest>();
            gen->prompt = prefix(ref, 20);
            gen->sampling = {0.0f, 0, 1.0f, 0.0f, 0};
            gen->max_tokens = 8;
            gen->ignore_eos = true;
            ASSERT_NE(engine.submit(gen), 0u);
            for (size_t i = 0; i < 8; ++i)
                ASSERT_NE(engine.submit(request(prefix(ref, k_lengths[i]), pooling, together[i])),
                          0u);
            engine.run_until_idle();
            // again, after the first ones published their KV: last-token pooling reuses the
            // cached prefix, mean pooling needs every token's state and recomputes
            Embedded again;
            engine.submit(request(prefix(ref, k_lengths[0]), pooling, again));
            engine.run_until_idle();
            ASSERT_TRUE(again.done);
            if (pooling == Pooling::Last)
                EXPECT_GT(again.result.cached_tokens, 0) << name;
            else
                EXPECT_EQ(again.result.cached_tokens, 0) << name;
            EXPECT_EQ(again.vector, together[0].vector) << name << ": with the prefix cache";
        }
        for (size_t i = 0; i < 8; ++i) {
            Engine engine(*model, EngineOptions{});
            engine.submit(request(prefix(ref, k_lengths[i]), pooling, alone[i]));
            engine.run_until_idle();
        }
        for (size_t i = 0; i < 8; ++i) {
            const std::string what = path + " " + name + " prefix " + std::to_string(k_lengths[i]);
            ASSERT_TRUE(together[i].done && alone[i].done) << what;
            ASSERT_EQ(together[i].result.reason, FinishReason::Stop) << what;
            ASSERT_EQ(together[i].vector.size(), size_t(ref.n_embd)) << what;
            EXPECT_EQ(together[i].vector, alone[i].vector) << what << ": batched ≠ alone";
            const double rel = rel_diff(together[i].vector, expected(ref, k_lengths[i], pooling));
            EXPECT_LE(rel, 1e-5) << what;
        }
    }
}

}  // namespace

TEST(Embeddings, MatchTheHiddenStatesRecoveredFromLlamaCppLogits) {
    PANGOLIN_REQUIRE_SHARED();
    const Reference ref = reference();
    // the recovered hidden states do explain the logits (W h = l within llama.cpp's rounding)
    ASSERT_EQ(ref.hidden.size(), ref.prompt.size());
    check_model((fixture_models_dir() / "qwen3" / "model-f32.gguf").string(), ref);
}

// Qwen3-Embedding as published: the Qwen3 architecture saved from the base model class
// (tensor names without "model.", no lm_head).
TEST(Embeddings, CheckpointWithoutModelPrefixLoadsAndMatches) {
    PANGOLIN_REQUIRE_SHARED();
    const Reference ref = reference();
    TempDir tmp;
    const fs::path src = fixture_models_dir() / "qwen3" / "hf", dst = tmp / "qwen3-embedding";
    fs::create_directories(dst);
    fs::copy_file(src / "config.json", dst / "config.json");
    const std::string bytes = read_file(src / "model.safetensors");
    uint64_t n;
    std::memcpy(&n, bytes.data(), 8);
    auto header = nlohmann::json::parse(bytes.substr(8, n));
    nlohmann::json renamed = nlohmann::json::object();
    for (auto& [name, t] : header.items()) {
        if (name == "lm_head.weight") continue;
        renamed[name.rfind("model.", 0) == 0 ? name.substr(6) : name] = t;
    }
    ASSERT_TRUE(renamed.contains("embed_tokens.weight"));
    const std::string h = renamed.dump();
    const uint64_t hn = h.size();
    std::string out(reinterpret_cast<const char*>(&hn), 8);
    write_file(dst / "model.safetensors", out + h + bytes.substr(8 + n));
    check_model(dst.string(), ref);
}

TEST(Embeddings, BadInputIsRefused) {
    PANGOLIN_REQUIRE_SHARED();
    auto model = load_model((fixture_models_dir() / "qwen3" / "model-f32.gguf").string());
    EngineOptions opt;
    opt.n_ctx = 256;
    opt.max_sequence = 64;
    Engine engine(*model, opt);
    Embedded e;
    EXPECT_THROW(engine.submit(request({}, Pooling::Last, e)), Error);
    EXPECT_THROW(engine.submit(request({5, 99999}, Pooling::Last, e)), Error);
    EXPECT_THROW(engine.submit(request(std::vector<int32_t>(65, 3), Pooling::Mean, e)), Error);
}
