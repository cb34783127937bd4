// POST /v1/messages and /v1/messages/count_tokens: Anthropic's Messages API. The system
// prompt and the messages' blocks become a chat conversation (tool_use → tool calls,
// tool_result → tool messages, thinking → reasoning_content) that runs as a chat completion
// with one choice; the answer comes back as thinking, text and tool_use blocks, streamed as
// message_start, content_block_start/delta/stop, message_delta, message_stop.
#include "core/error.h"
#include "server/generation.h"

namespace pangolin::server {

namespace {

// The text of a tool_result's content (a string or text blocks).
std::string result_text(const ojson& content, const std::string& where) {
    if (content.is_string()) return content.get<std::string>();
    require(content.is_array(), where, ".content must be a string or a list of blocks");
    std::string text;
    for (size_t i = 0; i < content.size(); ++i) {
        const ojson& b = content[i];
        require(b.is_object() && b.value("type", "") == "text" && b.contains("text") &&
                    b["text"].is_string(),
                where, ".content[", i, "] must be a text block (this model reads text only)");
        if (!text.empty()) text += "\n";
        text += b["text"].get<std::string>();
    }
    return text;
}

std::string block_type(const ojson& b, const std::string& where) {
    require(b.is_object() && b.contains("type") && b["type"].is_string(), where,
            " must be an object with a 'type'");
    return b["type"];
}

std::string string_field(const ojson& b, const char* key, const std::string& where) {
    require(b.contains(key) && b[key].is_string(), where, ".", key, " must be a string");
    return b[key];
}

// Text blocks joined by newlines.
struct JoinedText {
    std::string text;
    bool any = false;
    void add(const std::string& piece) {
        if (any) text += "\n";
        text += piece;
        any = true;
    }
};

// Calls fn(block, where, type) for each block of a message's content list.
template <typename Fn>
void for_each_block(const ojson& content, const std::string& where, Fn fn) {
    for (size_t i = 0; i < content.size(); ++i) {
        const std::string bw = where + ".content[" + std::to_string(i) + "]";
        fn(content[i], bw, block_type(content[i], bw));
    }
}

void add_user_turn(const ojson& content, const std::string& where, ojson& messages) {
    if (content.is_string()) {
        messages.push_back({{"role", "user"}, {"content", content}});
        return;
    }
    JoinedText text;
    for_each_block(
        content, where, [&](const ojson& b, const std::string& bw, const std::string& type) {
            if (type == "text") {
                text.add(string_field(b, "text", bw));
            } else if (type == "tool_result") {
                const std::string id = string_field(b, "tool_use_id", bw);
                const std::string out = b.contains("content") && !b["content"].is_null()
                                            ? result_text(b["content"], bw)
                                            : std::string();
                messages.push_back({{"role", "tool"}, {"tool_call_id", id}, {"content", out}});
            } else if (type == "image" || type == "document") {
                fail(bw, ": '", type, "' blocks are not supported (this model reads text only)");
            } else {
                fail(bw, ": block type '", type, "' is not supported in a user message");
            }
        });
    if (text.any) messages.push_back({{"role", "user"}, {"content", text.text}});
}

void add_assistant_turn(const ojson& content, const std::string& where, ojson& messages) {
    ojson m = {{"role", "assistant"}};
    if (content.is_string()) {
        m["content"] = content;
        messages.push_back(std::move(m));
        return;
    }
    JoinedText text;
    std::string thinking;
    ojson calls = ojson::array();
    for_each_block(
        content, where, [&](const ojson& b, const std::string& bw, const std::string& type) {
            if (type == "text") {
                text.add(string_field(b, "text", bw));
            } else if (type == "thinking") {
                thinking += string_field(b, "thinking", bw);
            } else if (type == "redacted_thinking") {
                // opaque: nothing this model can read
            } else if (type == "tool_use") {
                require(b.contains("input") && b["input"].is_object(), bw,
                        ".input must be an object");
                calls.push_back(
                    {{"id", string_field(b, "id", bw)},
                     {"type", "function"},
                     {"function",
                      {{"name", string_field(b, "name", bw)}, {"arguments", b["input"].dump()}}}});
            } else {
                fail(bw, ": block type '", type, "' is not supported in an assistant message");
            }
        });
    m["content"] = text.any || calls.empty() ? ojson(text.text) : ojson(nullptr);
    if (!calls.empty()) m["tool_calls"] = calls;
    if (!thinking.empty()) m["reasoning_content"] = thinking;
    messages.push_back(std::move(m));
}

void parse_conversation(const ojson& body, RequestParams& p) {
    p.messages = ojson::array();
    if (const ojson* s = field(body, "system")) {
        std::string text;
        if (s->is_string()) {
            text = s->get<std::string>();
        } else {
            require(s->is_array(), "'system' must be a string or a list of text blocks");
            for (size_t i = 0; i < s->size(); ++i) {
                const std::string w = "system[" + std::to_string(i) + "]";
                require(block_type((*s)[i], w) == "text", w, " must be a text block");
                if (!text.empty()) text += "\n";
                text += string_field((*s)[i], "text", w);
            }
        }
        p.messages.push_back({{"role", "system"}, {"content", text}});
    }
    const ojson* m = field(body, "messages");
    require(m != nullptr, "'messages' is required");
    require(m->is_array() && !m->empty(), "'messages' must be a non-empty list");
    for (size_t i = 0; i < m->size(); ++i) {
        const ojson& msg = (*m)[i];
        const std::string where = "messages[" + std::to_string(i) + "]";
        require(msg.is_object(), where, " must be an object");
        const std::string role = string_field(msg, "role", where);
        require(
            msg.contains("content") && (msg["content"].is_string() || msg["content"].is_array()),
            where, ".content must be a string or a list of blocks");
        if (role == "user")
            add_user_turn(msg["content"], where, p.messages);
        else if (role == "assistant")
            add_assistant_turn(msg["content"], where, p.messages);
        else
            fail(where, ".role must be 'user' or 'assistant', got '", role, "'");
    }
}

void parse_tools(const ojson& body, RequestParams& p) {
    if (const ojson* v = field(body, "tools")) {
        // {"name", "description", "input_schema"} (client tools; server tools have a type)
        p.tools = convert_tools(*v, [](const ojson& t, const std::string& where) {
            const std::string type = t.value("type", "custom");
            require(type == "custom", where, ": only client tools are supported, got type '", type,
                    "'");
            ojson fn = {{"name", string_field(t, "name", where)}};
            if (const ojson* d = field(t, "description")) fn["description"] = *d;
            const ojson* schema = field(t, "input_schema");
            require(schema && schema->is_object(), where, ".input_schema must be an object");
            fn["parameters"] = *schema;
            return fn;
        });
    }
    const ojson* v = field(body, "tool_choice");
    if (!v) return;
    require(v->is_object() && v->contains("type") && (*v)["type"].is_string(),
            "'tool_choice' must be an object with a 'type'");
    const std::string type = (*v)["type"];
    if (type == "auto") {
        p.tool_choice.mode = ToolChoice::Mode::Auto;
    } else if (type == "none") {
        p.tool_choice.mode = ToolChoice::Mode::None;
    } else if (type == "any") {
        p.tool_choice.mode = ToolChoice::Mode::Required;
    } else if (type == "tool") {
        p.tool_choice.mode = ToolChoice::Mode::Named;
        p.tool_choice.name = string_field(*v, "name", "tool_choice");
    } else {
        fail("'tool_choice.type' must be 'auto', 'any', 'tool' or 'none', got '", type, "'");
    }
    check_tool_choice(p.tools, p.tool_choice, v->dump());
}

// count_tokens needs no max_tokens.
RequestParams parse_messages_request(const ojson& body, bool need_max_tokens) {
    require(body.is_object(), "the request body must be a JSON object");
    RequestParams p;
    p.endpoint = Endpoint::Chat;
    p.sampling = {1.0f, 0, 1.0f, 0.0f, 0};
    if (const ojson* v = field(body, "model")) {
        require(v->is_string(), "'model' must be a string");
        p.model = v->get<std::string>();
    }
    parse_conversation(body, p);
    if (const ojson* v = field(body, "max_tokens"))
        p.max_tokens = integer(*v, "max_tokens", 1, int64_t(1) << 31);
    else
        require(!need_max_tokens, "'max_tokens' is required");
    parse_sampling(body, p);
    if (const ojson* v = field(body, "stop_sequences")) parse_stop(*v, "stop_sequences", 64, p);
    parse_tools(body, p);
    if (const ojson* v = field(body, "thinking")) {
        require(v->is_object() && v->contains("type") && (*v)["type"].is_string(),
                "'thinking' must be an object with a 'type'");
        const std::string type = (*v)["type"];
        require(type == "enabled" || type == "disabled" || type == "adaptive",
                "'thinking.type' must be 'enabled', 'disabled' or 'adaptive', got '", type, "'");
        // templates with a thinking switch (Qwen3) read enable_thinking
        if (type != "adaptive") p.chat_template_kwargs["enable_thinking"] = type == "enabled";
    }
    if (const ojson* v = field(body, "stream")) p.stream = boolean(*v, "stream");
    return p;
}

std::string stop_reason(const Choice& c) {
    const std::string r = finish_reason(c);
    if (r == "tool_calls") return "tool_use";
    if (r == "length") return "max_tokens";
    if (c.stop_string) return "stop_sequence";
    return "end_turn";
}

json stop_sequence(const Choice& c) {
    return c.stop_string && !c.output->has_tool_calls() ? json(c.output->stop_string())
                                                        : json(nullptr);
}

// Anthropic counts cached prompt tokens apart from input_tokens.
json usage(const Job& job, bool final) {
    const Choice& c = job.choices[0];
    const int64_t cached = final ? c.result.cached_tokens : 0;
    return {{"input_tokens", job.n_prompt - cached},
            {"cache_creation_input_tokens", 0},
            {"cache_read_input_tokens", cached},
            {"output_tokens", c.tokens}};
}

json tool_use_block(const json& call, bool with_input) {
    json input = json::object();
    if (with_input) {
        try {
            input = json::parse(call["function"]["arguments"].get<std::string>());
        } catch (const json::exception&) {
            input = json::object();
        }
    }
    return {{"type", "tool_use"},
            {"id", call["id"]},
            {"name", call["function"]["name"]},
            {"input", input}};
}

// thinking, then text (unless the answer is only tool calls), then tool_use blocks.
json content_blocks(const Choice& c) {
    const OutputResult& r = c.output->result();
    json blocks = json::array();
    if (!r.reasoning.empty())
        blocks.push_back({{"type", "thinking"}, {"thinking", r.reasoning}, {"signature", ""}});
    if (!r.content.empty() || r.tool_calls.empty())
        blocks.push_back({{"type", "text"}, {"text", r.content}});
    for (const auto& call : r.tool_calls) blocks.push_back(tool_use_block(call, true));
    return blocks;
}

json message_object(const Job& job, bool final) {
    const Choice& c = job.choices[0];
    return {{"id", job.id},
            {"type", "message"},
            {"role", "assistant"},
            {"model", job.st.model_id},
            {"content", final ? content_blocks(c) : json::array()},
            {"stop_reason", final ? json(stop_reason(c)) : json(nullptr)},
            {"stop_sequence", final ? stop_sequence(c) : json(nullptr)},
            {"usage", usage(job, final)}};
}

class MessagesStream : public StreamWriter {
  public:
    std::vector<std::string> start(Job& job) override {
        std::vector<std::string> out;
        emit(out, "message_start", {{"message", message_object(job, false)}});
        return out;
    }

    std::vector<std::string> event(Job& job, const ChannelEvent& ev) override {
        std::vector<OutputDelta> deltas;
        job.apply(ev, deltas);
        std::vector<std::string> out;
        for (const auto& d : deltas) {
            if (!d.reasoning.empty()) {
                if (open_ != Open::Thinking) {
                    close(out);
                    open(out, Open::Thinking,
                         {{"type", "thinking"}, {"thinking", ""}, {"signature", ""}});
                }
                delta(out, {{"type", "thinking_delta"}, {"thinking", d.reasoning}});
            }
            if (!d.content.empty()) {
                if (open_ != Open::Text) {
                    close(out);
                    open(out, Open::Text, {{"type", "text"}, {"text", ""}});
                    any_text_ = true;
                }
                delta(out, {{"type", "text_delta"}, {"text", d.content}});
            }
            for (const auto& call : d.tool_calls) {
                close(out);
                open(out, Open::Tool, tool_use_block(call, false));
                delta(out, {{"type", "input_json_delta"},
                            {"partial_json", call["function"]["arguments"]}});
                close(out);
                any_tool_ = true;
            }
        }
        if (ev.finished && job.all_finished() && job.error().empty()) {
            if (!any_text_ && !any_tool_) {
                close(out);
                open(out, Open::Text, {{"type", "text"}, {"text", ""}});
            }
            close(out);
        }
        return out;
    }

    std::vector<std::string> end(Job& job) override {
        std::vector<std::string> out;
        if (const std::string err = job.error(); !err.empty()) {
            out.push_back(sse_event(
                "error",
                {{"type", "error"},
                 {"error", {{"type", "api_error"}, {"message", "generation failed: " + err}}}}));
            return out;
        }
        const Choice& c = job.choices[0];
        json u = usage(job, true);
        emit(out, "message_delta",
             {{"delta", {{"stop_reason", stop_reason(c)}, {"stop_sequence", stop_sequence(c)}}},
              {"usage", u}});
        emit(out, "message_stop", json::object());
        return out;
    }

  private:
    enum class Open { None, Thinking, Text, Tool };

    static void emit(std::vector<std::string>& out, const std::string& type, json data) {
        json e = {{"type", type}};
        e.update(data);
        out.push_back(sse_event(type, e));
    }
    void open(std::vector<std::string>& out, Open kind, json block) {
        open_ = kind;
        emit(out, "content_block_start", {{"index", index_}, {"content_block", block}});
    }
    void delta(std::vector<std::string>& out, json d) {
        emit(out, "content_block_delta", {{"index", index_}, {"delta", d}});
    }
    void close(std::vector<std::string>& out) {
        if (open_ == Open::None) return;
        emit(out, "content_block_stop", {{"index", index_}});
        open_ = Open::None;
        ++index_;
    }

    Open open_ = Open::None;
    int64_t index_ = 0;
    bool any_text_ = false, any_tool_ = false;
};

}  // namespace

void handle_messages(ServerState& st, const httplib::Request& req, httplib::Response& res) {
    const ojson body = parse_body(req);
    auto job = start_job(st, parse_messages_request(body, true), "msg_");
    if (job->p.stream) {
        stream_job(job, std::make_shared<MessagesStream>(), res);
        return;
    }
    wait_for(*job);
    res.set_content(dump(message_object(*job, true)), "application/json");
}

void handle_count_tokens(ServerState& st, const httplib::Request& req, httplib::Response& res) {
    const ojson body = parse_body(req);
    Job job(st);
    job.p = parse_messages_request(body, false);
    check_model(st, job.p.model);
    job.p.max_tokens.reset();  // counting needs no room for an answer
    build_prompt(job);
    res.set_content(dump(json{{"input_tokens", job.n_prompt}}), "application/json");
}

}  // namespace pangolin::server
