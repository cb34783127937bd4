// Mixture-of-experts, MLA and FP8 architectures against ../shared/fixtures/models.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include "core/error.h"
#include "core/memory.h"
#include "model/registry.h"
#include "runtime/session.h"
#include "support/model_eval.h"

using namespace pangolin;
using namespace pangolin::test;
namespace fs = std::filesystem;

namespace {

void check_all_cases(const std::string& fixture, bool hf_only) {
    const auto dir = fixture_models_dir() / fixture;
    const auto expected = read_json(dir / "expected.json");
    for (const auto& c : expected["cases"]) {
        const std::string file = c["model"];
        SCOPED_TRACE(fixture + "/" + file);
        const bool exact_weights = file == "hf" || file.find("f32") != std::string::npos;
        check_fixture_case(c, dir, (dir / file).string(), exact_weights);
    }
    if (hf_only) return;
    // The HF folder holds the same weights as the F32 GGUF.
    for (const auto& c : expected["cases"]) {
        if (c["model"] != "model-f32.gguf") continue;
        nlohmann::json hf_case = c;
        hf_case.erase("exact_logits");
        SCOPED_TRACE(fixture + "/hf");
        check_fixture_case(hf_case, dir, (dir / "hf").string(), true);
    }
}

std::vector<float> prompt_logits(const std::string& path, MlaMode mode,
                                 const std::vector<int32_t>& prompt, int threads = 2) {
    LoadOptions lo;
    lo.n_threads = threads;
    lo.mla_mode = mode;
    auto model = load_model(path, lo);
    Session s(*model, int64_t(prompt.size()));
    return s.eval(prompt, true);
}

}  // namespace

TEST(MoeFixture, Qwen3Moe) {
    PANGOLIN_REQUIRE_SHARED();
    check_all_cases("qwen3moe", false);
}
TEST(MoeFixture, DeepseekV3) {
    PANGOLIN_REQUIRE_SHARED();
    check_all_cases("deepseek-v3", false);
}
TEST(MoeFixture, PanguProMoe) {
    PANGOLIN_REQUIRE_SHARED();
    check_all_cases("pangu-pro-moe", true);
}
TEST(MoeFixture, PanguUltraMoe) {
    PANGOLIN_REQUIRE_SHARED();
    check_all_cases("pangu-ultra-moe", true);
}
TEST(MoeFixture, DeepseekV3Fp8) {
    PANGOLIN_REQUIRE_SHARED();
    check_all_cases("deepseek-v3-fp8", true);
}

// The absorbed (latent-space) MLA path and the expanded per-head path compute the same logits.
TEST(Mla, AbsorbedAndExpandedAgree) {
    PANGOLIN_REQUIRE_SHARED();
    for (const std::string model : {"deepseek-v3/model-f32.gguf", "deepseek-v3/hf",
                                    "pangu-ultra-moe/hf", "deepseek-v3-fp8/hf"}) {
        const auto path = (fixture_models_dir() / model).string();
        const std::vector<int32_t> prompt = {1, 5, 900, 17, 42, 42, 3, 77, 512, 1000, 2, 8};
        const auto a = prompt_logits(path, MlaMode::Absorbed, prompt);
        const auto e = prompt_logits(path, MlaMode::Expanded, prompt);
        ASSERT_EQ(a.size(), e.size());
        EXPECT_LE(max_rel_l2(a.data(), e.data(), int64_t(prompt.size()),
                             int64_t(a.size() / prompt.size())),
                  1e-5)
            << model;
    }
}

TEST(Mla, KvCacheHoldsOnlyTheLatent) {
    PANGOLIN_REQUIRE_SHARED();
    auto model = load_model((fixture_models_dir() / "deepseek-v3" / "model-f32.gguf").string());
    const auto shape = model->kv_shape(16);
    EXPECT_EQ(shape.k_width, 32 + 8);  // kv_lora_rank + qk_rope_head_dim
    EXPECT_EQ(shape.v_width, 0);
    EXPECT_EQ(shape.bytes_per_token(), 3 * 40 * 4);
}

TEST(MoeFixture, ThreadCountDoesNotChangeLogits) {
    PANGOLIN_REQUIRE_SHARED();
    for (const std::string model :
         {"qwen3moe/model-mxfp4_moe.gguf", "deepseek-v3/model-f32.gguf", "pangu-pro-moe/hf"}) {
        const auto path = (fixture_models_dir() / model).string();
        const std::vector<int32_t> prompt = {1, 2, 3, 400, 500, 600, 7, 8};
        const auto one = prompt_logits(path, MlaMode::Auto, prompt, 1);
        const auto two = prompt_logits(path, MlaMode::Auto, prompt, 2);
        EXPECT_EQ(0, std::memcmp(one.data(), two.data(), one.size() * 4)) << model;
    }
}

// FP8 weights are decoded inside the matmul: loading adds no dequantized copy.
TEST(Fp8, NoHiddenDequantizedCopy) {
    PANGOLIN_REQUIRE_SHARED();
    const auto dir = fixture_models_dir() / "deepseek-v3-fp8" / "hf";
    const double file_bytes = double(fs::file_size(dir / "model.safetensors"));
    const MemoryUsage before = memory_usage();
    LoadOptions lo;
    lo.n_threads = 1;
    auto model = load_model(dir.string(), lo);
    const MemoryUsage loaded = memory_usage();
    if (before.rss == 0) GTEST_SKIP() << "no /proc/self/status on this system";
    EXPECT_LE(double(loaded.rss_anon) - double(before.rss_anon), 0.10 * file_bytes)
        << "anonymous memory grew by more than 10% of the " << file_bytes << "-byte weights file";
    Session s(*model, 32);
    s.eval({1, 2, 3, 4, 5, 6, 7, 8});
    const MemoryUsage ran = memory_usage();
    // file-backed pages beyond the weights file itself: code pages of the program and its
    // libraries are not copies of weights (they grow with the code a forward pass runs)
    const double data_file_growth = (double(ran.rss_file) - double(ran.rss_image)) -
                                    (double(before.rss_file) - double(before.rss_image));
    EXPECT_LE(data_file_growth, 1.10 * file_bytes);
    // a dequantized F32 copy of the FP8 weights alone would be ~4× their size
    EXPECT_LE(double(ran.rss_anon) - double(before.rss_anon), 0.10 * file_bytes + 1.0 * (1 << 20));
}

// True E8M0 scale bytes (safetensors F8_E8M0) give the same model as float32 powers of two.
TEST(Fp8, E8M0ScaleBytesMatchFloatScales) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir dir;
    const auto p = edited_hf_copy(
        dir, "deepseek-v3-fp8", [](nlohmann::json&) {}, nullptr,
        [](const std::string& name, nlohmann::json& t, std::string& b) {
            if (name.find("_scale_inv") == std::string::npos) return;
            ASSERT_EQ(t["dtype"], "F32");
            std::string e8(b.size() / 4, '\0');
            for (size_t i = 0; i < e8.size(); ++i) {
                float f;
                std::memcpy(&f, b.data() + 4 * i, 4);
                int ex;
                ASSERT_EQ(std::frexp(f, &ex), 0.5f) << "scale is not a power of two";
                e8[i] = char(uint8_t(ex - 1 + 127));
            }
            t["dtype"] = "F8_E8M0";
            b = e8;
        });
    const std::vector<int32_t> prompt = {1, 9, 300, 4, 1000};
    const auto f32_scales = prompt_logits(
        (fixture_models_dir() / "deepseek-v3-fp8" / "hf").string(), MlaMode::Auto, prompt);
    const auto e8m0_scales = prompt_logits(p.string(), MlaMode::Auto, prompt);
    ASSERT_EQ(f32_scales.size(), e8m0_scales.size());
    EXPECT_EQ(0, std::memcmp(f32_scales.data(), e8m0_scales.data(), f32_scales.size() * 4));
}

TEST(MoeBadInput, RouterConfigsThatCannotBeHonoured) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir dir;
    auto p =
        edited_hf_copy(dir, "qwen3moe", [](nlohmann::json& j) { j["num_experts_per_tok"] = 17; });
    EXPECT_NE(load_error(p).find("17 experts per token cannot be chosen from 16"),
              std::string::npos)
        << load_error(p);
    fs::remove_all(p);
    p = edited_hf_copy(dir, "deepseek-v3", [](nlohmann::json& j) { j["n_group"] = 3; });
    EXPECT_NE(load_error(p).find("cannot be split into 3 equal groups"), std::string::npos)
        << load_error(p);
    fs::remove_all(p);
    p = edited_hf_copy(dir, "deepseek-v3", [](nlohmann::json& j) { j["topk_group"] = 5; });
    EXPECT_NE(load_error(p).find("keeping 5 groups out of 4"), std::string::npos) << load_error(p);
}

TEST(Fp8BadInput, TensorWithoutItsScale) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir dir;
    const auto p = edited_hf_copy(
        dir, "deepseek-v3-fp8", [](nlohmann::json&) {},
        [](const std::string& n) { return n == "model.layers.0.mlp.up_proj.weight_scale_inv"; });
    const auto err = load_error(p);
    EXPECT_NE(err.find("FP8 tensor 'model.layers.0.mlp.up_proj.weight' has no block scale"),
              std::string::npos)
        << err;
}

TEST(Fp8BadInput, ScaleWithTheWrongBlockGrid) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir dir;
    const auto p = edited_hf_copy(dir, "deepseek-v3-fp8", [](nlohmann::json& j) {
        j["quantization_config"]["weight_block_size"] = {64, 64};
    });
    const auto err = load_error(p);
    EXPECT_NE(err.find("with 64×64 blocks needs"), std::string::npos) << err;
}
