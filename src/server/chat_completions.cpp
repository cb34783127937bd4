// POST /v1/chat/completions and /v1/completions: OpenAI's response objects and chunks over
// a generation job (n choices, logprobs, usage).
#include "core/error.h"
#include "server/generation.h"

namespace pangolin::server {

namespace {

json usage(const Job& job) {
    const int64_t completion = job.completion_tokens();
    return json{
        {"prompt_tokens", job.n_prompt},
        {"completion_tokens", completion},
        {"total_tokens", job.n_prompt + completion},
        {"prompt_tokens_details", {{"cached_tokens", job.choices[0].result.cached_tokens}}}};
}

json chunk(const Job& job, const json& choices_json) {
    return json{{"id", job.id},
                {"object", job.chat ? "chat.completion.chunk" : "text_completion"},
                {"created", job.created},
                {"model", job.st.model_id},
                {"choices", choices_json}};
}

json chat_message(const Choice& c) {
    const OutputResult& r = c.output->result();
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
    return msg;
}

json full_response(const Job& job) {
    const RequestParams& p = job.p;
    json out = {{"id", job.id},
                {"object", job.chat ? "chat.completion" : "text_completion"},
                {"created", job.created},
                {"model", job.st.model_id},
                {"choices", json::array()}};
    for (size_t i = 0; i < job.choices.size(); ++i) {
        const Choice& c = job.choices[i];
        json choice = {{"index", i}, {"finish_reason", finish_reason(c)}};
        if (job.chat) {
            choice["message"] = chat_message(c);
            choice["logprobs"] = p.logprobs ? json{{"content", c.logprobs}} : json(nullptr);
        } else {
            choice["text"] =
                (p.echo ? job.prompt_text : std::string()) + c.output->result().content;
            choice["logprobs"] = p.logprobs ? json{{"tokens", c.lp_tokens},
                                                   {"token_logprobs", c.lp_values},
                                                   {"top_logprobs", c.lp_top}}
                                            : json(nullptr);
        }
        out["choices"].push_back(choice);
    }
    out["usage"] = usage(job);
    return out;
}

json chat_delta(const OutputDelta& d) {
    json delta = json::object();
    if (!d.reasoning.empty()) {
        delta["reasoning_content"] = d.reasoning;
        delta["reasoning"] = d.reasoning;
    }
    if (!d.content.empty()) delta["content"] = d.content;
    if (!d.tool_calls.empty()) delta["tool_calls"] = d.tool_calls;
    return delta;
}

// The logprobs of tokens [from, end) of a completion choice, or null.
json completion_logprobs(const Choice& c, size_t from) {
    if (c.lp_tokens.size() <= from) return nullptr;
    json t = json::array(), v = json::array(), top = json::array();
    for (size_t k = from; k < c.lp_tokens.size(); ++k) {
        t.push_back(c.lp_tokens[k]);
        v.push_back(c.lp_values[k]);
        top.push_back(c.lp_top[k]);
    }
    return {{"tokens", t}, {"token_logprobs", v}, {"top_logprobs", top}};
}

class OpenAiStream : public StreamWriter {
  public:
    std::vector<std::string> start(Job& job) override {
        if (!job.chat) return {};
        json first = json::array();
        for (size_t i = 0; i < job.choices.size(); ++i)
            first.push_back({{"index", i},
                             {"delta", {{"role", "assistant"}, {"content", ""}}},
                             {"logprobs", nullptr},
                             {"finish_reason", nullptr}});
        return {sse_data(chunk(job, first))};
    }

    // The chunks for one event (none when it produced nothing to send).
    std::vector<std::string> event(Job& job, const ChannelEvent& ev) override {
        Choice& c = job.choices[size_t(ev.choice)];
        const size_t lp_before = c.logprobs.size(), lpt_before = c.lp_tokens.size();
        std::vector<OutputDelta> deltas;
        job.apply(ev, deltas);
        std::vector<std::string> out;
        for (const auto& d : deltas) {
            const bool has_lp = c.logprobs.size() > lp_before || c.lp_tokens.size() > lpt_before;
            if (d.empty() && !ev.finished && !has_lp) continue;
            json choice = {{"index", ev.choice}};
            if (job.chat) {
                choice["delta"] = chat_delta(d);
                json lp = json::array();
                for (size_t k = lp_before; k < c.logprobs.size(); ++k) lp.push_back(c.logprobs[k]);
                choice["logprobs"] =
                    job.p.logprobs && !lp.empty() ? json{{"content", lp}} : json(nullptr);
            } else {
                choice["text"] = d.content;
                choice["logprobs"] =
                    job.p.logprobs ? completion_logprobs(c, lpt_before) : json(nullptr);
            }
            choice["finish_reason"] = ev.finished ? json(finish_reason(c)) : json(nullptr);
            out.push_back(sse_data(chunk(job, json::array({choice}))));
        }
        return out;
    }

    std::vector<std::string> end(Job& job) override {
        std::vector<std::string> out;
        if (const std::string err = job.error(); !err.empty())
            out.push_back(sse_data(json{{"error",
                                         {{"message", "generation failed: " + err},
                                          {"type", "server_error"},
                                          {"code", 500}}}}));
        if (job.p.include_usage) {
            json u = chunk(job, json::array());
            u["usage"] = usage(job);
            out.push_back(sse_data(u));
        }
        out.push_back("data: [DONE]\n\n");
        return out;
    }
};

}  // namespace

void handle_generation(ServerState& st, const httplib::Request& req, httplib::Response& res,
                       Endpoint endpoint) {
    const ojson body = parse_body(req);
    auto job = start_job(st, parse_request(body, endpoint),
                         endpoint == Endpoint::Chat ? "chatcmpl-" : "cmpl-");
    if (job->p.stream) {
        stream_job(job, std::make_shared<OpenAiStream>(), res);
        return;
    }
    wait_for(*job);
    res.set_content(dump(full_response(*job)), "application/json");
}

}  // namespace pangolin::server
