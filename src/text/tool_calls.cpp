#include "text/tool_calls.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/error.h"

namespace pangolin {

namespace {

using ordered_json = nlohmann::ordered_json;
constexpr size_t npos = std::string_view::npos;

constexpr std::string_view k_hermes_open = "<tool_call>";
constexpr std::string_view k_hermes_close = "</tool_call>";

// DeepSeek's block openers: the real one, then the spellings R1 distills produce (llama.cpp's
// common_chat_parse_deepseek_r1 accepts the same), then a call opener with no block opener.
constexpr std::string_view k_ds_calls_begin[] = {
    "<｜tool▁calls▁begin｜>",     "<｜tool_calls_begin｜>", "<｜tool calls begin｜>",
    "<｜tool\\_calls\\_begin｜>", "<｜tool▁calls｜>",
};
constexpr std::string_view k_ds_call_begin = "<｜tool▁call▁begin｜>";
constexpr std::string_view k_ds_call_end = "<｜tool▁call▁end｜>";
constexpr std::string_view k_ds_sep = "<｜tool▁sep｜>";
constexpr std::string_view k_ds_calls_end = "<｜tool▁calls▁end｜>";

constexpr std::string_view k_python_tag = "<|python_tag|>";

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

size_t skip_space(std::string_view s, size_t pos) {
    while (pos < s.size() && is_space(s[pos])) ++pos;
    return pos;
}

bool starts_with_at(std::string_view s, size_t pos, std::string_view prefix) {
    return s.substr(pos, prefix.size()) == prefix;
}

// Longest suffix of `text` that is a proper prefix of `marker`.
size_t partial_suffix(std::string_view text, std::string_view marker) {
    for (size_t n = std::min(text.size(), marker.size() - 1); n > 0; --n)
        if (text.substr(text.size() - n) == marker.substr(0, n)) return n;
    return 0;
}

std::vector<std::string_view> start_markers(ToolCallFormat format) {
    switch (format) {
        case ToolCallFormat::Hermes:
            return {k_hermes_open};
        case ToolCallFormat::DeepSeekR1:
        case ToolCallFormat::DeepSeekV31: {
            std::vector<std::string_view> m(std::begin(k_ds_calls_begin),
                                            std::end(k_ds_calls_begin));
            m.push_back(k_ds_call_begin);
            return m;
        }
        default:
            return {};
    }
}

struct ParsedCall {
    std::string name, arguments;
};
struct Parsed {
    std::vector<ParsedCall> calls;
    std::string content;
};

// Arguments given as an object are re-serialized; given as a string, they are taken as the
// model wrote them (the string is meant to hold JSON).
std::optional<std::string> arguments_text(const ordered_json& args) {
    if (args.is_object()) return args.dump();
    if (args.is_string()) return args.get<std::string>();
    return std::nullopt;
}

// {"name": N, "arguments" | "parameters": {...}}; a call with neither key takes no arguments.
std::optional<ParsedCall> call_from_json(std::string_view text) {
    const ordered_json j = ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return std::nullopt;
    const auto name = j.find("name");
    if (name == j.end() || !name->is_string() || name->get<std::string>().empty())
        return std::nullopt;
    auto args = j.find("arguments");
    if (args == j.end()) args = j.find("parameters");
    ParsedCall call{name->get<std::string>(), "{}"};
    if (args != j.end()) {
        auto text_args = arguments_text(*args);
        if (!text_args) return std::nullopt;
        call.arguments = std::move(*text_args);
    }
    return call;
}

std::optional<std::string> object_text(std::string_view text) {
    const ordered_json j = ordered_json::parse(trim(text), nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return std::nullopt;
    return j.dump();
}

// Collected text outside calls, trimmed; nothing when it is only whitespace.
std::string outside_text(std::string_view text) {
    return std::string(trim(text));
}

std::optional<Parsed> parse_hermes(std::string_view s) {
    Parsed out;
    std::string outside;
    size_t pos = 0;
    for (;;) {
        const size_t open = s.find(k_hermes_open, pos);
        if (open == npos) {
            outside.append(s.substr(pos));
            break;
        }
        outside.append(s.substr(pos, open - pos));
        const size_t body = open + k_hermes_open.size();
        const size_t close = s.find(k_hermes_close, body);
        const std::string_view json = s.substr(body, close == npos ? npos : close - body);
        auto call = call_from_json(trim(json));
        if (!call) return std::nullopt;
        out.calls.push_back(std::move(*call));
        if (close == npos) break;  // output ended inside the last call: accepted if it parses
        pos = close + k_hermes_close.size();
    }
    out.content = outside_text(outside);
    return out;
}

// One call's text between <｜tool▁call▁begin｜> and <｜tool▁call▁end｜>, either shape.
std::optional<ParsedCall> parse_deepseek_call(std::string_view inner) {
    const size_t sep = inner.find(k_ds_sep);
    if (sep == npos) return std::nullopt;
    const std::string_view head = trim(inner.substr(0, sep));
    const std::string_view tail = inner.substr(sep + k_ds_sep.size());
    ParsedCall call;
    std::string_view args;
    const size_t fence = tail.find("```");
    if (fence != npos) {  // R1: function<｜tool▁sep｜>NAME\n```json\n{...}\n```
        call.name = std::string(trim(tail.substr(0, fence)));
        size_t start = fence + 3;
        if (starts_with_at(tail, start, "json")) start += 4;
        const size_t stop = tail.rfind("```");
        if (stop <= fence) return std::nullopt;
        args = tail.substr(start, stop - start);
    } else {  // V3.1: NAME<｜tool▁sep｜>{...}
        call.name = std::string(head);
        args = tail;
    }
    if (call.name.empty()) return std::nullopt;
    auto text = object_text(args);
    if (!text) return std::nullopt;
    call.arguments = std::move(*text);
    return call;
}

std::optional<Parsed> parse_deepseek(std::string_view s) {
    Parsed out;
    size_t pos = 0;
    for (const auto marker : k_ds_calls_begin)
        if (starts_with_at(s, 0, marker)) pos = marker.size();
    for (;;) {
        pos = skip_space(s, pos);
        if (starts_with_at(s, pos, k_ds_calls_end)) {
            pos += k_ds_calls_end.size();
            break;
        }
        if (!starts_with_at(s, pos, k_ds_call_begin)) break;  // the block ends (closed or not)
        pos += k_ds_call_begin.size();
        const size_t end = s.find(k_ds_call_end, pos);
        if (end == npos) return std::nullopt;
        auto call = parse_deepseek_call(s.substr(pos, end - pos));
        if (!call) return std::nullopt;
        out.calls.push_back(std::move(*call));
        pos = end + k_ds_call_end.size();
    }
    if (out.calls.empty()) return std::nullopt;
    out.content = outside_text(s.substr(pos));
    return out;
}

// End of the JSON object or array opening at s[pos], or npos while it is unfinished.
size_t json_container_end(std::string_view s, size_t pos) {
    int depth = 0;
    bool in_string = false;
    for (size_t i = pos; i < s.size(); ++i) {
        const char c = s[i];
        if (in_string) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if (c == '}' || c == ']') {
            if (--depth == 0) return i + 1;
        }
    }
    return npos;
}

std::optional<Parsed> parse_llama3(std::string_view s) {
    Parsed out;
    size_t pos = skip_space(s, 0);
    if (starts_with_at(s, pos, k_python_tag)) pos += k_python_tag.size();
    for (;;) {
        pos = skip_space(s, pos);
        if (pos >= s.size() || s[pos] != '{') break;
        const size_t end = json_container_end(s, pos);
        if (end == npos) return std::nullopt;
        auto call = call_from_json(s.substr(pos, end - pos));
        if (!call) return std::nullopt;
        out.calls.push_back(std::move(*call));
        pos = skip_space(s, end);
        if (pos < s.size() && s[pos] == ';') ++pos;  // vLLM's separator between calls
    }
    if (out.calls.empty()) return std::nullopt;
    out.content = outside_text(s.substr(pos));
    return out;
}

// Whether held text at the start of a Llama output is a call: +1 yes, 0 not known yet, -1 no.
// A call is <|python_tag|> or an object whose first key is "name" or "type".
int llama3_call_start(std::string_view s) {
    size_t pos = skip_space(s, 0);
    const std::string_view rest = s.substr(pos);
    if (rest.empty()) return 0;
    if (starts_with_at(rest, 0, k_python_tag)) return 1;
    if (k_python_tag.substr(0, rest.size()) == rest) return 0;
    if (rest[0] != '{') return -1;
    pos = skip_space(rest, 1);
    if (pos == rest.size()) return 0;
    if (rest[pos] != '"') return -1;
    const std::string_view key = rest.substr(pos + 1);
    for (const std::string_view want : {std::string_view("name\""), std::string_view("type\"")}) {
        if (starts_with_at(key, 0, want)) return 1;
        if (want.substr(0, key.size()) == key) return 0;
    }
    return -1;
}

}  // namespace

const char* tool_call_format_name(ToolCallFormat format) {
    switch (format) {
        case ToolCallFormat::None:
            return "none";
        case ToolCallFormat::Hermes:
            return "hermes";
        case ToolCallFormat::DeepSeekR1:
            return "deepseek_r1";
        case ToolCallFormat::DeepSeekV31:
            return "deepseek_v31";
        case ToolCallFormat::Llama3Json:
            return "llama3_json";
    }
    return "none";
}

ToolCallFormat tool_call_format_from_name(std::string_view name) {
    struct Alias {
        std::string_view name;
        ToolCallFormat format;
    };
    static constexpr Alias k_aliases[] = {
        {"none", ToolCallFormat::None},
        {"hermes", ToolCallFormat::Hermes},
        {"qwen2.5", ToolCallFormat::Hermes},
        {"qwen3", ToolCallFormat::Hermes},
        {"qwq", ToolCallFormat::Hermes},
        {"deepseek_r1", ToolCallFormat::DeepSeekR1},
        {"deepseek_v3", ToolCallFormat::DeepSeekR1},
        {"deepseek-r1", ToolCallFormat::DeepSeekR1},
        {"deepseek_v31", ToolCallFormat::DeepSeekV31},
        {"deepseek-v3.1", ToolCallFormat::DeepSeekV31},
        {"llama3_json", ToolCallFormat::Llama3Json},
        {"llama3", ToolCallFormat::Llama3Json},
        {"llama-3.1", ToolCallFormat::Llama3Json},
        {"llama-3.3", ToolCallFormat::Llama3Json},
    };
    std::string known;
    for (const auto& alias : k_aliases) {
        if (alias.name == name) return alias.format;
        known += (known.empty() ? "" : ", ") + std::string(alias.name);
    }
    fail("unknown tool-call format \"", name, "\" (known: ", known, ")");
}

ToolCallFormat detect_tool_call_format(std::string_view chat_template) {
    if (chat_template.find(k_hermes_open) != npos) return ToolCallFormat::Hermes;
    if (chat_template.find("tool▁calls▁begin") != npos)
        return chat_template.find("```json") != npos ? ToolCallFormat::DeepSeekR1
                                                     : ToolCallFormat::DeepSeekV31;
    if (chat_template.find(k_python_tag) != npos ||
        (chat_template.find("<|start_header_id|>") != npos &&
         chat_template.find("\"parameters\"") != npos))
        return ToolCallFormat::Llama3Json;
    return ToolCallFormat::None;
}

std::string ToolCallIdGenerator::next() {
    static constexpr std::string_view k_chars =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string id = "call_";
    for (int k = 0; k < 24; ++k) id += k_chars[rng_() % k_chars.size()];
    return id;
}

ToolCallParser::ToolCallParser(ToolCallFormat format, uint64_t id_seed)
    : format_(format),
      phase_(format == ToolCallFormat::None ? Phase::Content : Phase::Start),
      ids_(id_seed) {}

std::string ToolCallParser::push(std::string_view text) {
    if (phase_ == Phase::Content) return std::string(text);
    held_.append(text);
    if (phase_ == Phase::Held) return {};
    std::string out;
    if (format_ == ToolCallFormat::Llama3Json) {
        const int start = llama3_call_start(held_);
        if (start > 0) phase_ = Phase::Held;
        if (start < 0) {
            phase_ = Phase::Content;
            out.swap(held_);
        }
        return out;
    }
    // Marker formats: content streams until the first marker.
    size_t first = npos, keep = 0;
    for (const auto marker : start_markers(format_)) {
        first = std::min(first, held_.find(marker));
        keep = std::max(keep, partial_suffix(held_, marker));
    }
    const size_t emit = first != npos ? first : held_.size() - keep;
    out = held_.substr(0, emit);
    held_.erase(0, emit);
    if (first != npos) phase_ = Phase::Held;
    return out;
}

ToolCallResult ToolCallParser::finish() {
    ToolCallResult result;
    if (phase_ != Phase::Held) {
        result.content = std::move(held_);
        held_.clear();
        return result;
    }
    std::optional<Parsed> parsed;
    switch (format_) {
        case ToolCallFormat::Hermes:
            parsed = parse_hermes(held_);
            break;
        case ToolCallFormat::DeepSeekR1:
        case ToolCallFormat::DeepSeekV31:
            parsed = parse_deepseek(held_);
            break;
        case ToolCallFormat::Llama3Json:
            parsed = parse_llama3(held_);
            break;
        case ToolCallFormat::None:
            break;
    }
    if (!parsed) {
        result.content = std::move(held_);
    } else {
        for (auto& call : parsed->calls)
            result.calls.push_back({ids_.next(), std::move(call.name), std::move(call.arguments)});
        result.content = std::move(parsed->content);
    }
    held_.clear();
    phase_ = Phase::Content;
    return result;
}

ToolCallResult parse_tool_calls(ToolCallFormat format, std::string_view text, uint64_t id_seed) {
    ToolCallParser parser(format, id_seed);
    std::string content = parser.push(text);
    ToolCallResult result = parser.finish();
    result.content = content + result.content;
    return result;
}

}  // namespace pangolin
