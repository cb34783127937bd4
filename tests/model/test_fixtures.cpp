// Logits and greedy tokens of the dense architectures against ../shared/fixtures/models
// (llama.cpp's outputs and float64 references), for every GGUF weight type and for the
// Hugging Face folder holding the same weights.
#include <gtest/gtest.h>

#include <cstring>

#include "support/model_eval.h"

using namespace pangolin::test;

namespace {

class DenseFixture : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(DenseFixture, GgufCasesMeetTolerances) {
    PANGOLIN_REQUIRE_SHARED();
    const auto dir = fixture_models_dir() / GetParam();
    const auto expected = read_json(dir / "expected.json");
    for (const auto& c : expected["cases"]) {
        const std::string file = c["model"];
        SCOPED_TRACE(file);
        // greedy tokens are compared where the weights are exact (F32), per the README
        check_fixture_case(c, dir, (dir / file).string(), file.find("f32") != std::string::npos);
    }
}

TEST_P(DenseFixture, HfFolderMatchesF32Logits) {
    PANGOLIN_REQUIRE_SHARED();
    const auto dir = fixture_models_dir() / GetParam();
    const auto expected = read_json(dir / "expected.json");
    for (const auto& c : expected["cases"]) {
        if (c["model"] != "model-f32.gguf") continue;
        nlohmann::json f32_case = c;
        f32_case.erase("exact_logits");
        check_fixture_case(f32_case, dir, (dir / "hf").string(), true);
        return;
    }
    FAIL() << "no model-f32.gguf case in " << dir;
}

TEST_P(DenseFixture, LogitsIdenticalWithOneAndTwoThreads) {
    PANGOLIN_REQUIRE_SHARED();
    const auto dir = fixture_models_dir() / GetParam();
    const auto expected = read_json(dir / "expected.json");
    for (const auto& c : expected["cases"]) {
        const auto prompt = c["prompt"].get<std::vector<int32_t>>();
        const std::string model = (dir / c["model"].get<std::string>()).string();
        const auto one = evaluate_model(model, prompt, 4, 1);
        const auto two = evaluate_model(model, prompt, 4, 2);
        ASSERT_EQ(one.logits.size(), two.logits.size());
        EXPECT_EQ(0, std::memcmp(one.logits.data(), two.logits.data(), one.logits.size() * 4))
            << model;
        EXPECT_EQ(one.greedy, two.greedy);
    }
}

INSTANTIATE_TEST_SUITE_P(Dense, DenseFixture,
                         ::testing::Values("llama", "qwen2", "qwen3", "pangu-embedded"),
                         [](const auto& p) {
                             std::string s = p.param;
                             for (auto& ch : s)
                                 if (ch == '-') ch = '_';
                             return s;
                         });
