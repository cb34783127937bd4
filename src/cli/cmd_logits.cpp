// pangolin logits -m MODEL --tokens 5,17,42 -o OUT.f32 [-t THREADS]
// Evaluates all tokens in one batch and writes float32 logits, row-major [n_tokens, n_vocab].
#include <cstdio>
#include <fstream>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/error.h"
#include "core/log.h"
#include "model/registry.h"
#include "runtime/session.h"

namespace pangolin::cli {

namespace {
struct LogitsOptions {
    ModelOptions model;
    std::string tokens, output;
    int64_t ctx = 0;
};
}  // namespace

std::vector<int32_t> parse_token_list(const std::string& text) {
    std::vector<int32_t> ids;
    std::string cur;
    auto flush = [&] {
        if (cur.empty()) return;
        size_t used = 0;
        long long v = 0;
        try {
            v = std::stoll(cur, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        require(used == cur.size() && v >= 0 && v <= INT32_MAX, "'", cur,
                "' is not a token id (expected non-negative integers separated by commas)");
        ids.push_back(int32_t(v));
        cur.clear();
    };
    for (char ch : text) {
        if (ch == ',' || ch == ' ' || ch == '\t' || ch == '\n')
            flush();
        else
            cur += ch;
    }
    flush();
    require(!ids.empty(), "no token ids given");
    return ids;
}

Runner add_logits(CLI::App& app) {
    auto o = std::make_shared<LogitsOptions>();
    add_model_options(app, o->model);
    app.add_option("--tokens", o->tokens, "Token ids, comma-separated")->required();
    app.add_option("-o,--output", o->output, "Output file (float32, [n_tokens, n_vocab])")
        ->required();
    app.add_option("-c,--ctx-size", o->ctx, "Context size (default: the prompt length)");
    return [o]() {
        const auto tokens = parse_token_list(o->tokens);
        auto model = load_model_for_cli(o->model);
        if (follow_if_not_root(*model)) return 0;
        Session session(*model, std::max<int64_t>(o->ctx, int64_t(tokens.size())));
        const auto& logits = session.eval(tokens, /*all_logits=*/true);
        std::ofstream out(o->output, std::ios::binary);
        require(bool(out), o->output, ": cannot open for writing");
        out.write(reinterpret_cast<const char*>(logits.data()), std::streamsize(logits.size() * 4));
        out.close();
        require(bool(out), o->output, ": write failed (disk full?)");
        log_info("wrote ", tokens.size(), " × ", model->config().n_vocab, " logits to ", o->output);
        finish_parallel(*model);
        return 0;
    };
}

}  // namespace pangolin::cli
