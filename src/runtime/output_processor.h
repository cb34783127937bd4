// What one sequence's generated tokens become: text (streamed without broken UTF-8 and
// without stop strings), split into reasoning and answer for thinking models, with tool calls
// parsed out, and — for response_format / forced tool calls — the logits constraint that
// keeps the output valid JSON. Used by the server (every choice of every API) and `chat`.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/stop_matcher.h"
#include "text/tokenizer.h"

namespace pangolin {

using ojson = nlohmann::ordered_json;

struct ToolChoice {
    enum class Mode { Auto, None, Required, Named } mode = Mode::Auto;
    std::string name;  // Named
};

struct OutputProcessorOptions {
    std::vector<std::string> stop;
    bool chat = true;
    std::string prompt_text;  // rendered prompt (reasoning detection: does it open <think>?)
    ojson tools;              // null: no tools
    ToolChoice tool_choice;
    std::string response_format = "text";
    ojson json_schema;
    std::string chat_template;
};

struct OutputDelta {
    std::string reasoning, content;
    nlohmann::json tool_calls = nlohmann::json::array();  // streamed form, with "index"
    bool empty() const { return reasoning.empty() && content.empty() && tool_calls.empty(); }
};

struct OutputResult {
    std::string content, reasoning;
    bool has_reasoning = false;
    nlohmann::json tool_calls =
        nlohmann::json::array();  // message form: {id, type, function{name, arguments}}
};

class OutputProcessor {
  public:
    OutputProcessor(const Tokenizer& tokenizer, const OutputProcessorOptions& options);
    ~OutputProcessor();

    OutputDelta push(int32_t token);
    OutputDelta finish();
    bool stopped() const { return stop_.stopped(); }
    const std::string& stop_string() const { return stop_.matched(); }
    bool has_tool_calls() const { return !result_.tool_calls.empty(); }
    const OutputResult& result() const { return result_; }

    // For the engine thread: the per-step logits constraint and the token it must learn
    // about after sampling (both null when the output is unconstrained).
    std::function<void(float*, int64_t)> logits_processor();
    std::function<void(int32_t)> token_acceptor();

  private:
    OutputDelta route(const std::string& text, bool final);

    const Tokenizer& tokenizer_;
    OutputProcessorOptions options_;
    StreamDecoder decoder_;
    StopMatcher stop_;
    OutputResult result_;
    struct Parsers;
    std::unique_ptr<Parsers> parsers_;
};

}  // namespace pangolin
