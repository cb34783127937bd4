#include <gtest/gtest.h>

#include "core/error.h"
#include "model/kv_cache.h"
#include "model/registry.h"
#include "runtime/session.h"
#include "support/fixtures.h"

using namespace pangolin;
using namespace pangolin::test;

namespace {
KvCacheShape small_shape(int64_t n_blocks) {
    KvCacheShape s;
    s.n_layer = 2;
    s.k_width = 3;
    s.v_width = 2;
    s.block_size = 4;
    s.n_blocks = n_blocks;
    return s;
}
}  // namespace

TEST(KvCache, BlocksAreAllocatedOnDemandAndFreed) {
    KvCache cache(small_shape(4));
    SequenceKv a, b;
    cache.reserve(a, 5);  // 2 blocks
    EXPECT_EQ(a.blocks.size(), 2u);
    EXPECT_EQ(cache.free_blocks(), 2);
    cache.reserve(b, 8);
    EXPECT_EQ(cache.free_blocks(), 0);
    EXPECT_THROW(cache.reserve(a, 9), Error);  // full: a clear error, nothing changed
    EXPECT_EQ(a.blocks.size(), 2u);
    cache.release(b);
    EXPECT_EQ(cache.free_blocks(), 2);
    a.n_tokens = 5;
    cache.truncate(a, 3);
    EXPECT_EQ(a.blocks.size(), 1u);
    EXPECT_EQ(cache.free_blocks(), 3);
}

TEST(KvCache, SharedPrefixIsCopiedOnWrite) {
    KvCache cache(small_shape(8));
    SequenceKv a, b;
    cache.reserve(a, 6);
    a.n_tokens = 6;
    for (int64_t p = 0; p < 6; ++p)
        for (int l = 0; l < 2; ++l) cache.k(l, cache.slot(a, p))[0] = float(10 * l + p);
    cache.fork_prefix(a, b, 6);  // block 0 shared, positions 4-5 copied
    EXPECT_EQ(b.blocks[0], a.blocks[0]);
    EXPECT_NE(b.blocks[1], a.blocks[1]);
    EXPECT_EQ(cache.refcount(a.blocks[0]), 2);
    EXPECT_EQ(cache.k(1, cache.slot(b, 5))[0], 15.0f);
    // b truncates into the shared block and writes: it must get its own copy
    cache.truncate(b, 2);
    cache.reserve(b, 3);
    EXPECT_NE(b.blocks[0], a.blocks[0]);
    EXPECT_EQ(cache.k(0, cache.slot(b, 1))[0], 1.0f);  // copied prefix
    cache.k(0, cache.slot(b, 2))[0] = -1;
    EXPECT_EQ(cache.k(0, cache.slot(a, 2))[0], 2.0f);  // a untouched
    EXPECT_EQ(cache.refcount(a.blocks[0]), 1);
}

// Decoding token by token over the cache gives the logits the batched prefill gives.
TEST(KvCache, IncrementalDecodeMatchesBatchedPrefill) {
    PANGOLIN_REQUIRE_SHARED();
    LoadOptions lo;
    lo.n_threads = 2;
    auto model = load_model((fixture_models_dir() / "qwen2" / "model-f32.gguf").string(), lo);
    const std::vector<int32_t> prompt = {5,  17, 42,  7,   99,  3,   512, 1000, 8,
                                         64, 2,  300, 301, 302, 303, 304, 305,  12};
    Session batched(*model, 64);
    const auto all = batched.eval(prompt, true);
    Session step(*model, 64);
    const int64_t V = model->config().n_vocab;
    for (size_t i = 0; i < prompt.size(); ++i) {
        const auto& l = step.eval({prompt[i]});
        EXPECT_LE(max_rel_l2(l.data(), all.data() + i * size_t(V), 1, V), 1e-5) << "position " << i;
    }
    // rewinding and re-evaluating reproduces the same logits
    step.truncate(10);
    const auto& again = step.eval({prompt[10]});
    EXPECT_LE(max_rel_l2(again.data(), all.data() + 10 * size_t(V), 1, V), 1e-5);
}

TEST(KvCache, PromptLongerThanContextIsRefused) {
    PANGOLIN_REQUIRE_SHARED();
    auto model = load_model((fixture_models_dir() / "llama" / "model-f32.gguf").string());
    Session s(*model, 4);
    try {
        s.eval({1, 2, 3, 4, 5});
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("context size of 4"), std::string::npos) << e.what();
    }
    EXPECT_EQ(s.n_past(), 0);
}
