#include "support/model_eval.h"

#include <cstring>
#include <fstream>

#include "core/error.h"

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
    const bool quantized = c.contains("exact_logits") &&
                           c["model"].get<std::string>().find("f32") == std::string::npos;
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

// `recode` may rewrite a kept tensor (its header entry and bytes).
std::filesystem::path edited_hf_copy(const TempDir& dir, const std::string& fixture,
                                     const std::function<void(nlohmann::json&)>& edit,
                                     const std::function<bool(const std::string&)>& drop,
                                     const Recode& recode) {
    namespace fs = std::filesystem;
    const fs::path src = fixture_models_dir() / fixture / "hf", dst = dir / fixture;
    fs::create_directories(dst);
    auto cfg = read_json(src / "config.json");
    edit(cfg);
    std::ofstream(dst / "config.json") << cfg.dump();
    if (!drop && !recode) {
        fs::create_symlink(fs::absolute(src / "model.safetensors"), dst / "model.safetensors");
        return dst;
    }
    const std::string bytes = read_file(src / "model.safetensors");
    uint64_t n;
    std::memcpy(&n, bytes.data(), 8);
    auto header = nlohmann::json::parse(bytes.substr(8, n));
    nlohmann::json out = nlohmann::json::object();
    std::string data;
    for (auto& [name, t] : header.items()) {
        if (name == "__metadata__" || (drop && drop(name))) continue;
        const uint64_t b = t["data_offsets"][0], e = t["data_offsets"][1];
        nlohmann::json nt = t;
        std::string tb = bytes.substr(8 + n + b, e - b);
        if (recode) recode(name, nt, tb);
        nt["data_offsets"] = {data.size(), data.size() + tb.size()};
        data += tb;
        out[name] = nt;
    }
    const std::string h = out.dump();
    const uint64_t hn = h.size();
    std::ofstream f(dst / "model.safetensors", std::ios::binary);
    f.write(reinterpret_cast<const char*>(&hn), 8);
    f << h << data;
    return dst;
}

std::string load_error(const std::filesystem::path& p) {
    try {
        load_model(p.string());
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace pangolin::test
