// pangolin perplexity -m MODEL -f TEXT_FILE [-c CHUNK] [--chunks N]
// llama-perplexity's protocol: the text is tokenized once (with BOS when the vocabulary adds
// one) and cut into chunks of CHUNK tokens; each chunk's first token is replaced by BOS, the
// chunk is evaluated in one batch, and positions CHUNK/2 .. CHUNK-2 are scored on predicting
// the next token. Prints PPL = exp(mean NLL) ± its standard error.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/error.h"
#include "core/log.h"
#include "runtime/session.h"
#include "text/tokenizer.h"

namespace pangolin::cli {

namespace {
struct PerplexityOptions {
    ModelOptions model;
    std::string file;
    int64_t chunk = 512;
    int64_t max_chunks = -1;
};
}  // namespace

Runner add_perplexity(CLI::App& app) {
    auto o = std::make_shared<PerplexityOptions>();
    add_model_options(app, o->model);
    app.add_option("-f,--file", o->file, "Text file to score")->required();
    app.add_option("-c,--ctx-size", o->chunk, "Tokens per chunk")
        ->check(CLI::Range(int64_t(4), int64_t(1) << 20));
    app.add_option("--chunks", o->max_chunks, "Score at most this many chunks (default: all)");
    return [o]() {
        std::ifstream in(o->file, std::ios::binary);
        require(in.good(), o->file, ": cannot be read");
        std::ostringstream ss;
        ss << in.rdbuf();
        auto model = load_model_for_cli(o->model);
        if (follow_if_not_root(*model)) return 0;
        const auto tokenizer = load_tokenizer(model->source());
        const std::vector<int32_t> tokens =
            tokenizer->encode(ss.str(), /*add_bos=*/true, /*parse_special=*/false);
        const int64_t n_ctx = o->chunk;
        int64_t n_chunks = int64_t(tokens.size()) / n_ctx;
        require(n_chunks > 0, o->file, ": ", tokens.size(), " tokens are fewer than one chunk of ",
                n_ctx, " (lower -c)");
        if (o->max_chunks >= 0) n_chunks = std::min(n_chunks, o->max_chunks);
        const bool add_bos = tokenizer->add_bos_default() && tokenizer->bos() >= 0;
        const int64_t n_vocab = model->config().n_vocab;
        const int64_t first = n_ctx / 2;
        log_info("perplexity: ", tokens.size(), " tokens, ", n_chunks, " chunks of ", n_ctx,
                 ", scoring positions ", first, "..", n_ctx - 2);
        double nll = 0, nll2 = 0;
        int64_t count = 0;
        Progress progress("perplexity", uint64_t(n_chunks), "chunks");
        for (int64_t c = 0; c < n_chunks; ++c) {
            std::vector<int32_t> chunk(tokens.begin() + c * n_ctx,
                                       tokens.begin() + (c + 1) * n_ctx);
            if (add_bos) chunk[0] = tokenizer->bos();
            Session session(*model, n_ctx);
            const std::vector<float>& logits = session.eval(chunk, /*all_logits=*/true);
            for (int64_t j = first; j < n_ctx - 1; ++j) {
                const float* row = logits.data() + j * n_vocab;
                double mx = -INFINITY;
                for (int64_t v = 0; v < n_vocab; ++v) mx = std::max(mx, double(row[v]));
                double sum = 0;
                for (int64_t v = 0; v < n_vocab; ++v) sum += std::exp(double(row[v]) - mx);
                const double lp =
                    double(row[tokens[size_t(c * n_ctx + j + 1)]]) - mx - std::log(sum);
                nll -= lp;
                nll2 += lp * lp;
                ++count;
            }
            progress.set(uint64_t(c + 1));
            log_debug("chunk ", c + 1, ": running PPL ", std::exp(nll / double(count)));
        }
        progress.finish();
        const double mean = nll / double(count);
        const double ppl = std::exp(mean);
        const double var = nll2 / double(count) - mean * mean;
        const double err = var > 0 && count > 1 ? std::sqrt(var / double(count - 1)) * ppl : 0.0;
        std::printf("Final estimate: PPL = %.4f +/- %.5f\n", ppl, err);
        finish_parallel(*model);
        return 0;
    };
}

}  // namespace pangolin::cli
