// pangolin chat -m MODEL [--system TEXT] [--hide-reasoning]
// An interactive terminal chat: each turn renders the whole conversation with the model's own
// chat template, re-evaluates only what differs from the tokens already in the KV cache
// (usually just the new user message), and streams the answer; reasoning is shown dimmed
// (or hidden). Type /reset to start over, /exit or Ctrl-D to leave.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <random>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/error.h"
#include "core/log.h"
#include "runtime/output_processor.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace pangolin::cli {

namespace {
struct ChatOptions {
    ModelOptions model;
    std::string system;
    bool hide_reasoning = false;
    int64_t ctx = 0;
    int n_predict = 1024;
    SamplerParams sampling{0.7f, 40, 0.95f, 0.05f, 0};
    bool seed_given = false;
};

const char* k_chatml =
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] "
    "+ '<|im_end|>' + '\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

void out(const std::string& s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
}
}  // namespace

Runner add_chat(CLI::App& app) {
    auto o = std::make_shared<ChatOptions>();
    add_model_options(app, o->model);
    app.add_option("--system", o->system, "System message");
    app.add_flag("--hide-reasoning", o->hide_reasoning, "Do not show the model's reasoning");
    app.add_option("-c,--ctx-size", o->ctx, "Context size (default: the model's)");
    app.add_option("-n,--n-predict", o->n_predict, "Most tokens per answer");
    app.add_option("--temp", o->sampling.temperature, "Temperature (0: greedy)");
    app.add_option("--top-k", o->sampling.top_k, "Top-k (0: off)");
    app.add_option("--top-p", o->sampling.top_p, "Top-p (1: off)");
    app.add_option("--min-p", o->sampling.min_p, "Min-p (0: off)");
    auto* seed = app.add_option("-s,--seed", o->sampling.seed, "Random seed");
    return [o, seed]() {
        auto model = load_model_for_cli(o->model);
        if (follow_if_not_root(*model)) return 0;
        if (seed->count() == 0) o->sampling.seed = std::random_device{}();
        const auto tokenizer = load_tokenizer(model->source());
        const std::string tmpl =
            tokenizer->chat_template().empty() ? std::string(k_chatml) : tokenizer->chat_template();
        Session session(*model, o->ctx);
        Sampler sampler(o->sampling);
        const bool tty = ::isatty(STDOUT_FILENO) != 0;
        const int64_t n_vocab = model->config().n_vocab;
        nlohmann::ordered_json messages = nlohmann::ordered_json::array();
        if (!o->system.empty()) messages.push_back({{"role", "system"}, {"content", o->system}});
        std::vector<int32_t> cached;  // tokens whose KV the session holds, in order
        log_info("chat: ", model->config().arch, ", context ", session.n_ctx(),
                 " tokens. /reset starts over, /exit or Ctrl-D leaves.");
        std::string line;
        for (;;) {
            if (tty) out("\n> ");
            if (!std::getline(std::cin, line)) break;
            if (line == "/exit" || line == "/quit") break;
            if (line == "/reset") {
                messages.erase(messages.begin() + (o->system.empty() ? 0 : 1), messages.end());
                continue;
            }
            if (line.empty()) continue;
            messages.push_back({{"role", "user"}, {"content", line}});
            ChatTemplateOptions topts;
            topts.add_generation_prompt = true;
            topts.bos_token = tokenizer->bos_text();
            topts.eos_token = tokenizer->eos_text();
            std::string prompt_text;
            try {
                prompt_text = render_chat_template(tmpl, messages, topts);
            } catch (const std::exception& e) {
                messages.erase(messages.end() - 1);
                std::fprintf(stderr, "error: chat template: %s\n", e.what());
                continue;
            }
            const std::string& bos = tokenizer->bos_text();
            const bool has_bos = !bos.empty() && prompt_text.rfind(bos, 0) == 0;
            const auto prompt = tokenizer->encode(prompt_text, !has_bos, true);
            // Keep the longest prefix already in the cache; evaluate the rest.
            size_t common = 0;
            while (common < cached.size() && common < prompt.size() &&
                   cached[common] == prompt[common])
                ++common;
            if (common == prompt.size())
                --common;  // the last prompt token is re-read for its logits
            session.truncate(int64_t(common));
            cached.resize(common);
            if (int64_t(prompt.size()) + 1 > session.n_ctx()) {
                messages.erase(messages.end() - 1);
                std::fprintf(stderr,
                             "error: the conversation (%zu tokens) no longer fits the context of "
                             "%lld; /reset\n",
                             prompt.size(), (long long)session.n_ctx());
                continue;
            }
            const std::vector<int32_t> rest(prompt.begin() + int64_t(common), prompt.end());
            log_debug("chat: reusing ", common, " cached tokens, evaluating ", rest.size());
            const std::vector<float>* logits = &session.eval(rest);
            cached = prompt;
            OutputProcessorOptions oo;
            oo.prompt_text = prompt_text;
            oo.chat_template = tmpl;
            OutputProcessor output(*tokenizer, oo);
            bool in_reasoning = false;
            auto show = [&](const OutputDelta& d) {
                if (!d.reasoning.empty() && !o->hide_reasoning) {
                    if (!in_reasoning && tty) out("\x1b[2m");
                    in_reasoning = true;
                    out(d.reasoning);
                }
                if (!d.content.empty()) {
                    if (in_reasoning) {
                        if (tty) out("\x1b[0m");
                        out("\n");
                        in_reasoning = false;
                    }
                    out(d.content);
                }
            };
            for (int i = 0; i < o->n_predict && session.n_past() < session.n_ctx(); ++i) {
                const int32_t tok = sampler.sample(logits->data(), n_vocab);
                if (tokenizer->is_eog(tok)) break;
                show(output.push(tok));
                if (session.n_past() + 1 >= session.n_ctx()) break;
                logits = &session.eval({tok});
                cached.push_back(tok);
            }
            show(output.finish());
            if (in_reasoning && tty) out("\x1b[0m");
            out("\n");
            messages.push_back({{"role", "assistant"}, {"content", output.result().content}});
        }
        finish_parallel(*model);
        return 0;
    };
}

}  // namespace pangolin::cli
