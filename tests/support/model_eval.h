// Runs a model the way the fixtures were made: all prompt positions in one batch (logits
// of every position), then greedy decoding one token at a time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "support/fixtures.h"

namespace pangolin::test {

struct EvalResult {
    int64_t n_vocab = 0;
    std::vector<float> logits;   // [prompt.size(), n_vocab]
    std::vector<int32_t> greedy;  // n_greedy tokens
};

EvalResult evaluate_model(const std::string& model_path, const std::vector<int32_t>& prompt,
                          int n_greedy, int n_threads = 2);

// Checks one expected.json case of a fixture model against the README's tolerances.
// `model_path` may differ from the case's file (e.g. the HF folder of the same weights),
// then `reference` names the logits to compare with.
void check_fixture_case(const nlohmann::json& expected_case, const std::filesystem::path& fixture_dir,
                        const std::string& model_path, bool compare_greedy);

}  // namespace pangolin::test
