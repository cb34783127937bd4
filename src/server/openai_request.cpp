#include "server/openai_request.h"

#include <cmath>

#include "core/error.h"

namespace pangolin::server {

const ojson* field(const ojson& body, const char* name) {
    auto it = body.find(name);
    return it == body.end() || it->is_null() ? nullptr : &*it;
}

double number(const ojson& v, const char* name, double lo, double hi) {
    require(v.is_number(), "'", name, "' must be a number, got ", v.type_name());
    const double x = v.get<double>();
    require(std::isfinite(x) && x >= lo && x <= hi, "'", name, "' must be between ", lo, " and ",
            hi, ", got ", x);
    return x;
}

int64_t integer(const ojson& v, const char* name, int64_t lo, int64_t hi) {
    require(v.is_number_integer() ||
                (v.is_number_float() && v.get<double>() == std::floor(v.get<double>())),
            "'", name, "' must be an integer, got ",
            v.is_number() ? v.dump() : std::string(v.type_name()));
    const double x = v.get<double>();
    require(x >= double(lo) && x <= double(hi), "'", name, "' must be between ", lo, " and ", hi,
            ", got ", v.dump());
    return int64_t(x);
}

bool boolean(const ojson& v, const char* name) {
    require(v.is_boolean(), "'", name, "' must be true or false, got ", v.type_name());
    return v.get<bool>();
}

namespace {

// "content": a string or a list of content parts; text parts are joined with newlines.
std::string flatten_content(const ojson& content, size_t index) {
    if (content.is_string()) return content.get<std::string>();
    require(content.is_array(), "messages[", index,
            "].content must be a string or a list of content parts");
    std::string text;
    for (const auto& part : content) {
        require(part.is_object() && part.contains("type") && part["type"].is_string(), "messages[",
                index, "].content parts must be objects with a 'type'");
        const std::string type = part["type"];
        require(type == "text", "messages[", index, "]: content part type '", type,
                "' is not supported (this model reads text only)");
        require(part.contains("text") && part["text"].is_string(), "messages[", index,
                "]: a text part needs a 'text' string");
        if (!text.empty()) text += "\n";
        text += part["text"].get<std::string>();
    }
    return text;
}

void parse_messages(const ojson& body, RequestParams& p) {
    const auto* m = field(body, "messages");
    require(m != nullptr, "'messages' is required");
    require(m->is_array() && !m->empty(), "'messages' must be a non-empty list");
    p.messages = ojson::array();
    for (size_t i = 0; i < m->size(); ++i) {
        const ojson& msg = (*m)[i];
        require(msg.is_object(), "messages[", i, "] must be an object");
        require(msg.contains("role") && msg["role"].is_string(), "messages[", i,
                "].role must be a string");
        ojson out = msg;
        if (msg.contains("content") && !msg["content"].is_null())
            out["content"] = flatten_content(msg["content"], i);
        else if (msg["role"] != "assistant")
            out["content"] = "";
        p.messages.push_back(std::move(out));
    }
}

void parse_prompt(const ojson& body, RequestParams& p) {
    const auto* pr = field(body, "prompt");
    require(pr != nullptr, "'prompt' is required");
    if (pr->is_string()) {
        p.prompt_text = pr->get<std::string>();
    } else if (pr->is_array() && pr->size() == 1 && (*pr)[0].is_string()) {
        p.prompt_text = (*pr)[0].get<std::string>();
    } else if (pr->is_array() && !pr->empty() && (*pr)[0].is_number_integer()) {
        p.prompt_is_tokens = true;
        for (const auto& t : *pr)
            p.prompt_tokens.push_back(int32_t(integer(t, "prompt", 0, INT32_MAX)));
    } else {
        fail("'prompt' must be a string, a list with one string, or a list of token ids");
    }
    if (const auto* e = field(body, "echo")) p.echo = boolean(*e, "echo");
}

void parse_logit_bias(const ojson& v, RequestParams& p) {
    require(v.is_object(), "'logit_bias' must be an object mapping token ids to biases");
    for (auto it = v.begin(); it != v.end(); ++it) {
        size_t used = 0;
        long long id = -1;
        try {
            id = std::stoll(it.key(), &used);
        } catch (const std::exception&) {
            used = 0;
        }
        require(used == it.key().size() && id >= 0 && id <= INT32_MAX, "'logit_bias' key '",
                it.key(), "' is not a token id");
        p.logit_bias.emplace_back(int32_t(id),
                                  float(number(it.value(), "logit_bias value", -100, 100)));
    }
}

void parse_logprobs(const ojson& body, RequestParams& p) {
    if (p.endpoint == Endpoint::Chat) {
        if (const auto* v = field(body, "logprobs")) p.logprobs = boolean(*v, "logprobs");
        if (const auto* v = field(body, "top_logprobs")) {
            p.top_logprobs = int(integer(*v, "top_logprobs", 0, 20));
            require(p.logprobs, "'top_logprobs' needs 'logprobs': true");
        }
    } else if (const auto* v = field(body, "logprobs")) {
        p.logprobs = true;
        p.top_logprobs = int(integer(*v, "logprobs", 0, 20));
    }
}

void parse_stream(const ojson& body, RequestParams& p) {
    if (const auto* v = field(body, "n")) p.n = int(integer(*v, "n", 1, 16));
    if (const auto* v = field(body, "stream")) p.stream = boolean(*v, "stream");
    if (const auto* v = field(body, "stream_options")) {
        require(v->is_object(), "'stream_options' must be an object");
        if (const auto* u = field(*v, "include_usage"))
            p.include_usage = boolean(*u, "stream_options.include_usage");
    }
}

void parse_response_format(const ojson& v, RequestParams& p) {
    require(v.is_object() && v.contains("type") && v["type"].is_string(),
            "'response_format' must be an object with a 'type'");
    p.response_format = v["type"].get<std::string>();
    if (p.response_format == "json_schema") {
        const auto* js = field(v, "json_schema");
        require(js && js->is_object(), "'response_format.json_schema' must be an object");
        const auto* schema = field(*js, "schema");
        require(schema && schema->is_object(),
                "'response_format.json_schema.schema' must be an object");
        p.json_schema = *schema;
    } else {
        require(p.response_format == "text" || p.response_format == "json_object",
                "'response_format.type' must be ", "'text', 'json_object' or 'json_schema', got '",
                p.response_format, "'");
    }
}

void parse_tools(const ojson& body, RequestParams& p) {
    if (const auto* v = field(body, "tools")) {
        require(v->is_array(), "'tools' must be a list");
        for (size_t i = 0; i < v->size(); ++i) {
            const ojson& t = (*v)[i];
            require(t.is_object() && t.value("type", "") == "function" && t.contains("function") &&
                        t["function"].is_object() && t["function"].contains("name") &&
                        t["function"]["name"].is_string(),
                    "tools[", i,
                    "] must be {\"type\": \"function\", \"function\": {\"name\": ...}}");
        }
        if (!v->empty()) p.tools = *v;
    }
    const auto* v = field(body, "tool_choice");
    if (!v) return;
    if (v->is_string()) {
        parse_tool_choice_mode(*v, p.tool_choice);
    } else {
        require(v->is_object() && v->contains("function") && (*v)["function"].is_object() &&
                    (*v)["function"].contains("name") && (*v)["function"]["name"].is_string(),
                "'tool_choice' must be 'auto', 'none', 'required' or {\"type\": \"function\", "
                "\"function\": {\"name\": ...}}");
        p.tool_choice.mode = ToolChoice::Mode::Named;
        p.tool_choice.name = (*v)["function"]["name"];
    }
    check_tool_choice(p.tools, p.tool_choice, v->dump());
}

}  // namespace

void parse_tool_choice_mode(const ojson& v, ToolChoice& choice) {
    const std::string s = v;
    if (s == "auto")
        choice.mode = ToolChoice::Mode::Auto;
    else if (s == "none")
        choice.mode = ToolChoice::Mode::None;
    else if (s == "required")
        choice.mode = ToolChoice::Mode::Required;
    else
        fail("'tool_choice' must be 'auto', 'none', 'required' or a named function");
}

ojson convert_tools(const ojson& v,
                    const std::function<ojson(const ojson&, const std::string&)>& fn) {
    require(v.is_array(), "'tools' must be a list");
    ojson tools = ojson::array();
    for (size_t i = 0; i < v.size(); ++i) {
        const std::string where = "tools[" + std::to_string(i) + "]";
        require(v[i].is_object(), where, " must be an object");
        tools.push_back({{"type", "function"}, {"function", fn(v[i], where)}});
    }
    return tools.empty() ? ojson() : tools;
}

void check_tool_choice(const ojson& tools, const ToolChoice& choice, const std::string& shown) {
    if (choice.mode == ToolChoice::Mode::Required || choice.mode == ToolChoice::Mode::Named)
        require(!tools.is_null(), "'tool_choice' ", shown, " needs 'tools'");
    if (choice.mode == ToolChoice::Mode::Named) {
        bool found = false;
        for (const auto& t : tools) found |= t["function"]["name"] == choice.name;
        require(found, "'tool_choice' names '", choice.name, "', which is not among 'tools'");
    }
}

void parse_sampling(const ojson& body, RequestParams& p) {
    if (const auto* v = field(body, "temperature"))
        p.sampling.temperature = float(number(*v, "temperature", 0, 2));
    if (const auto* v = field(body, "top_p")) p.sampling.top_p = float(number(*v, "top_p", 0, 1));
    if (const auto* v = field(body, "top_k"))
        p.sampling.top_k = int(integer(*v, "top_k", -1, 1 << 30));
    if (const auto* v = field(body, "min_p")) p.sampling.min_p = float(number(*v, "min_p", 0, 1));
    if (const auto* v = field(body, "seed")) {
        p.sampling.seed = uint64_t(integer(*v, "seed", INT64_MIN, INT64_MAX));
        p.seed_given = true;
    }
    if (const auto* v = field(body, "presence_penalty"))
        p.penalties.presence = float(number(*v, "presence_penalty", -2, 2));
    if (const auto* v = field(body, "frequency_penalty"))
        p.penalties.frequency = float(number(*v, "frequency_penalty", -2, 2));
    if (const auto* v = field(body, "repetition_penalty"))
        p.penalties.repetition = float(number(*v, "repetition_penalty", 1e-3, 100));
    if (const auto* v = field(body, "logit_bias")) parse_logit_bias(*v, p);
    if (const auto* v = field(body, "ignore_eos")) p.ignore_eos = boolean(*v, "ignore_eos");
}

void parse_stop(const ojson& v, const char* name, size_t max_count, RequestParams& p) {
    if (v.is_string()) {
        p.stop.push_back(v.get<std::string>());
    } else {
        require(v.is_array() && v.size() <= max_count, "'", name,
                "' must be a string or a list of up to ", max_count, " strings");
        for (const auto& s : v) {
            require(s.is_string(), "'", name, "' must contain strings");
            p.stop.push_back(s.get<std::string>());
        }
    }
    for (const auto& s : p.stop) require(!s.empty(), "'", name, "' strings must not be empty");
}

RequestParams parse_request(const ojson& body, Endpoint endpoint) {
    require(body.is_object(), "the request body must be a JSON object");
    RequestParams p;
    p.endpoint = endpoint;
    p.sampling = {1.0f, 0, 1.0f, 0.0f, 0};
    if (const auto* v = field(body, "model")) {
        require(v->is_string(), "'model' must be a string");
        p.model = v->get<std::string>();
    }
    if (endpoint == Endpoint::Chat)
        parse_messages(body, p);
    else
        parse_prompt(body, p);
    for (const char* key : {"max_completion_tokens", "max_tokens"})
        if (const auto* v = field(body, key)) p.max_tokens = integer(*v, key, 1, int64_t(1) << 31);
    parse_sampling(body, p);
    if (const auto* v = field(body, "stop")) parse_stop(*v, "stop", 16, p);
    parse_logprobs(body, p);
    parse_stream(body, p);
    if (const auto* v = field(body, "response_format")) parse_response_format(*v, p);
    parse_tools(body, p);
    if (const auto* v = field(body, "chat_template_kwargs")) {
        require(v->is_object(), "'chat_template_kwargs' must be an object");
        p.chat_template_kwargs = *v;
    }
    return p;
}

}  // namespace pangolin::server
