// pangolin run -m MODEL --tokens 5,17,42 -n 24 --temp 0 --ids
// Evaluates the prompt in one batch, then generates n tokens one at a time.
#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/error.h"
#include "core/log.h"
#include "core/memory.h"
#include "model/registry.h"
#include "runtime/sampler.h"
#include "runtime/session.h"

namespace pangolin::cli {

namespace {
struct RunOptions {
    ModelOptions model;
    std::string tokens;
    int n_predict = 32;
    int64_t ctx = 0;
    bool ids = false;
    bool ignore_eos = false;
    SamplerParams sampling;
};
}  // namespace

Runner add_run(CLI::App& app) {
    auto o = std::make_shared<RunOptions>();
    add_model_options(app, o->model);
    app.add_option("--tokens", o->tokens, "Prompt as token ids, comma-separated")->required();
    app.add_option("-n,--n-predict", o->n_predict, "Tokens to generate")->check(CLI::NonNegativeNumber);
    app.add_option("-c,--ctx-size", o->ctx, "Context size (default: prompt + n-predict)");
    app.add_flag("--ids", o->ids, "Print generated token ids, space-separated");
    app.add_flag("--ignore-eos", o->ignore_eos, "Keep generating after the end-of-sequence token");
    app.add_option("--temp", o->sampling.temperature, "Temperature (0: greedy)");
    app.add_option("--top-k", o->sampling.top_k, "Top-k (0: off)");
    app.add_option("--top-p", o->sampling.top_p, "Top-p (1: off)");
    app.add_option("--min-p", o->sampling.min_p, "Min-p (0: off)");
    app.add_option("-s,--seed", o->sampling.seed, "Random seed");
    return [o]() {
        const auto prompt = parse_token_list(o->tokens);
        auto model = load_model_for_cli(o->model);
        if (follow_if_not_root(*model)) return 0;
        const int64_t n_vocab = model->config().n_vocab;
        const int64_t need = int64_t(prompt.size()) + o->n_predict;
        Session session(*model, o->ctx > 0 ? o->ctx : need);
        require(need <= session.n_ctx(), "prompt (", prompt.size(), " tokens) + ", o->n_predict,
                " generated tokens exceed the context size ", session.n_ctx());
        Sampler sampler(o->sampling);

        const auto t0 = std::chrono::steady_clock::now();
        const std::vector<float>* logits = &session.eval(prompt);
        const auto t1 = std::chrono::steady_clock::now();
        std::vector<int32_t> out;
        for (int i = 0; i < o->n_predict; ++i) {
            const int32_t tok = sampler.sample(logits->data(), n_vocab);
            out.push_back(tok);
            if (o->ids) std::printf("%s%d", i ? " " : "", tok);
            std::fflush(stdout);
            if (!o->ignore_eos && tok == model->config().eos_id) break;
            if (i + 1 < o->n_predict) logits = &session.eval({tok});
        }
        if (o->ids) std::printf("\n");
        const auto t2 = std::chrono::steady_clock::now();
        const double pp = std::chrono::duration<double>(t1 - t0).count();
        const double tg = std::chrono::duration<double>(t2 - t1).count();
        log_info("prompt: ", prompt.size(), " tokens in ", pp, " s; generated ", out.size(),
                 " tokens in ", tg, " s (", out.size() / std::max(tg, 1e-9), " tokens/s)");
        const MemoryUsage mem = memory_usage();
        log_info("memory: ", mem.rss / 1000000.0, " MB resident (", mem.rss_file / 1000000.0,
                 " MB file-backed incl. mapped weights, ", mem.rss_anon / 1000000.0, " MB anonymous); weights ",
                 model->source().tensor_bytes() / 1000000.0, " MB");
        finish_parallel(*model);
        return 0;
    };
}

}  // namespace pangolin::cli
