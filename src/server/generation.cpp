// POST /v1/chat/completions and /v1/completions: prompt → engine requests (one per choice)
// → streamed or collected text, with stop strings, reasoning split, tool calls, logprobs.
#include <chrono>
#include <random>

#include "core/error.h"
#include "core/log.h"
#include "server/channel.h"
#include "server/output.h"
#include "server/server_state.h"
#include "text/chat_template.h"

namespace pangolin::server {

namespace {

using json = nlohmann::json;

std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The conversation rendered by the model's chat template (a ChatML default when it has none).
const char* k_default_template =
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] "
    "+ '<|im_end|>' + '\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

std::string render_prompt(const ServerState& st, const RequestParams& p) {
    ChatTemplateOptions opts;
    opts.add_generation_prompt = true;
    opts.bos_token = st.tokenizer->bos_text();
    opts.eos_token = st.tokenizer->eos_text();
    if (!p.tools.is_null() && p.tool_choice.mode != ToolChoice::Mode::None) opts.tools = p.tools;
    for (auto it = p.chat_template_kwargs.begin(); it != p.chat_template_kwargs.end(); ++it)
        opts.extra[it.key()] = it.value();
    const std::string& tmpl =
        st.chat_template.empty() ? std::string(k_default_template) : st.chat_template;
    return render_chat_template(tmpl, p.messages, opts);
}

json logprob_entry(const Tokenizer& tok, const TokenEvent& ev) {
    auto item = [&](int32_t id, float lp) {
        const std::string piece = tok.token_to_piece(id);
        json bytes = json::array();
        for (unsigned char c : piece) bytes.push_back(int(c));
        return json{{"token", piece}, {"logprob", lp}, {"bytes", bytes}};
    };
    json e = item(ev.token, ev.logprobs.logprob);
    e["top_logprobs"] = json::array();
    for (const auto& [id, lp] : ev.logprobs.top) e["top_logprobs"].push_back(item(id, lp));
    return e;
}

struct Choice {
    std::unique_ptr<OutputProcessor> output;
    uint64_t engine_id = 0;
    bool finished = false;
    bool stop_string = false;
    RequestResult result;
    int64_t tokens = 0;
    json logprobs = json::array();
    // completion-style logprobs
    json lp_tokens = json::array(), lp_values = json::array(), lp_top = json::array();
};

std::string finish_reason(const Choice& c) {
    if (c.output->has_tool_calls()) return "tool_calls";
    if (c.stop_string) return "stop";
    switch (c.result.reason) {
        case FinishReason::Length:
            return "length";
        default:
            return "stop";
    }
}

// One HTTP request's generation: its parameters, choices and channel. Shared between the
// handler and the streaming provider, which httplib calls after the handler has returned.
struct Job {
    ServerState& st;
    RequestParams p;
    bool chat = true;
    std::string id, object;
    int64_t created = 0;
    int64_t n_prompt = 0;
    std::string prompt_text;
    std::shared_ptr<Channel> channel = std::make_shared<Channel>();
    std::vector<Choice> choices;
    bool stream_started = false;

    explicit Job(ServerState& s) : st(s) {}

    // Applies one event to its choice; appends the text deltas it produced.
    void apply(const ChannelEvent& ev, std::vector<OutputDelta>& deltas) {
        Choice& c = choices[size_t(ev.choice)];
        if (ev.finished) {
            c.finished = true;
            c.result = ev.result;
            deltas.push_back(c.output->finish());
            return;
        }
        if (c.stop_string) return;  // tokens after a stop string are discarded
        ++c.tokens;
        const Tokenizer& tok = *st.tokenizer;
        if (ev.token.has_logprobs) {
            if (chat) {
                c.logprobs.push_back(logprob_entry(tok, ev.token));
            } else {
                c.lp_tokens.push_back(tok.token_to_piece(ev.token.token));
                c.lp_values.push_back(ev.token.logprobs.logprob);
                json top = json::object();
                for (const auto& [tid, lp] : ev.token.logprobs.top)
                    top[tok.token_to_piece(tid)] = lp;
                c.lp_top.push_back(top);
            }
        }
        deltas.push_back(c.output->push(ev.token.token));
        if (c.output->stopped() && !c.stop_string) {
            c.stop_string = true;
            st.engine->cancel(c.engine_id);
        }
    }
    bool all_finished() const {
        for (const auto& c : choices)
            if (!c.finished) return false;
        return true;
    }
    void cancel_all() {
        for (auto& c : choices)
            if (!c.finished) st.engine->cancel(c.engine_id);
    }
    json usage() const {
        int64_t completion = 0;
        for (const auto& c : choices) completion += c.tokens;
        return json{
            {"prompt_tokens", n_prompt},
            {"completion_tokens", completion},
            {"total_tokens", n_prompt + completion},
            {"prompt_tokens_details", {{"cached_tokens", choices[0].result.cached_tokens}}}};
    }
    std::string error() const {
        for (const auto& c : choices)
            if (c.finished && c.result.reason == FinishReason::Error) return c.result.error;
        return "";
    }
    json chunk(const json& choices_json) const {
        return json{{"id", id},
                    {"object", chat ? "chat.completion.chunk" : "text_completion"},
                    {"created", created},
                    {"model", st.model_id},
                    {"choices", choices_json}};
    }

    json full_response() const {
        json out = {{"id", id},
                    {"object", object},
                    {"created", created},
                    {"model", st.model_id},
                    {"choices", json::array()}};
        for (size_t i = 0; i < choices.size(); ++i) {
            const Choice& c = choices[i];
            const OutputResult& r = c.output->result();
            json choice = {{"index", i}, {"finish_reason", finish_reason(c)}};
            if (chat) {
                json msg = {{"role", "assistant"}};
                if (r.tool_calls.empty()) {
                    msg["content"] = r.content;
                } else {
                    msg["content"] = r.content.empty() ? json(nullptr) : json(r.content);
                    msg["tool_calls"] = r.tool_calls;
                }
                if (r.has_reasoning) {
                    msg["reasoning_content"] = r.reasoning;
                    msg["reasoning"] = r.reasoning;
                }
                choice["message"] = msg;
                choice["logprobs"] = p.logprobs ? json{{"content", c.logprobs}} : json(nullptr);
            } else {
                choice["text"] = (p.echo ? prompt_text : std::string()) + r.content;
                choice["logprobs"] = p.logprobs ? json{{"tokens", c.lp_tokens},
                                                       {"token_logprobs", c.lp_values},
                                                       {"top_logprobs", c.lp_top}}
                                                : json(nullptr);
            }
            out["choices"].push_back(choice);
        }
        out["usage"] = usage();
        return out;
    }

    // The SSE chunks for one event (empty when it produced nothing to send).
    std::vector<json> stream_chunks(const ChannelEvent& ev) {
        Choice& c = choices[size_t(ev.choice)];
        const size_t lp_before = c.logprobs.size(), lpt_before = c.lp_tokens.size();
        std::vector<OutputDelta> deltas;
        apply(ev, deltas);
        std::vector<json> out;
        for (const auto& d : deltas) {
            const bool has_lp = c.logprobs.size() > lp_before || c.lp_tokens.size() > lpt_before;
            if (d.empty() && !ev.finished && !has_lp) continue;
            json choice = {{"index", ev.choice}};
            if (chat) {
                json delta = json::object();
                if (!d.reasoning.empty()) {
                    delta["reasoning_content"] = d.reasoning;
                    delta["reasoning"] = d.reasoning;
                }
                if (!d.content.empty()) delta["content"] = d.content;
                if (!d.tool_calls.empty()) delta["tool_calls"] = d.tool_calls;
                choice["delta"] = delta;
                json lp = json::array();
                for (size_t k = lp_before; k < c.logprobs.size(); ++k) lp.push_back(c.logprobs[k]);
                choice["logprobs"] =
                    p.logprobs && !lp.empty() ? json{{"content", lp}} : json(nullptr);
            } else {
                choice["text"] = d.content;
                if (p.logprobs && c.lp_tokens.size() > lpt_before) {
                    json t = json::array(), v = json::array(), top = json::array();
                    for (size_t k = lpt_before; k < c.lp_tokens.size(); ++k) {
                        t.push_back(c.lp_tokens[k]);
                        v.push_back(c.lp_values[k]);
                        top.push_back(c.lp_top[k]);
                    }
                    choice["logprobs"] = {
                        {"tokens", t}, {"token_logprobs", v}, {"top_logprobs", top}};
                } else {
                    choice["logprobs"] = nullptr;
                }
            }
            choice["finish_reason"] = ev.finished ? json(finish_reason(c)) : json(nullptr);
            out.push_back(chunk(json::array({choice})));
        }
        return out;
    }
};

}  // namespace

void handle_generation(ServerState& st, const httplib::Request& req, httplib::Response& res,
                       Endpoint endpoint) {
    ojson body;
    try {
        body = ojson::parse(req.body);
    } catch (const ojson::exception& e) {
        send_error(res, 400, std::string("malformed JSON body: ") + e.what());
        return;
    }
    auto job = std::make_shared<Job>(st);
    job->p = parse_request(body, endpoint);
    const RequestParams& p = job->p;
    if (!p.model.empty() && p.model != st.model_id) {
        send_error(res, 404,
                   "model '" + p.model + "' is not served here (available: '" + st.model_id + "')");
        return;
    }
    const bool chat = job->chat = endpoint == Endpoint::Chat;

    // Prompt
    std::vector<int32_t> prompt;
    if (chat) {
        try {
            job->prompt_text = render_prompt(st, p);
        } catch (const std::exception& e) {
            send_error(res, 400, std::string("chat template: ") + e.what());
            return;
        }
        const std::string& bos = st.tokenizer->bos_text();
        const bool has_bos = !bos.empty() && job->prompt_text.rfind(bos, 0) == 0;
        prompt =
            st.tokenizer->encode(job->prompt_text, /*add_bos=*/!has_bos, /*parse_special=*/true);
    } else if (p.prompt_is_tokens) {
        prompt = p.prompt_tokens;
    } else {
        job->prompt_text = p.prompt_text;
        prompt = st.tokenizer->encode(job->prompt_text, /*add_bos=*/true, /*parse_special=*/true);
    }
    require(!prompt.empty(), "the prompt is empty");
    const int64_t ctx = st.engine->max_sequence();
    const int64_t n_prompt = job->n_prompt = int64_t(prompt.size());
    require(n_prompt < ctx, "the prompt (", n_prompt, " tokens) does not fit the context of ", ctx,
            " tokens");
    const int64_t max_tokens = p.max_tokens ? *p.max_tokens : ctx - n_prompt;
    if (p.max_tokens)
        require(n_prompt + max_tokens <= ctx, "the prompt (", n_prompt,
                " tokens) plus max_tokens (", max_tokens, ") is ", n_prompt + max_tokens,
                " tokens, more than the context of ", ctx, " tokens");

    OutputOptions oo;
    oo.stop = p.stop;
    oo.chat = chat;
    oo.prompt_text = job->prompt_text;
    oo.tools = p.tools;
    oo.tool_choice = p.tool_choice;
    oo.response_format = p.response_format;
    oo.json_schema = p.json_schema;
    oo.chat_template = st.chat_template;

    // One engine request per choice, all feeding the job's channel.
    job->choices.resize(static_cast<size_t>(p.n));
    const uint64_t base_seed =
        p.seed_given ? p.sampling.seed
                     : (uint64_t(std::random_device{}()) << 32) ^ std::random_device{}();
    for (int i = 0; i < p.n; ++i) {
        Choice& c = job->choices[size_t(i)];
        c.output = std::make_unique<OutputProcessor>(*st.tokenizer, oo);
        auto r = std::make_shared<GenerationRequest>();
        r->prompt = prompt;
        r->sampling = p.sampling;
        r->sampling.seed = base_seed + uint64_t(i);
        r->penalties = p.penalties;
        r->logit_bias = p.logit_bias;
        r->max_tokens = max_tokens;
        r->ignore_eos = p.ignore_eos;
        r->top_logprobs = p.logprobs ? p.top_logprobs : -1;
        r->logits_processor = c.output->logits_processor();
        auto accept = c.output->token_acceptor();
        auto channel = job->channel;
        r->on_token = [channel, i, accept](const TokenEvent& ev) {
            if (accept) accept(ev.token);
            channel->push({i, false, ev, {}});
            return true;
        };
        r->on_finish = [channel, i](const RequestResult& rr) { channel->push({i, true, {}, rr}); };
        c.engine_id = st.engine->submit(r);
        if (c.engine_id == 0) {
            for (int j = 0; j < i; ++j) st.engine->cancel(job->choices[size_t(j)].engine_id);
            send_error(res, 503, "the server is busy: too many requests are waiting (retry later)");
            return;
        }
    }
    job->id = std::string(chat ? "chatcmpl-" : "cmpl-") + std::to_string(st.next_id++);
    job->created = int64_t(std::time(nullptr));
    job->object = chat ? "chat.completion" : "text_completion";

    if (!p.stream) {
        ChannelEvent ev;
        std::vector<OutputDelta> deltas;
        while (!job->all_finished()) {
            if (job->channel->pop(ev, std::chrono::milliseconds(200)))
                job->apply(ev, deltas);
            else if (server_stopping()) {
                job->cancel_all();
                send_error(res, 503, "the server is shutting down");
                return;
            }
        }
        if (const std::string err = job->error(); !err.empty()) {
            send_error(res, 500, "generation failed: " + err);
            return;
        }
        res.set_content(dump(job->full_response()), "application/json");
        return;
    }

    // Server-sent events. httplib calls the provider on this worker thread after the handler
    // returns; a failed write means the client went away, and the releaser cancels whatever
    // is still generating, so its sequences leave the engine at the next step.
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [job](size_t, httplib::DataSink& sink) {
            auto send = [&](const json& j) {
                const std::string s = "data: " + dump(j) + "\n\n";
                return sink.write(s.data(), s.size());
            };
            if (!job->stream_started) {
                job->stream_started = true;
                if (job->chat) {
                    json first = json::array();
                    for (size_t i = 0; i < job->choices.size(); ++i)
                        first.push_back({{"index", i},
                                         {"delta", {{"role", "assistant"}, {"content", ""}}},
                                         {"logprobs", nullptr},
                                         {"finish_reason", nullptr}});
                    if (!send(job->chunk(first))) return false;
                }
            }
            ChannelEvent ev;
            if (!job->channel->pop(ev, std::chrono::milliseconds(200)))
                return sink.is_writable() && !server_stopping();
            for (const auto& c : job->stream_chunks(ev))
                if (!send(c)) return false;
            if (job->all_finished()) {
                if (const std::string err = job->error(); !err.empty())
                    send(json{{"error",
                               {{"message", "generation failed: " + err},
                                {"type", "server_error"},
                                {"code", 500}}}});
                if (job->p.include_usage) {
                    json u = job->chunk(json::array());
                    u["usage"] = job->usage();
                    send(u);
                }
                const std::string done = "data: [DONE]\n\n";
                sink.write(done.data(), done.size());
                sink.done();
            }
            return true;
        },
        [job](bool) { job->cancel_all(); });
}

}  // namespace pangolin::server
