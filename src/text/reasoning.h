// Splits generated text into reasoning and content for models that think between markers:
// <think>…</think> (DeepSeek-R1 and its distills, Qwen3, QwQ, DeepSeek-V3.1 in thinking mode)
// and openPangu's [unused16]…[unused17].
//
// Two ways a block starts. Qwen3 writes the open marker itself. R1 distills, QwQ and
// V3.1-thinking end the prompt with it ("<｜Assistant｜><think>\n"), so the output carries only
// the close marker and everything before it is reasoning (starts_in_reasoning). A template that
// renders a closed empty block in the prompt (Qwen3 with enable_thinking=false,
// "<think>\n\n</think>\n\n") leaves the output all content.
//
// Whitespace follows llama-server's reasoning_format=deepseek (common_chat_msg_parser::
// try_parse_reasoning): reasoning is stripped at both ends, whitespace right after the close
// marker is dropped, and the open marker counts only at the start of the output (after
// optional whitespace; llama.cpp wants it at offset 0). A second block later in the output is
// plain content. vLLM's deepseek_r1 parser keeps the newlines instead; we follow llama-server.
// When the prompt already opened the block and the model writes the open marker again, it is
// dropped (as vLLM does) instead of becoming reasoning text.
//
// Streaming: push() returns what can be emitted now and holds back any suffix that could still
// turn into a marker ("</thi") and whitespace whose fate depends on what follows; flush()
// releases the rest. Concatenating every push() and flush() gives the same split however the
// text was chunked; non-streaming use is push(all) + flush(). Feed the text with special tokens
// rendered (StreamDecoder with skip_special=false): the markers are special tokens in some
// vocabularies.
//
// Server use per request:
//   auto format = detect_reasoning_format(tokenizer, rendered_prompt);
//   ReasoningSplitter split(format);
//   on each token:  auto d = split.push(stream_decoder.push(id));  // send d.reasoning, d.content
//   at the end:     auto d = split.flush();
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace pangolin {

class Tokenizer;

struct ReasoningFormat {
    std::string open, close;  // both empty: the model does not reason, all output is content
    bool starts_in_reasoning = false;  // the rendered prompt ends inside an open block
    bool enabled() const { return !close.empty(); }
};

// The marker pair whose two markers are single tokens of the vocabulary, or whose open marker
// ends the prompt (<think>/</think> first, then [unused16]/[unused17]; when both qualify, the
// pair the prompt mentions), and whether the prompt, trailing whitespace aside, ends with the
// open marker. No pair: disabled format (all content).
ReasoningFormat detect_reasoning_format(const Tokenizer& tokenizer,
                                        std::string_view rendered_prompt);
// Same, with `is_token(text)` telling whether `text` is one token of the vocabulary.
ReasoningFormat detect_reasoning_format(const std::function<bool(std::string_view)>& is_token,
                                        std::string_view rendered_prompt);

struct ReasoningDelta {
    std::string reasoning, content;
    bool empty() const { return reasoning.empty() && content.empty(); }
};

class ReasoningSplitter {
  public:
    explicit ReasoningSplitter(ReasoningFormat format);

    ReasoningDelta push(std::string_view text);
    // Releases whatever is held (an unfinished marker is text). Call once at the end.
    ReasoningDelta flush();

    // True while the text pushed so far is inside the reasoning block (a server may apply a
    // JSON constraint only once this turns false).
    bool in_reasoning() const { return phase_ == Phase::Reasoning || phase_ == Phase::Opening; }
    const ReasoningFormat& format() const { return format_; }

  private:
    enum class Phase {
        Start,       // output start, not in reasoning: held text may still become the open marker
        Opening,     // block opened by the prompt: held text may still be a repeated open marker
        Reasoning,   // inside the block
        AfterClose,  // after the close marker: dropping whitespace
        Content,     // everything else passes through
    };
    void feed(std::string_view text, ReasoningDelta& out);
    void feed_reasoning(ReasoningDelta& out);
    void emit_reasoning(std::string_view text, ReasoningDelta& out);

    ReasoningFormat format_;
    Phase phase_;
    std::string held_;                // text not yet emitted
    bool reasoning_started_ = false;  // a non-whitespace reasoning byte was emitted
};

}  // namespace pangolin
