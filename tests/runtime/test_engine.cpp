// The serving engine on a fixture model: continuous batching must not change any request's
// tokens or logprobs, prefix reuse must not change them either, and resources are freed.
#include <gtest/gtest.h>

#include <cstring>
#include <mutex>

#include "core/error.h"
#include "model/registry.h"
#include "runtime/engine.h"
#include "support/fixtures.h"

using namespace pangolin;
using namespace pangolin::test;

namespace {

struct Outcome {
    std::vector<int32_t> tokens;
    std::vector<float> logprobs;
    std::vector<std::vector<std::pair<int32_t, float>>> top;
    RequestResult result;
    bool done = false;
};

std::shared_ptr<GenerationRequest> make_request(const std::vector<int32_t>& prompt, uint64_t seed,
                                                Outcome& out, int64_t max_tokens = 12) {
    auto r = std::make_shared<GenerationRequest>();
    r->prompt = prompt;
    r->sampling = {0.9f, 20, 0.95f, 0.02f, seed};
    r->max_tokens = max_tokens;
    r->top_logprobs = 3;
    r->ignore_eos = true;
    r->on_token = [&out](const TokenEvent& ev) {
        out.tokens.push_back(ev.token);
        out.logprobs.push_back(ev.logprobs.logprob);
        out.top.push_back(ev.logprobs.top);
        return true;
    };
    r->on_finish = [&out](const RequestResult& res) {
        out.result = res;
        out.done = true;
    };
    return r;
}

std::vector<int32_t> prompt_for(int i) {
    std::vector<int32_t> p;
    for (int j = 0; j < 5 + 7 * (i % 5); ++j) p.push_back(int32_t((i * 131 + j * 17 + 3) % 1024));
    return p;
}

std::unique_ptr<Model> fixture_model(const std::string& name, int threads = 2) {
    LoadOptions lo;
    lo.n_threads = threads;
    return load_model((fixture_models_dir() / name).string(), lo);
}

void expect_same(const Outcome& a, const Outcome& b, const std::string& what) {
    EXPECT_EQ(a.tokens, b.tokens) << what;
    ASSERT_EQ(a.logprobs.size(), b.logprobs.size()) << what;
    EXPECT_EQ(0, std::memcmp(a.logprobs.data(), b.logprobs.data(), a.logprobs.size() * 4))
        << what << ": logprobs differ";
    EXPECT_EQ(a.top, b.top) << what;
}

}  // namespace

TEST(Engine, SixteenConcurrentRequestsMatchEachAlone) {
    PANGOLIN_REQUIRE_SHARED();
    for (const std::string name : {"qwen2/model-q4_k_m.gguf", "qwen3moe/model-mxfp4_moe.gguf",
                                   "deepseek-v3/model-f32.gguf"}) {
        auto model = fixture_model(name);
        EngineOptions opt;
        opt.n_ctx = 2048;
        opt.max_running = 16;
        opt.max_batch_tokens = 40;  // forces prompts to be chunked and mixed with decodes
        std::vector<Outcome> together(16), alone(16);
        {
            Engine engine(*model, opt);
            for (int i = 0; i < 16; ++i)
                ASSERT_NE(engine.submit(make_request(prompt_for(i), 1000 + i, together[size_t(i)])),
                          0u);
            engine.run_until_idle();
        }
        for (int i = 0; i < 16; ++i) {
            EngineOptions solo = opt;
            solo.max_running = 1;
            solo.max_batch_tokens = 512;
            Engine engine(*model, solo);
            engine.submit(make_request(prompt_for(i), 1000 + i, alone[size_t(i)]));
            engine.run_until_idle();
        }
        for (int i = 0; i < 16; ++i) {
            ASSERT_TRUE(together[size_t(i)].done && alone[size_t(i)].done);
            EXPECT_EQ(together[size_t(i)].tokens.size(), 12u);
            expect_same(together[size_t(i)], alone[size_t(i)],
                        name + " request " + std::to_string(i));
        }
    }
}

TEST(Engine, PrefixReuseServesCachedTokensWithIdenticalResults) {
    PANGOLIN_REQUIRE_SHARED();
    auto model = fixture_model("qwen2/model-f32.gguf");
    std::vector<int32_t> system(40);
    for (int i = 0; i < 40; ++i) system[size_t(i)] = (i * 37 + 11) % 1024;
    std::vector<int32_t> prompt_b = system;
    prompt_b.insert(prompt_b.end(), {5, 6, 7, 8, 9});
    EngineOptions opt;
    opt.n_ctx = 1024;
    Outcome a, b, b_cold;
    {
        Engine engine(*model, opt);
        engine.submit(make_request(system, 1, a));
        engine.run_until_idle();
        engine.submit(make_request(prompt_b, 2, b));
        engine.run_until_idle();
        EXPECT_EQ(b.result.cached_tokens, 32);  // two whole blocks of 16 from the first request
        EXPECT_GT(engine.metrics().prefix_hit_tokens_total, 0);
    }
    opt.prefix_cache = false;
    Engine cold(*model, opt);
    cold.submit(make_request(prompt_b, 2, b_cold));
    cold.run_until_idle();
    EXPECT_EQ(b_cold.result.cached_tokens, 0);
    expect_same(b, b_cold, "prefix-cached vs cold");

    // the same prompt again: whole blocks only are shared (32 of 45 tokens) ...
    Engine engine(*model, EngineOptions{});
    Outcome c1, c2;
    engine.submit(make_request(prompt_b, 3, c1));
    engine.run_until_idle();
    engine.submit(make_request(prompt_b, 3, c2));
    engine.run_until_idle();
    EXPECT_EQ(c2.result.cached_tokens, 32);
    expect_same(c1, c2, "repeated prompt");
    // ... and a prompt of whole blocks reuses all but its last token, which must be recomputed
    // for its logits (through a copy-on-write of the shared last block)
    std::vector<int32_t> prompt_c(system.begin(), system.begin() + 32);
    Outcome d1, d2;
    engine.submit(make_request(prompt_c, 4, d1));
    engine.run_until_idle();
    engine.submit(make_request(prompt_c, 4, d2));
    engine.run_until_idle();
    EXPECT_EQ(d2.result.cached_tokens, 31);
    expect_same(d1, d2, "repeated whole-block prompt");
}

TEST(Engine, CancelFreesTheSequence) {
    PANGOLIN_REQUIRE_SHARED();
    auto model = fixture_model("llama/model-f32.gguf");
    EngineOptions opt;
    opt.n_ctx = 256;
    opt.prefix_cache = false;
    Engine engine(*model, opt);
    Outcome o;
    auto r = make_request({1, 2, 3}, 5, o, 100);
    uint64_t id = 0;
    r->on_token = [&](const TokenEvent& ev) {
        o.tokens.push_back(ev.token);
        if (o.tokens.size() == 3) engine.cancel(id);
        return true;
    };
    id = engine.submit(r);
    engine.run_until_idle();
    EXPECT_TRUE(o.done);
    EXPECT_EQ(o.result.reason, FinishReason::Cancelled);
    EXPECT_LE(o.tokens.size(), 4u);
    EXPECT_EQ(engine.metrics().kv_usage, 0.0);
}

TEST(Engine, StopsAtLengthAndOnCallback) {
    PANGOLIN_REQUIRE_SHARED();
    auto model = fixture_model("llama/model-f32.gguf");
    Engine engine(*model, EngineOptions{});
    Outcome a, b;
    engine.submit(make_request({1, 2, 3}, 5, a, 7));
    auto r = make_request({1, 2, 3}, 5, b, 50);
    r->on_token = [&b](const TokenEvent& ev) {
        b.tokens.push_back(ev.token);
        return b.tokens.size() < 2;
    };
    engine.submit(r);
    engine.run_until_idle();
    EXPECT_EQ(a.result.reason, FinishReason::Length);
    EXPECT_EQ(a.tokens.size(), 7u);
    EXPECT_EQ(b.result.reason, FinishReason::Stop);
    EXPECT_EQ(b.tokens.size(), 2u);
}

TEST(EngineBadInput, RequestsThatCanNeverRun) {
    PANGOLIN_REQUIRE_SHARED();
    auto model = fixture_model("llama/model-f32.gguf");
    EngineOptions opt;
    opt.n_ctx = 64;
    opt.max_waiting = 2;
    Engine engine(*model, opt);
    Outcome o;
    try {
        engine.submit(make_request(std::vector<int32_t>(60, 5), 1, o, 10));
        FAIL() << "accepted a request longer than the context";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(
                      "(60 tokens) plus max_tokens (10) is 70 tokens, more than the context of 64"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_THROW(engine.submit(make_request({5, 2000}, 1, o)), Error);
    EXPECT_THROW(engine.submit(make_request({}, 1, o)), Error);
    Outcome q1, q2, q3;
    EXPECT_NE(engine.submit(make_request({1}, 1, q1)), 0u);
    EXPECT_NE(engine.submit(make_request({1}, 1, q2)), 0u);
    EXPECT_EQ(engine.submit(make_request({1}, 1, q3)), 0u);  // queue full
    engine.run_until_idle();
    EXPECT_TRUE(q1.done && q2.done);
}

// More requests than decoding slots, one of them cancelled: every request completes.
TEST(Engine, QueuedRequestsRunWhenSlotsFree) {
    PANGOLIN_REQUIRE_SHARED();
    auto model = fixture_model("llama/model-f32.gguf");
    EngineOptions opt;
    opt.n_ctx = 512;
    opt.max_running = 2;
    Engine engine(*model, opt);
    std::vector<Outcome> out(5);
    std::vector<uint64_t> ids;
    for (int i = 0; i < 5; ++i)
        ids.push_back(engine.submit(make_request(prompt_for(i), uint64_t(i), out[size_t(i)], 6)));
    engine.cancel(ids[1]);
    engine.run_until_idle();
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(out[size_t(i)].done) << i;
    EXPECT_EQ(out[1].result.reason, FinishReason::Cancelled);
    EXPECT_EQ(out[4].tokens.size(), 6u);
}
