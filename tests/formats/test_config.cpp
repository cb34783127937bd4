#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/registry.h"
#include "support/model_eval.h"

using namespace pangolin;
using namespace pangolin::test;
namespace fs = std::filesystem;

TEST(HfConfig, ReadsFixtureConfigs) {
    PANGOLIN_REQUIRE_SHARED();
    auto [src, cfg] = open_model_config((fixture_models_dir() / "qwen3" / "hf").string());
    EXPECT_EQ(cfg.arch, "qwen3");
    EXPECT_EQ(cfg.hf_arch, "Qwen3ForCausalLM");
    EXPECT_EQ(cfg.head_dim, 48);  // explicit head_dim ≠ hidden / heads
    EXPECT_EQ(cfg.n_head_kv, 2);
    EXPECT_TRUE(cfg.tie_embeddings);
    EXPECT_EQ(cfg.rope.layout, RopeLayout::Neox);
    auto [gsrc, gcfg] =
        open_model_config((fixture_models_dir() / "llama" / "model-f32.gguf").string());
    EXPECT_EQ(gcfg.rope.layout, RopeLayout::Interleaved);  // llama.cpp permuted q/k
    auto [hsrc, hcfg] = open_model_config((fixture_models_dir() / "llama" / "hf").string());
    EXPECT_EQ(hcfg.rope.layout, RopeLayout::Neox);
}

TEST(HfConfig, AliasTableReadsRenamedKeys) {
    nlohmann::json j = {
        {"architectures", {"X"}},      {"hidden_size", 64},        {"num_hidden_layers", 2},
        {"num_attention_heads", 4},    {"vocab_size", 10},         {"attention_q_lora_dim", 48},
        {"attention_kv_lora_dim", 32}, {"attention_qk_dim", 16},   {"attention_qk_rope_dim", 8},
        {"attention_v_dim", 16},       {"num_routed_experts", 16}, {"num_dense_layers", 1}};
    const ModelConfig c = config_from_hf(j, "config.json");
    EXPECT_EQ(c.q_lora_rank, 48);
    EXPECT_EQ(c.kv_lora_rank, 32);
    EXPECT_EQ(c.n_expert, 16);
    EXPECT_EQ(c.n_dense_lead, 1);
    EXPECT_EQ(c.head_dim, 24);
}

TEST(HfConfigBadInput, MissingRequiredKey) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir dir;
    for (const char* key : {"hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size",
                            "architectures"}) {
        const auto p = edited_hf_copy(dir, "llama", [&](nlohmann::json& j) { j.erase(key); });
        const auto err = load_error(p);
        EXPECT_NE(err.find(std::string("missing required key '") + key + "'"), std::string::npos)
            << err;
        fs::remove_all(p);
    }
}

TEST(HfConfigBadInput, WrongTypeAndMalformedJson) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir dir;
    auto p = edited_hf_copy(dir, "llama", [](nlohmann::json& j) { j["hidden_size"] = "128"; });
    EXPECT_NE(load_error(p).find("'hidden_size' must be an integer"), std::string::npos);
    std::ofstream(p / "config.json") << "{\"architectures\": [";
    EXPECT_NE(load_error(p).find("not valid JSON"), std::string::npos);
}

TEST(HfConfigBadInput, ShapeMismatchNamesTensor) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir dir;
    // intermediate_size no longer matches the stored MLP tensors
    const auto p =
        edited_hf_copy(dir, "llama", [](nlohmann::json& j) { j["intermediate_size"] = 256; });
    const auto err = load_error(p);
    EXPECT_NE(err.find("model.layers.0.mlp.gate_proj.weight"), std::string::npos) << err;
    EXPECT_NE(err.find("[352, 128]"), std::string::npos) << err;
    EXPECT_NE(err.find("[256, 128]"), std::string::npos) << err;
}

TEST(ModelBadInput, UnknownArchitectureListsSupported) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir dir;
    const auto p = edited_hf_copy(
        dir, "llama", [](nlohmann::json& j) { j["architectures"] = {"GPTNeoXForCausalLM"}; });
    const auto err = load_error(p);
    EXPECT_NE(err.find("unknown architecture 'GPTNeoXForCausalLM'"), std::string::npos) << err;
    for (const char* name : {"llama", "qwen2", "qwen3", "pangu-embedded", "LlamaForCausalLM"})
        EXPECT_NE(err.find(name), std::string::npos) << err;
}

TEST(ModelBadInput, HeadsThatDoNotDivide) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir dir;
    const auto p =
        edited_hf_copy(dir, "llama", [](nlohmann::json& j) { j["num_key_value_heads"] = 3; });
    EXPECT_NE(load_error(p).find("cannot be grouped"), std::string::npos);
}
