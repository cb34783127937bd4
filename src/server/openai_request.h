// OpenAI request bodies → validated generation parameters. Unknown fields are ignored;
// a field of the wrong type or out of range is an Error naming it (HTTP 400).
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/logits_processing.h"
#include "runtime/output_processor.h"
#include "runtime/sampler.h"

namespace pangolin::server {

using ojson = nlohmann::ordered_json;

enum class Endpoint { Chat, Completion };

struct RequestParams {
    Endpoint endpoint = Endpoint::Chat;
    std::string model;                   // as sent ("" when absent)
    ojson messages;                      // chat
    std::string prompt_text;             // completion (text prompt)
    std::vector<int32_t> prompt_tokens;  // completion given as token ids
    bool prompt_is_tokens = false;
    std::optional<int64_t> max_tokens;
    SamplerParams sampling;  // temperature 1, top_p 1, top_k off, min_p off (OpenAI defaults)
    bool seed_given = false;
    PenaltyParams penalties;
    std::vector<std::pair<int32_t, float>> logit_bias;
    std::vector<std::string> stop;
    bool logprobs = false;
    int top_logprobs = 0;
    int n = 1;
    bool stream = false;
    bool include_usage = false;
    bool echo = false;  // completion
    // response_format: "text" | "json_object" | "json_schema" (schema below)
    std::string response_format = "text";
    ojson json_schema;
    ojson tools;  // null when absent
    ToolChoice tool_choice;
    ojson chat_template_kwargs = ojson::object();
    bool ignore_eos = false;
};

// Parses the body of POST /v1/chat/completions or /v1/completions.
RequestParams parse_request(const ojson& body, Endpoint endpoint);

// The pieces every API's request parser shares (Responses and Anthropic Messages too).
// A field that is absent or null.
const ojson* field(const ojson& body, const char* name);
// A value of the right type within [lo, hi], or an Error naming the field.
double number(const ojson& v, const char* name, double lo, double hi);
int64_t integer(const ojson& v, const char* name, int64_t lo, int64_t hi);
bool boolean(const ojson& v, const char* name);
// temperature, top_p, top_k, min_p, seed, penalties, logit_bias, ignore_eos.
void parse_sampling(const ojson& body, RequestParams& p);
// A stop string or a list of up to max_count non-empty ones, appended to p.stop.
void parse_stop(const ojson& v, const char* name, size_t max_count, RequestParams& p);
// tool_choice "auto", "none" or "required" (an Error for any other string).
void parse_tool_choice_mode(const ojson& v, ToolChoice& choice);
// Another API's tool list in the chat form [{"type": "function", "function": fn(tool, where)}]
// (null when empty); `fn` checks one tool object and returns its function.
ojson convert_tools(const ojson& v,
                    const std::function<ojson(const ojson& tool, const std::string& where)>& fn);
// "required" and a named function need tools; a named function must be among them.
// `shown` is how the request spelled the choice (for the message).
void check_tool_choice(const ojson& tools, const ToolChoice& choice, const std::string& shown);

}  // namespace pangolin::server
