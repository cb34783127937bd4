#include "server/generation.h"

#include <chrono>
#include <random>

#include "core/error.h"
#include "text/chat_template.h"

namespace pangolin::server {

namespace {

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

OutputProcessorOptions output_options(const Job& job) {
    const RequestParams& p = job.p;
    OutputProcessorOptions oo;
    oo.stop = p.stop;
    oo.chat = job.chat;
    oo.prompt_text = job.prompt_text;
    oo.tools = p.tools;
    oo.tool_choice = p.tool_choice;
    oo.response_format = p.response_format;
    oo.json_schema = p.json_schema;
    oo.chat_template = job.st.chat_template;
    return oo;
}

}  // namespace

std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

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

void Job::apply(const ChannelEvent& ev, std::vector<OutputDelta>& deltas) {
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
            for (const auto& [tid, lp] : ev.token.logprobs.top) top[tok.token_to_piece(tid)] = lp;
            c.lp_top.push_back(top);
        }
    }
    deltas.push_back(c.output->push(ev.token.token));
    if (c.output->stopped() && !c.stop_string) {
        c.stop_string = true;
        st.engine->cancel(c.engine_id);
    }
}

bool Job::all_finished() const {
    for (const auto& c : choices)
        if (!c.finished) return false;
    return true;
}

void Job::cancel_all() {
    for (auto& c : choices)
        if (!c.finished) st.engine->cancel(c.engine_id);
}

int64_t Job::completion_tokens() const {
    int64_t n = 0;
    for (const auto& c : choices) n += c.tokens;
    return n;
}

std::string Job::error() const {
    for (const auto& c : choices)
        if (c.finished && c.result.reason == FinishReason::Error) return c.result.error;
    return "";
}

void build_prompt(Job& job) {
    ServerState& st = job.st;
    const RequestParams& p = job.p;
    if (job.chat) {
        try {
            job.prompt_text = render_prompt(st, p);
        } catch (const std::exception& e) {
            throw HttpError(400, std::string("chat template: ") + e.what());
        }
        const std::string& bos = st.tokenizer->bos_text();
        const bool has_bos = !bos.empty() && job.prompt_text.rfind(bos, 0) == 0;
        job.prompt =
            st.tokenizer->encode(job.prompt_text, /*add_bos=*/!has_bos, /*parse_special=*/true);
    } else if (p.prompt_is_tokens) {
        job.prompt = p.prompt_tokens;
    } else {
        job.prompt_text = p.prompt_text;
        job.prompt =
            st.tokenizer->encode(job.prompt_text, /*add_bos=*/true, /*parse_special=*/true);
    }
    require(!job.prompt.empty(), "the prompt is empty");
    const int64_t ctx = st.engine->max_sequence();
    job.n_prompt = int64_t(job.prompt.size());
    require(job.n_prompt < ctx, "the prompt (", job.n_prompt,
            " tokens) does not fit the context of ", ctx, " tokens");
    if (p.max_tokens)
        require(job.n_prompt + *p.max_tokens <= ctx, "the prompt (", job.n_prompt,
                " tokens) plus max_tokens (", *p.max_tokens, ") is ", job.n_prompt + *p.max_tokens,
                " tokens, more than the context of ", ctx, " tokens");
}

int64_t max_new_tokens(const Job& job) {
    return job.p.max_tokens ? *job.p.max_tokens : job.st.engine->max_sequence() - job.n_prompt;
}

void submit_choices(Job& job, const std::string& id_prefix) {
    ServerState& st = job.st;
    const RequestParams& p = job.p;
    const OutputProcessorOptions oo = output_options(job);
    const int64_t max_tokens = max_new_tokens(job);
    job.choices.resize(static_cast<size_t>(p.n));
    const uint64_t base_seed =
        p.seed_given ? p.sampling.seed
                     : (uint64_t(std::random_device{}()) << 32) ^ std::random_device{}();
    for (int i = 0; i < p.n; ++i) {
        Choice& c = job.choices[size_t(i)];
        c.output = std::make_unique<OutputProcessor>(*st.tokenizer, oo);
        auto r = std::make_shared<GenerationRequest>();
        r->prompt = job.prompt;
        r->sampling = p.sampling;
        r->sampling.seed = base_seed + uint64_t(i);
        r->penalties = p.penalties;
        r->logit_bias = p.logit_bias;
        r->max_tokens = max_tokens;
        r->ignore_eos = p.ignore_eos;
        r->top_logprobs = p.logprobs ? p.top_logprobs : -1;
        r->logits_processor = c.output->logits_processor();
        auto accept = c.output->token_acceptor();
        auto channel = job.channel;
        r->on_token = [channel, i, accept](const TokenEvent& ev) {
            if (accept) accept(ev.token);
            channel->push({i, false, ev, {}});
            return true;
        };
        r->on_finish = [channel, i](const RequestResult& rr) { channel->push({i, true, {}, rr}); };
        c.engine_id = st.engine->submit(r);
        if (c.engine_id == 0) {
            for (int j = 0; j < i; ++j) st.engine->cancel(job.choices[size_t(j)].engine_id);
            throw HttpError(503, "the server is busy: too many requests are waiting (retry later)");
        }
    }
    job.id = id_prefix + std::to_string(st.next_id++);
    job.created = int64_t(std::time(nullptr));
}

void check_model(const ServerState& st, const std::string& model) {
    if (!model.empty() && model != st.model_id)
        throw HttpError(
            404, "model '" + model + "' is not served here (available: '" + st.model_id + "')");
}

std::shared_ptr<Job> start_job(ServerState& st, RequestParams params,
                               const std::string& id_prefix) {
    auto job = std::make_shared<Job>(st);
    job->p = std::move(params);
    check_model(st, job->p.model);
    job->chat = job->p.endpoint == Endpoint::Chat;
    build_prompt(*job);
    submit_choices(*job, id_prefix);
    return job;
}

void wait_for(Job& job) {
    ChannelEvent ev;
    std::vector<OutputDelta> deltas;
    while (!job.all_finished()) {
        if (job.channel->pop(ev, std::chrono::milliseconds(200))) {
            job.apply(ev, deltas);
        } else if (server_stopping()) {
            job.cancel_all();
            throw HttpError(503, "the server is shutting down");
        }
    }
    if (const std::string err = job.error(); !err.empty())
        throw HttpError(500, "generation failed: " + err);
}

std::string sse_data(const json& j) {
    return "data: " + dump(j) + "\n\n";
}

std::string sse_event(const std::string& name, const json& j) {
    return "event: " + name + "\ndata: " + dump(j) + "\n\n";
}

void stream_job(std::shared_ptr<Job> job, std::shared_ptr<StreamWriter> writer,
                httplib::Response& res) {
    // httplib calls the provider on this worker thread after the handler returns; the
    // releaser cancels whatever is still generating, so its sequences leave the engine at
    // the next step.
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [job, writer](size_t, httplib::DataSink& sink) {
            auto send = [&](const std::vector<std::string>& frames) {
                for (const auto& f : frames)
                    if (!sink.write(f.data(), f.size())) return false;
                return true;
            };
            if (!job->stream_started) {
                job->stream_started = true;
                if (!send(writer->start(*job))) return false;
            }
            ChannelEvent ev;
            if (!job->channel->pop(ev, std::chrono::milliseconds(200)))
                return sink.is_writable() && !server_stopping();
            if (!send(writer->event(*job, ev))) return false;
            if (job->all_finished()) {
                send(writer->end(*job));
                sink.done();
            }
            return true;
        },
        [job](bool) { job->cancel_all(); });
}

}  // namespace pangolin::server
