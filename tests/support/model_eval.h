// Runs a model the way the fixtures were made: all prompt positions in one batch (logits
// of every position), then greedy decoding one token at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "support/fixtures.h"

namespace pangolin::test {

struct EvalResult {
    int64_t n_vocab = 0;
    std::vector<float> logits;    // [prompt.size(), n_vocab]
    std::vector<int32_t> greedy;  // n_greedy tokens
};

EvalResult evaluate_model(const std::string& model_path, const std::vector<int32_t>& prompt,
                          int n_greedy, int n_threads = 2);

// Checks one expected.json case of a fixture model against the README's tolerances.
// `model_path` may differ from the case's file (e.g. the HF folder of the same weights),
// then `reference` names the logits to compare with.
void check_fixture_case(const nlohmann::json& expected_case,
                        const std::filesystem::path& fixture_dir, const std::string& model_path,
                        bool compare_greedy);

// A copy of the HF folder of fixture `fixture` under dir, with config.json edited by `edit`;
// when `drop` or `recode` is given, model.safetensors is rewritten without the tensors `drop`
// names and with those `recode` rewrites (header entry and bytes), else symlinked.
using Recode =
    std::function<void(const std::string& name, nlohmann::json& header, std::string& bytes)>;
std::filesystem::path edited_hf_copy(const TempDir& dir, const std::string& fixture,
                                     const std::function<void(nlohmann::json&)>& edit,
                                     const std::function<bool(const std::string&)>& drop = nullptr,
                                     const Recode& recode = nullptr);
// The Error message of loading the model at p ("" when it loads).
std::string load_error(const std::filesystem::path& p);

}  // namespace pangolin::test
