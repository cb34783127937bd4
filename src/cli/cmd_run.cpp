// pangolin run -m MODEL (-p TEXT | --tokens 5,17,42) [-n N] [--temp T ...] [--ids]
// Evaluates the prompt in one batch, then generates up to n tokens one at a time, streaming
// the text (or, with --ids, the token ids) to stdout.
#include <chrono>
#include <cstdio>
#include <random>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/error.h"
#include "core/log.h"
#include "core/memory.h"
#include "model/registry.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "text/tokenizer.h"

namespace pangolin::cli {

namespace {
struct RunOptions {
    ModelOptions model;
    std::string tokens, prompt;
    int n_predict = 128;
    int64_t ctx = 0;
    bool ids = false;
    bool ignore_eos = false;
    bool no_display_prompt = false;
    bool no_parse_special = false;
    SamplerParams sampling;
    bool seed_given = false;
};

void write_out(const std::string& s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
}
}  // namespace

Runner add_run(CLI::App& app) {
    auto o = std::make_shared<RunOptions>();
    add_model_options(app, o->model);
    auto* text = app.add_option("-p,--prompt", o->prompt, "Prompt text");
    auto* toks = app.add_option("--tokens", o->tokens, "Prompt as token ids, comma-separated");
    text->excludes(toks);
    app.add_option("-n,--n-predict", o->n_predict, "Tokens to generate")
        ->check(CLI::NonNegativeNumber);
    app.add_option("-c,--ctx-size", o->ctx, "Context size (default: prompt + n-predict)");
    app.add_flag("--ids", o->ids, "Print generated token ids, space-separated, instead of text");
    app.add_flag("--ignore-eos", o->ignore_eos, "Keep generating after an end-of-generation token");
    app.add_flag("--no-display-prompt", o->no_display_prompt, "Print only the generated text");
    app.add_flag("--no-parse-special", o->no_parse_special,
                 "Tokenize special-token text in the prompt as plain text");
    app.add_option("--temp", o->sampling.temperature, "Temperature (0: greedy)");
    app.add_option("--top-k", o->sampling.top_k, "Top-k (0: off)");
    app.add_option("--top-p", o->sampling.top_p, "Top-p (1: off)");
    app.add_option("--min-p", o->sampling.min_p, "Min-p (0: off)");
    auto* seed = app.add_option("-s,--seed", o->sampling.seed, "Random seed (default: random)");
    return [o, text, toks, seed]() {
        require(text->count() > 0 || toks->count() > 0,
                "run: give a prompt with -p TEXT or --tokens IDS");
        auto model = load_model_for_cli(o->model);
        if (follow_if_not_root(*model)) return 0;
        if (seed->count() == 0) o->sampling.seed = std::random_device{}();
        std::unique_ptr<Tokenizer> tokenizer;
        std::vector<int32_t> prompt;
        if (text->count() > 0) {
            tokenizer = load_tokenizer(model->source());
            prompt = tokenizer->encode(o->prompt, /*add_bos=*/true, !o->no_parse_special);
            require(!prompt.empty(), "the prompt is empty after tokenization");
        } else {
            prompt = parse_token_list(o->tokens);
            if (!o->ids) tokenizer = load_tokenizer(model->source());
        }
        const int64_t n_vocab = model->config().n_vocab;
        const int64_t need = int64_t(prompt.size()) + o->n_predict;
        Session session(*model, o->ctx > 0 ? o->ctx : need);
        require(need <= session.n_ctx(), "prompt (", prompt.size(), " tokens) + ", o->n_predict,
                " generated tokens exceed the context size ", session.n_ctx());
        Sampler sampler(o->sampling);
        if (!o->ids && text->count() > 0 && !o->no_display_prompt) write_out(o->prompt);

        const auto t0 = std::chrono::steady_clock::now();
        const std::vector<float>* logits = o->n_predict > 0 ? &session.eval(prompt) : nullptr;
        const auto t1 = std::chrono::steady_clock::now();
        std::vector<int32_t> out;
        std::unique_ptr<StreamDecoder> stream;
        if (tokenizer && !o->ids)
            stream = std::make_unique<StreamDecoder>(*tokenizer, /*skip_special=*/false);
        for (int i = 0; i < o->n_predict; ++i) {
            const int32_t tok = sampler.sample(logits->data(), n_vocab);
            const bool eog = tokenizer ? tokenizer->is_eog(tok) : tok == model->config().eos_id;
            if (eog && !o->ignore_eos) break;
            out.push_back(tok);
            if (o->ids)
                write_out((i ? " " : "") + std::to_string(tok));
            else
                write_out(stream->push(tok));
            if (i + 1 < o->n_predict) logits = &session.eval({tok});
        }
        if (stream) write_out(stream->flush());
        write_out("\n");
        const auto t2 = std::chrono::steady_clock::now();
        const double pp = std::chrono::duration<double>(t1 - t0).count();
        const double tg = std::chrono::duration<double>(t2 - t1).count();
        log_info("prompt: ", prompt.size(), " tokens in ", pp, " s (",
                 prompt.size() / std::max(pp, 1e-9), " tokens/s); generated ", out.size(),
                 " tokens in ", tg, " s (", out.size() / std::max(tg, 1e-9), " tokens/s)");
        const MemoryUsage mem = memory_usage();
        log_info("memory: ", mem.rss / 1000000.0, " MB resident (", mem.rss_file / 1000000.0,
                 " MB file-backed incl. mapped weights, ", mem.rss_anon / 1000000.0,
                 " MB anonymous); weights ", model->source().tensor_bytes() / 1000000.0, " MB");
        finish_parallel(*model);
        return 0;
    };
}

}  // namespace pangolin::cli
