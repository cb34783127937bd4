// pangolin template --chat-template FILE --messages MSGS.json [--tools TOOLS.json]
//                   [--add-generation-prompt] [--bos S] [--eos S] [--kwargs JSON] [--date D]
// Prints the rendered prompt byte-exact to stdout (no newline added).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "core/error.h"
#include "text/chat_template.h"

namespace pangolin::cli {

namespace {

struct TemplateOptions {
    std::string template_path, messages_path, tools_path, kwargs;
    ChatTemplateOptions chat;
};

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("cannot read ", path, ": ", std::strerror(errno));
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

nlohmann::ordered_json parse_json(const std::string& text, const std::string& what) {
    try {
        return nlohmann::ordered_json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        fail(what, ": invalid JSON: ", e.what());
    }
}

}  // namespace

Runner add_template(CLI::App& app) {
    auto o = std::make_shared<TemplateOptions>();
    app.add_option("--chat-template", o->template_path, "Jinja chat template file")->required();
    app.add_option("--messages", o->messages_path, "JSON file: a list of {role, content} messages")
        ->required();
    app.add_option("--tools", o->tools_path, "JSON file: a list of tool definitions");
    app.add_flag("--add-generation-prompt", o->chat.add_generation_prompt,
                 "End with the assistant turn's header");
    app.add_option("--bos", o->chat.bos_token, "The bos_token string");
    app.add_option("--eos", o->chat.eos_token, "The eos_token string");
    app.add_option(
        "--kwargs", o->kwargs,
        "Extra template variables as a JSON object, e.g. '{\"enable_thinking\": false}'");
    app.add_option("--date", o->chat.date, "Date strftime_now() sees, YYYY-MM-DD (default: today)");
    return [o]() {
        const std::string text = read_text(o->template_path);
        const auto messages = parse_json(read_text(o->messages_path), o->messages_path);
        ChatTemplateOptions opts = o->chat;
        if (!o->tools_path.empty())
            opts.tools = parse_json(read_text(o->tools_path), o->tools_path);
        if (!o->kwargs.empty()) opts.extra = parse_json(o->kwargs, "--kwargs");
        const std::string out = ChatTemplate(text).render(messages, opts);
        std::fwrite(out.data(), 1, out.size(), stdout);
        std::fflush(stdout);
        return 0;
    };
}

}  // namespace pangolin::cli
