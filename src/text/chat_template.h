// Chat templates: a conversation (OpenAI-style JSON messages) rendered to the prompt text a
// model was trained on, byte-exact to Hugging Face's tokenizer.apply_chat_template.
//
// Messages and tools are nlohmann::ordered_json so that objects keep their key order, as
// Python's json.loads does: `tools | tojson` must print keys in the order the user sent them.
// (A plain nlohmann::json converts implicitly, with its keys in sorted order.)
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "text/jinja/template.h"

namespace pangolin {

struct ChatTemplateOptions {
    nlohmann::ordered_json tools;  // null: no tools (the template sees tools = none)
    bool add_generation_prompt = false;
    std::string bos_token, eos_token;
    // Extra template variables, e.g. chat_template_kwargs {"enable_thinking": false}. They may
    // replace bos_token/eos_token but not messages, tools, documents or add_generation_prompt.
    nlohmann::ordered_json extra = nlohmann::ordered_json::object();
    // The date strftime_now() formats, "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS"; empty: local now.
    std::string date;
    jinja::Limits limits;
};

// A parsed chat template; render() may be called from many threads at once.
class ChatTemplate {
  public:
    // Throws Error naming the line and column of a syntax error.
    explicit ChatTemplate(const std::string& template_text);

    // Throws Error for messages or options of the wrong shape, jinja::RaisedError (what() is
    // exactly the template's message) when the template calls raise_exception, and Error
    // naming the template line for any other failure while rendering.
    std::string render(const nlohmann::ordered_json& messages,
                       const ChatTemplateOptions& opts) const;

  private:
    std::shared_ptr<const jinja::Template> template_;
};

// render_chat_template(text, ...) == ChatTemplate(text).render(...), with the parsed template
// cached by its text (parse once, render many).
std::string render_chat_template(const std::string& template_text,
                                 const nlohmann::ordered_json& messages,
                                 const ChatTemplateOptions& opts);

// Checks the shape Hugging Face accepts: a list of objects, each with a string `role`, and
// `content` (when present) a string, null, or a list of content parts ({"type": "text",
// "text": ...}, other part types passed through). Throws Error naming the bad message.
void validate_messages(const nlohmann::ordered_json& messages);

}  // namespace pangolin
