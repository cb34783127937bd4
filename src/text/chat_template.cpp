#include "text/chat_template.h"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <unordered_map>

#include "core/error.h"
#include "text/jinja/json.h"

namespace pangolin {

namespace {

std::string json_type(const nlohmann::ordered_json& j) {
    return j.type_name();
}

std::tm parse_date(const std::string& date) {
    std::tm tm{};
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    char tail = 0;
    const int n =
        std::sscanf(date.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &tail);
    const bool date_only = n == 3 && date.size() == 10;
    const bool date_time = n == 6 && date.size() == 19;
    if (!(date_only || date_time) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        s > 60)
        fail("date '", date, "' is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS");
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    std::tm check = tm;
    const std::time_t t = timegm(&check);  // fills in the weekday and day of the year
    std::tm full{};
    gmtime_r(&t, &full);
    if (full.tm_mday != d) fail("date '", date, "' does not exist");
    return full;
}

std::shared_ptr<const jinja::Template> cached_template(const std::string& text) {
    static std::mutex mu;
    static std::unordered_map<std::string, std::shared_ptr<const jinja::Template>> cache;
    std::lock_guard<std::mutex> lock(mu);
    const auto it = cache.find(text);
    if (it != cache.end()) return it->second;
    auto parsed = std::make_shared<const jinja::Template>(text);
    if (cache.size() >= 16) cache.clear();  // a handful of templates per process in practice
    cache.emplace(text, parsed);
    return parsed;
}

std::string render_with(const jinja::Template& t, const nlohmann::ordered_json& messages,
                        const ChatTemplateOptions& opts) {
    validate_messages(messages);
    if (!opts.tools.is_null()) {
        if (!opts.tools.is_array())
            fail("tools must be a JSON array of tool objects, got ", json_type(opts.tools));
        for (size_t i = 0; i < opts.tools.size(); ++i)
            if (!opts.tools[i].is_object())
                fail("tools[", i, "] must be an object, got ", json_type(opts.tools[i]));
    }
    if (!opts.extra.is_null() && !opts.extra.is_object())
        fail("extra template variables must be a JSON object, got ", json_type(opts.extra));

    std::vector<std::pair<std::string, jinja::Value>> vars;
    vars.emplace_back("messages", jinja::from_json(messages));
    vars.emplace_back("tools", jinja::from_json(opts.tools));
    vars.emplace_back("documents", jinja::Value::none());
    vars.emplace_back("add_generation_prompt", jinja::Value::boolean(opts.add_generation_prompt));
    vars.emplace_back("bos_token", jinja::Value(opts.bos_token));
    vars.emplace_back("eos_token", jinja::Value(opts.eos_token));
    if (opts.extra.is_object()) {
        for (const auto& [key, value] : opts.extra.items()) {
            if (key == "messages" || key == "tools" || key == "documents" ||
                key == "add_generation_prompt")
                fail("extra template variable '", key, "' would replace one the renderer sets");
            auto it = std::find_if(vars.begin(), vars.end(),
                                   [&](const auto& v) { return v.first == key; });
            if (it != vars.end())
                it->second = jinja::from_json(value);
            else
                vars.emplace_back(key, jinja::from_json(value));
        }
    }
    jinja::RenderOptions ro;
    ro.limits = opts.limits;
    if (!opts.date.empty()) ro.now = parse_date(opts.date);
    return t.render(vars, ro);
}

}  // namespace

void validate_messages(const nlohmann::ordered_json& messages) {
    if (!messages.is_array())
        fail("messages must be a JSON array of {\"role\", \"content\"} objects, got ",
             json_type(messages));
    for (size_t i = 0; i < messages.size(); ++i) {
        const auto& m = messages[i];
        if (!m.is_object())
            fail("messages[", i, "] must be an object with a string 'role', got ", json_type(m));
        const auto role = m.find("role");
        if (role == m.end()) fail("messages[", i, "] has no 'role'");
        if (!role->is_string())
            fail("messages[", i, "].role must be a string, got ", json_type(*role));
        const auto content = m.find("content");
        if (content == m.end() || content->is_string() || content->is_null()) continue;
        if (!content->is_array())
            fail("messages[", i,
                 "].content must be a string, null or a list of content parts, got ",
                 json_type(*content));
        for (size_t k = 0; k < content->size(); ++k) {
            const auto& part = (*content)[k];
            const auto type = part.is_object() ? part.find("type") : part.end();
            if (!part.is_object() || type == part.end() || !type->is_string())
                fail("messages[", i, "].content[", k, "] must be an object with a string 'type'");
            if (*type == "text") {
                const auto text = part.find("text");
                if (text == part.end() || !text->is_string())
                    fail("messages[", i, "].content[", k,
                         "] is a text part without a string 'text'");
            }
        }
    }
}

ChatTemplate::ChatTemplate(const std::string& template_text)
    : template_(std::make_shared<const jinja::Template>(template_text)) {}

std::string ChatTemplate::render(const nlohmann::ordered_json& messages,
                                 const ChatTemplateOptions& opts) const {
    return render_with(*template_, messages, opts);
}

std::string render_chat_template(const std::string& template_text,
                                 const nlohmann::ordered_json& messages,
                                 const ChatTemplateOptions& opts) {
    return render_with(*cached_template(template_text), messages, opts);
}

}  // namespace pangolin
