// POST /v1/responses: OpenAI's Responses API, stateless. The input items become a chat
// conversation (instructions → system, function_call / function_call_output → tool calls and
// tool messages, reasoning → the next assistant message's reasoning_content) that runs as a
// chat completion with one choice; the output is reasoning, message and function_call items,
// streamed as the Responses event sequence.
#include "core/error.h"
#include "server/generation.h"

namespace pangolin::server {

namespace {

// The text of a content list: input_text / output_text / text parts (and refusals).
std::string parts_text(const ojson& content, const std::string& where) {
    if (content.is_string()) return content.get<std::string>();
    require(content.is_array(), where, ".content must be a string or a list of content parts");
    std::string text;
    for (size_t i = 0; i < content.size(); ++i) {
        const ojson& part = content[i];
        require(part.is_object() && part.contains("type") && part["type"].is_string(), where,
                ".content[", i, "] must be an object with a 'type'");
        const std::string type = part["type"];
        if (type == "input_image" || type == "input_file" || type == "input_audio")
            fail(where, ".content[", i, "]: '", type,
                 "' is not supported (this model reads text only)");
        const char* key = type == "refusal" ? "refusal" : "text";
        require(
            type == "input_text" || type == "output_text" || type == "text" || type == "refusal",
            where, ".content[", i, "]: unknown content part type '", type, "'");
        require(part.contains(key) && part[key].is_string(), where, ".content[", i, "]: a '", type,
                "' part needs a '", key, "' string");
        text += part[key].get<std::string>();
    }
    return text;
}

std::string required_string(const ojson& item, const char* key, const std::string& where) {
    const ojson* v = field(item, key);
    require(v && v->is_string(), where, ".", key, " must be a string");
    return v->get<std::string>();
}

// Reasoning text of a reasoning item: its reasoning_text content, else its summary.
std::string reasoning_text(const ojson& item, const std::string& where) {
    std::string text;
    for (const char* key : {"content", "summary"}) {
        const ojson* v = field(item, key);
        if (!v) continue;
        require(v->is_array(), where, ".", key, " must be a list");
        for (const auto& part : *v)
            if (part.is_object() && part.contains("text") && part["text"].is_string())
                text += part["text"].get<std::string>();
        if (!text.empty()) break;
    }
    return text;
}

// The assistant message that function_call items (and a preceding reasoning item) join.
ojson& assistant_turn(ojson& messages, std::string& reasoning) {
    if (messages.empty() || messages.back()["role"] != "assistant")
        messages.push_back({{"role", "assistant"}, {"content", nullptr}});
    ojson& m = messages.back();
    if (!reasoning.empty()) {
        m["reasoning_content"] = reasoning;
        reasoning.clear();
    }
    return m;
}

void parse_input(const ojson& body, RequestParams& p) {
    p.messages = ojson::array();
    if (const ojson* ins = field(body, "instructions")) {
        require(ins->is_string(), "'instructions' must be a string");
        p.messages.push_back({{"role", "system"}, {"content", ins->get<std::string>()}});
    }
    const ojson* input = field(body, "input");
    require(input != nullptr, "'input' is required");
    if (input->is_string()) {
        p.messages.push_back({{"role", "user"}, {"content", input->get<std::string>()}});
        return;
    }
    require(input->is_array() && !input->empty(),
            "'input' must be a string or a non-empty list of items");
    std::string reasoning;  // of a reasoning item, for the assistant turn that follows
    for (size_t i = 0; i < input->size(); ++i) {
        const ojson& item = (*input)[i];
        const std::string where = "input[" + std::to_string(i) + "]";
        require(item.is_object(), where, " must be an object");
        std::string type = "message";
        if (const ojson* t = field(item, "type")) {
            require(t->is_string(), where, ".type must be a string");
            type = t->get<std::string>();
        }
        if (type == "message") {
            std::string role = required_string(item, "role", where);
            if (role == "developer") role = "system";
            require(role == "user" || role == "assistant" || role == "system", where,
                    ".role must be 'user', 'assistant', 'system' or 'developer', got '", role, "'");
            const ojson* content = field(item, "content");
            require(content != nullptr, where, ".content is required");
            ojson m = {{"role", role}, {"content", parts_text(*content, where)}};
            if (role == "assistant" && !reasoning.empty()) {
                m["reasoning_content"] = reasoning;
                reasoning.clear();
            }
            p.messages.push_back(std::move(m));
        } else if (type == "function_call") {
            const std::string call_id = required_string(item, "call_id", where);
            const std::string name = required_string(item, "name", where);
            const std::string arguments = required_string(item, "arguments", where);
            ojson& m = assistant_turn(p.messages, reasoning);
            if (!m.contains("tool_calls")) m["tool_calls"] = ojson::array();
            m["tool_calls"].push_back({{"id", call_id},
                                       {"type", "function"},
                                       {"function", {{"name", name}, {"arguments", arguments}}}});
        } else if (type == "function_call_output") {
            const std::string call_id = required_string(item, "call_id", where);
            const ojson* out = field(item, "output");
            require(out != nullptr, where, ".output is required");
            p.messages.push_back({{"role", "tool"},
                                  {"tool_call_id", call_id},
                                  {"content", parts_text(*out, where + ".output")}});
        } else if (type == "reasoning") {
            reasoning += reasoning_text(item, where);
        } else if (type == "item_reference") {
            fail(where, ": item_reference needs stored responses; this server is stateless, ",
                 "send the items themselves");
        } else {
            fail(where, ": input item type '", type,
                 "' is not supported (message, function_call, function_call_output, reasoning)");
        }
    }
    require(!p.messages.empty(), "'input' holds no message");
}

void parse_tools(const ojson& body, RequestParams& p) {
    if (const ojson* v = field(body, "tools")) {
        // {"type": "function", "name", "description", "parameters"}: the function flattened
        p.tools = convert_tools(*v, [](const ojson& t, const std::string& where) {
            const std::string type = t.value("type", "");
            require(type == "function", where, ": only function tools are supported, got '", type,
                    "'");
            ojson fn = {{"name", required_string(t, "name", where)}};
            if (const ojson* d = field(t, "description")) fn["description"] = *d;
            if (const ojson* params = field(t, "parameters")) {
                require(params->is_object(), where, ".parameters must be an object");
                fn["parameters"] = *params;
            }
            return fn;
        });
    }
    const ojson* v = field(body, "tool_choice");
    if (!v) return;
    if (v->is_string()) {
        parse_tool_choice_mode(*v, p.tool_choice);
    } else {
        require(v->is_object() && v->value("type", "") == "function" && v->contains("name") &&
                    (*v)["name"].is_string(),
                "'tool_choice' must be 'auto', 'none', 'required' or {\"type\": \"function\", "
                "\"name\": ...}");
        p.tool_choice.mode = ToolChoice::Mode::Named;
        p.tool_choice.name = (*v)["name"];
    }
    check_tool_choice(p.tools, p.tool_choice, v->dump());
}

void parse_text_format(const ojson& body, RequestParams& p) {
    const ojson* text = field(body, "text");
    if (!text) return;
    require(text->is_object(), "'text' must be an object");
    const ojson* f = field(*text, "format");
    if (!f) return;
    require(f->is_object() && f->contains("type") && (*f)["type"].is_string(),
            "'text.format' must be an object with a 'type'");
    p.response_format = (*f)["type"];
    if (p.response_format == "json_schema") {
        const ojson* schema = field(*f, "schema");
        require(schema && schema->is_object(), "'text.format.schema' must be an object");
        p.json_schema = *schema;
    } else {
        require(p.response_format == "text" || p.response_format == "json_object",
                "'text.format.type' must be 'text', 'json_object' or 'json_schema', got '",
                p.response_format, "'");
    }
}

RequestParams parse_responses_request(const ojson& body) {
    require(body.is_object(), "the request body must be a JSON object");
    for (const char* key : {"previous_response_id", "conversation"})
        require(field(body, key) == nullptr, "'", key,
                "' is not supported: this server keeps no responses; send the whole ",
                "conversation in 'input'");
    if (const ojson* b = field(body, "background"))
        require(!boolean(*b, "background"), "'background' responses are not supported");
    RequestParams p;
    p.endpoint = Endpoint::Chat;
    p.sampling = {1.0f, 0, 1.0f, 0.0f, 0};
    if (const ojson* v = field(body, "model")) {
        require(v->is_string(), "'model' must be a string");
        p.model = v->get<std::string>();
    }
    parse_input(body, p);
    if (const ojson* v = field(body, "max_output_tokens"))
        p.max_tokens = integer(*v, "max_output_tokens", 1, int64_t(1) << 31);
    parse_sampling(body, p);
    parse_tools(body, p);
    parse_text_format(body, p);
    if (const ojson* v = field(body, "reasoning"))
        require(v->is_object(), "'reasoning' must be an object");
    if (const ojson* v = field(body, "stream")) p.stream = boolean(*v, "stream");
    if (const ojson* v = field(body, "chat_template_kwargs")) {
        require(v->is_object(), "'chat_template_kwargs' must be an object");
        p.chat_template_kwargs = *v;
    }
    return p;
}

// Ids of a response's output items, from the response id (resp_N → msg_N, rs_N, fc_N_i).
std::string item_id(const Job& job, const char* prefix, int index = -1) {
    std::string id = prefix + job.id.substr(job.id.find('_'));
    return index < 0 ? id : id + "_" + std::to_string(index);
}

json reasoning_item(const Job& job, const std::string& text) {
    return {{"id", item_id(job, "rs")},
            {"type", "reasoning"},
            {"summary", json::array()},
            {"content", json::array({{{"type", "reasoning_text"}, {"text", text}}})}};
}

json text_part(const std::string& text) {
    return {{"type", "output_text"},
            {"text", text},
            {"annotations", json::array()},
            {"logprobs", json::array()}};
}

json message_item(const Job& job, const std::string& text, bool done) {
    return {{"id", item_id(job, "msg")},
            {"type", "message"},
            {"status", done ? "completed" : "in_progress"},
            {"role", "assistant"},
            {"content", done ? json::array({text_part(text)}) : json::array()}};
}

json function_call_item(const Job& job, const json& call, int index, bool done) {
    return {{"id", item_id(job, "fc", index)},
            {"type", "function_call"},
            {"status", done ? "completed" : "in_progress"},
            {"call_id", call["id"]},
            {"name", call["function"]["name"]},
            {"arguments", done ? call["function"]["arguments"] : json("")}};
}

// The output items of a finished choice: reasoning, the message (unless the output is only
// tool calls), the function calls.
json output_items(const Job& job) {
    const OutputResult& r = job.choices[0].output->result();
    json items = json::array();
    if (!r.reasoning.empty()) items.push_back(reasoning_item(job, r.reasoning));
    if (!r.content.empty() || r.tool_calls.empty())
        items.push_back(message_item(job, r.content, true));
    for (size_t i = 0; i < r.tool_calls.size(); ++i)
        items.push_back(function_call_item(job, r.tool_calls[i], int(i), true));
    return items;
}

// What the response object repeats of the request.
struct Echo {
    json instructions, max_output_tokens, temperature, top_p, tools, tool_choice, text, metadata;
    explicit Echo(const ojson& body) {
        auto get = [&](const char* key, json fallback) {
            const ojson* v = field(body, key);
            return v ? json(*v) : fallback;
        };
        instructions = get("instructions", nullptr);
        max_output_tokens = get("max_output_tokens", nullptr);
        temperature = get("temperature", 1.0);
        top_p = get("top_p", 1.0);
        tools = get("tools", json::array());
        tool_choice = get("tool_choice", "auto");
        text = get("text", json{{"format", {{"type", "text"}}}});
        metadata = get("metadata", json::object());
    }
};

class Responses {
  public:
    Responses(const ojson& body) : echo_(body) {}

    // status: "in_progress" (no output or usage yet), "completed", "incomplete", "failed".
    json object(const Job& job, const std::string& status) const {
        const bool done = status != "in_progress";
        json r = {{"id", job.id},
                  {"object", "response"},
                  {"created_at", job.created},
                  {"status", status},
                  {"error", nullptr},
                  {"incomplete_details", nullptr},
                  {"instructions", echo_.instructions},
                  {"max_output_tokens", echo_.max_output_tokens},
                  {"model", job.st.model_id},
                  {"output", done && status != "failed" ? output_items(job) : json::array()},
                  {"parallel_tool_calls", true},
                  {"previous_response_id", nullptr},
                  {"reasoning", {{"effort", nullptr}, {"summary", nullptr}}},
                  {"store", false},
                  {"temperature", echo_.temperature},
                  {"text", echo_.text},
                  {"tool_choice", echo_.tool_choice},
                  {"tools", echo_.tools},
                  {"top_p", echo_.top_p},
                  {"truncation", "disabled"},
                  {"usage", nullptr},
                  {"metadata", echo_.metadata}};
        if (status == "incomplete") r["incomplete_details"] = {{"reason", "max_output_tokens"}};
        if (status == "failed")
            r["error"] = {{"code", "server_error"},
                          {"message", "generation failed: " + job.error()}};
        if (done) r["usage"] = usage(job);
        return r;
    }

    static std::string final_status(const Job& job) {
        if (!job.error().empty()) return "failed";
        return finish_reason(job.choices[0]) == "length" ? "incomplete" : "completed";
    }

  private:
    static json usage(const Job& job) {
        const Choice& c = job.choices[0];
        const std::string& reasoning = c.output->result().reasoning;
        const int64_t reasoning_tokens =
            reasoning.empty() ? 0
                              : int64_t(job.st.tokenizer->encode(reasoning, false, false).size());
        return {
            {"input_tokens", job.n_prompt},
            {"input_tokens_details", {{"cached_tokens", c.result.cached_tokens}}},
            {"output_tokens", c.tokens},
            {"output_tokens_details", {{"reasoning_tokens", std::min(reasoning_tokens, c.tokens)}}},
            {"total_tokens", job.n_prompt + c.tokens}};
    }

    Echo echo_;
};

// The Responses event sequence: response.created, response.in_progress; per output item
// response.output_item.added, its content part / text deltas / done events,
// response.output_item.done; then response.completed (response.incomplete when cut by
// max_output_tokens, response.failed on an error). Every event has a sequence_number.
class ResponsesStream : public StreamWriter {
  public:
    explicit ResponsesStream(const ojson& body) : responses_(body) {}

    std::vector<std::string> start(Job& job) override {
        std::vector<std::string> out;
        const json r = responses_.object(job, "in_progress");
        emit(out, "response.created", {{"response", r}});
        emit(out, "response.in_progress", {{"response", r}});
        return out;
    }

    std::vector<std::string> event(Job& job, const ChannelEvent& ev) override {
        std::vector<OutputDelta> deltas;
        job.apply(ev, deltas);
        std::vector<std::string> out;
        for (const auto& d : deltas) {
            if (!d.reasoning.empty()) {
                if (open_ != Open::Reasoning) {
                    close(job, out);
                    open_ = Open::Reasoning;
                    json item = reasoning_item(job, "");
                    item["content"] = json::array();
                    emit(out, "response.output_item.added",
                         {{"output_index", index_}, {"item", item}});
                    emit(out, "response.content_part.added",
                         {{"item_id", item_id(job, "rs")},
                          {"output_index", index_},
                          {"content_index", 0},
                          {"part", {{"type", "reasoning_text"}, {"text", ""}}}});
                }
                text_ += d.reasoning;
                emit(out, "response.reasoning_text.delta",
                     {{"item_id", item_id(job, "rs")},
                      {"output_index", index_},
                      {"content_index", 0},
                      {"delta", d.reasoning}});
            }
            if (!d.content.empty()) {
                if (open_ != Open::Message) open_message(job, out);
                text_ += d.content;
                emit(out, "response.output_text.delta",
                     {{"item_id", item_id(job, "msg")},
                      {"output_index", index_},
                      {"content_index", 0},
                      {"delta", d.content},
                      {"logprobs", json::array()}});
            }
            for (size_t i = 0; i < d.tool_calls.size(); ++i) {
                close(job, out);
                const json& call = d.tool_calls[i];
                const std::string id = item_id(job, "fc", int(i));
                emit(out, "response.output_item.added",
                     {{"output_index", index_},
                      {"item", function_call_item(job, call, int(i), false)}});
                emit(out, "response.function_call_arguments.delta",
                     {{"item_id", id},
                      {"output_index", index_},
                      {"delta", call["function"]["arguments"]}});
                emit(out, "response.function_call_arguments.done",
                     {{"item_id", id},
                      {"output_index", index_},
                      {"name", call["function"]["name"]},
                      {"arguments", call["function"]["arguments"]}});
                emit(out, "response.output_item.done",
                     {{"output_index", index_},
                      {"item", function_call_item(job, call, int(i), true)}});
                ++index_;
                any_call_ = true;
            }
        }
        if (ev.finished && job.all_finished()) {
            // a response always holds a message unless it is only tool calls
            if (!any_message_ && !any_call_ && job.error().empty()) open_message(job, out);
            close(job, out);
        }
        return out;
    }

    std::vector<std::string> end(Job& job) override {
        std::vector<std::string> out;
        const std::string status = Responses::final_status(job);
        const char* name = status == "failed"       ? "response.failed"
                           : status == "incomplete" ? "response.incomplete"
                                                    : "response.completed";
        emit(out, name, {{"response", responses_.object(job, status)}});
        return out;
    }

  private:
    enum class Open { None, Reasoning, Message };

    void emit(std::vector<std::string>& out, const std::string& type, json data) {
        json e = {{"type", type}, {"sequence_number", seq_++}};
        e.update(data);
        out.push_back(sse_event(type, e));
    }

    void open_message(const Job& job, std::vector<std::string>& out) {
        close(job, out);
        open_ = Open::Message;
        any_message_ = true;
        emit(out, "response.output_item.added",
             {{"output_index", index_}, {"item", message_item(job, "", false)}});
        emit(out, "response.content_part.added",
             {{"item_id", item_id(job, "msg")},
              {"output_index", index_},
              {"content_index", 0},
              {"part", text_part("")}});
    }

    // Ends the open reasoning or message item with its done events.
    void close(const Job& job, std::vector<std::string>& out) {
        if (open_ == Open::Reasoning) {
            const std::string id = item_id(job, "rs");
            emit(
                out, "response.reasoning_text.done",
                {{"item_id", id}, {"output_index", index_}, {"content_index", 0}, {"text", text_}});
            emit(out, "response.content_part.done",
                 {{"item_id", id},
                  {"output_index", index_},
                  {"content_index", 0},
                  {"part", {{"type", "reasoning_text"}, {"text", text_}}}});
            emit(out, "response.output_item.done",
                 {{"output_index", index_}, {"item", reasoning_item(job, text_)}});
        } else if (open_ == Open::Message) {
            const std::string id = item_id(job, "msg");
            emit(out, "response.output_text.done",
                 {{"item_id", id},
                  {"output_index", index_},
                  {"content_index", 0},
                  {"text", text_},
                  {"logprobs", json::array()}});
            emit(out, "response.content_part.done",
                 {{"item_id", id},
                  {"output_index", index_},
                  {"content_index", 0},
                  {"part", text_part(text_)}});
            emit(out, "response.output_item.done",
                 {{"output_index", index_}, {"item", message_item(job, text_, true)}});
        } else {
            return;
        }
        open_ = Open::None;
        text_.clear();
        ++index_;
    }

    Responses responses_;
    Open open_ = Open::None;
    std::string text_;  // of the open item
    int64_t seq_ = 0, index_ = 0;
    bool any_message_ = false, any_call_ = false;
};

}  // namespace

void handle_responses(ServerState& st, const httplib::Request& req, httplib::Response& res) {
    const ojson body = parse_body(req);
    auto job = start_job(st, parse_responses_request(body), "resp_");
    if (job->p.stream) {
        stream_job(job, std::make_shared<ResponsesStream>(body), res);
        return;
    }
    wait_for(*job);
    res.set_content(dump(Responses(body).object(*job, Responses::final_status(*job))),
                    "application/json");
}

}  // namespace pangolin::server
