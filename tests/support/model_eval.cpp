#include "support/model_eval.h"

#include "model/registry.h"
#include "runtime/sampler.h"
#include "runtime/session.h"

namespace pangolin::test {

EvalResult evaluate_model(const std::string& model_path, const std::vector<int32_t>& prompt,
                          int n_greedy, int n_threads) {
    LoadOptions lo;
    lo.n_threads = n_threads;
    auto model = load_model(model_path, lo);
    EvalResult r;
    r.n_vocab = model->config().n_vocab;
    Session session(*model, int64_t(prompt.size()) + n_greedy + 1);
    r.logits = session.eval(prompt, /*all_logits=*/true);
    const float* last = r.logits.data() + (prompt.size() - 1) * size_t(r.n_vocab);
    std::vector<float> step(last, last + r.n_vocab);
    for (int i = 0; i < n_greedy; ++i) {
        const int32_t tok = argmax(step.data(), r.n_vocab);
        r.greedy.push_back(tok);
        if (i + 1 < n_greedy) step = session.eval({tok});
    }
    return r;
}

void check_fixture_case(const nlohmann::json& c, const std::filesystem::path& dir,
                        const std::string& model_path, bool compare_greedy) {
    const auto prompt = c["prompt"].get<std::vector<int32_t>>();
    const auto greedy = c["greedy"].get<std::vector<int32_t>>();
    const EvalResult r = evaluate_model(model_path, prompt, int(greedy.size()));
    ASSERT_EQ(r.n_vocab, c["n_vocab"].get<int64_t>());
    const int64_t n = int64_t(prompt.size());
    const bool quantized = c.contains("exact_logits") && c["model"].get<std::string>().find("f32") == std::string::npos;
    if (quantized) {
        const auto exact = read_f32(dir / c["exact_logits"].get<std::string>());
        ASSERT_EQ(exact.size(), size_t(n * r.n_vocab));
        const double limit = std::max(1.5 * c["llamacpp_rel_l2_vs_exact_max"].get<double>(), 1e-3);
        const double rel = max_rel_l2(r.logits.data(), exact.data(), n, r.n_vocab);
        EXPECT_LE(rel, limit) << model_path << ": distance to exact logits";
        ::testing::Test::RecordProperty("rel_l2_vs_exact", std::to_string(rel));
    } else {
        const auto ref = read_f32(dir / c["logits"].get<std::string>());
        ASSERT_EQ(ref.size(), size_t(n * r.n_vocab));
        const double rel = max_rel_l2(r.logits.data(), ref.data(), n, r.n_vocab);
        EXPECT_LE(rel, 1e-4) << model_path << ": distance to reference logits";
        ::testing::Test::RecordProperty("rel_l2", std::to_string(rel));
    }
    if (compare_greedy) EXPECT_EQ(r.greedy, greedy) << model_path << ": greedy tokens";
}

}  // namespace pangolin::test
