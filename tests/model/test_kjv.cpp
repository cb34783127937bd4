// The real demo model (../shared/models/kjv-demo): llama.cpp's greedy continuations from
// its BF16 HF folder (computed in F32) and from its Q8_0 GGUF.
#include <gtest/gtest.h>

#include "support/model_eval.h"

using namespace pangolin::test;

namespace {

std::filesystem::path kjv_dir() {
    return shared_dir() / "models" / "kjv-demo";
}

}  // namespace

TEST(KjvDemo, HfFolderGreedyMatchesExactly) {
    PANGOLIN_REQUIRE_SHARED();
    const auto expected = read_json(kjv_dir() / "expected.json");
    int checked = 0;
    for (const auto& c : expected["cases"]) {
        if (c["model"] != "hf") continue;
        const auto prompt = c["prompt"].get<std::vector<int32_t>>();
        const auto greedy = c["greedy"].get<std::vector<int32_t>>();
        const auto r = evaluate_model((kjv_dir() / "hf").string(), prompt, int(greedy.size()));
        EXPECT_EQ(r.greedy, greedy) << c["text"];
        ++checked;
    }
    EXPECT_EQ(checked, 4);
}

// Q8_0 weights: llama.cpp also quantizes activations to 8 bits, so its greedy path may
// legitimately differ from exact math where its own top-2 margin is tiny. Tokens must
// agree until a step where the reference margin is below 0.02 (none before).
TEST(KjvDemo, Q8GgufGreedyMatchesWhereMarginsAreClear) {
    PANGOLIN_REQUIRE_SHARED();
    const auto expected = read_json(kjv_dir() / "expected.json");
    int checked = 0;
    for (const auto& c : expected["cases"]) {
        if (c["model"] != "kjv-demo-q8_0.gguf") continue;
        const auto prompt = c["prompt"].get<std::vector<int32_t>>();
        const auto greedy = c["greedy"].get<std::vector<int32_t>>();
        const auto margin = c["greedy_margin"].get<std::vector<double>>();
        const auto r =
            evaluate_model((kjv_dir() / "kjv-demo-q8_0.gguf").string(), prompt, int(greedy.size()));
        for (size_t i = 0; i < greedy.size(); ++i) {
            if (r.greedy[i] == greedy[i]) continue;
            EXPECT_LT(margin[i], 0.02) << c["text"] << ": diverged at step " << i
                                       << " where llama.cpp's margin is " << margin[i];
            break;
        }
        ++checked;
    }
    EXPECT_EQ(checked, 4);
}
