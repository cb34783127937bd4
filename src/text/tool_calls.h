// Tool calls parsed out of generated text, in the formats the served model families are trained
// on (as their chat templates render an assistant's tool calls):
//
//   Hermes       Qwen2.5, Qwen3, QwQ:  <tool_call>\n{"name": N, "arguments": {...}}\n</tool_call>
//                                      (several; text before, between or after is content)
//   DeepSeekR1   R1 and its distills:
//   <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>N
//                                      \n```json\n{...}\n```<｜tool▁call▁end｜>…<｜tool▁calls▁end｜>
//   DeepSeekV31  DeepSeek-V3.1: <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>N<｜tool▁sep｜>{...}
//                                      <｜tool▁call▁end｜>…<｜tool▁calls▁end｜>
//   Llama3Json   Llama 3.1 / 3.3:      the output is {"name": N, "parameters": {...}}, optionally
//                                      after <|python_tag|>; several separated by ';'
//
// What counts as a call follows vLLM's hermes / deepseek_v3 / deepseek_v31 / llama3_json
// parsers and llama.cpp's common_chat_parse_*: the DeepSeek parser takes both call shapes and
// llama.cpp's misspelled block openers of the R1 distills; a Llama call must start the output
// and may name its arguments "parameters" or "arguments"; a Hermes call whose </tool_call> is
// missing at the end of the output still counts. Model output never throws: when any call is
// malformed (bad JSON, no name, arguments not an object) nothing is a call and the held text
// is returned as content, as vLLM does.
//
// Arguments are re-serialized compactly with the model's key order (llama.cpp's dump();
// vLLM's json.dumps adds spaces after ':' and ','): {"city":"Shenzhen"}.
//
// Feed text with special tokens rendered (StreamDecoder with skip_special=false): DeepSeek's
// markers and <|python_tag|> are special tokens.
//
// Server use per request (after the reasoning split: feed it the content part only):
//   ToolCallParser parser(detect_tool_call_format(tokenizer.chat_template()), seed);
//   on each content delta:  send parser.push(delta) as content
//   at the end:             auto r = parser.finish();  // send r.content, then r.calls
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace pangolin {

enum class ToolCallFormat { None, Hermes, DeepSeekR1, DeepSeekV31, Llama3Json };

// "none", "hermes", "deepseek_r1", "deepseek_v31", "llama3_json".
const char* tool_call_format_name(ToolCallFormat format);
// A format name above, vLLM's --tool-call-parser name (deepseek_v3 is the R1 format) or a model
// family ("qwen2.5", "qwen3", "qwq", "deepseek-r1", "deepseek-v3.1", "llama3"); Error otherwise.
ToolCallFormat tool_call_format_from_name(std::string_view name);
// The format a chat template renders tool calls in; None when it renders none we know.
ToolCallFormat detect_tool_call_format(std::string_view chat_template);

struct ToolCall {
    std::string id;  // "call_" + 24 letters and digits
    std::string name;
    std::string arguments;  // a JSON object, serialized
};

struct ToolCallResult {
    std::vector<ToolCall> calls;
    std::string content;  // text not emitted by push(): after, between or instead of calls
};

// OpenAI-style call ids, deterministic for a seed.
class ToolCallIdGenerator {
  public:
    explicit ToolCallIdGenerator(uint64_t seed) : rng_(seed) {}
    std::string next();

  private:
    std::mt19937_64 rng_;
};

class ToolCallParser {
  public:
    explicit ToolCallParser(ToolCallFormat format, uint64_t id_seed = 0);

    // Content to emit now. Text from the first tool-call marker on (and a suffix that may be the
    // start of one) is held back for finish().
    std::string push(std::string_view text);
    // The calls, with the content that push() held back and that is not part of a call.
    ToolCallResult finish();

    // True once held text has started what looks like a tool call.
    bool in_tool_call() const { return phase_ == Phase::Held; }
    ToolCallFormat format() const { return format_; }

  private:
    enum class Phase { Start, Content, Held };
    ToolCallFormat format_;
    Phase phase_;
    std::string held_;
    ToolCallIdGenerator ids_;
};

// Non-streaming: push(text) + finish(), with the emitted content put back in front.
ToolCallResult parse_tool_calls(ToolCallFormat format, std::string_view text, uint64_t id_seed = 0);

}  // namespace pangolin
