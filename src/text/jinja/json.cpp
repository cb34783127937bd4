#include "text/jinja/json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "text/jinja/utf8.h"

namespace pangolin::jinja {

namespace {

constexpr int k_max_json_depth = 512;

Value convert(const nlohmann::ordered_json& j, int depth) {
    if (depth > k_max_json_depth) fail("JSON nested more than ", k_max_json_depth, " levels deep");
    switch (j.type()) {
        case nlohmann::ordered_json::value_t::null:
            return Value::none();
        case nlohmann::ordered_json::value_t::boolean:
            return Value::boolean(j.get<bool>());
        case nlohmann::ordered_json::value_t::number_integer:
            return Value::integer(j.get<int64_t>());
        case nlohmann::ordered_json::value_t::number_unsigned: {
            const auto u = j.get<uint64_t>();
            if (u > static_cast<uint64_t>(INT64_MAX))
                fail("JSON integer ", u, " is too large (the limit is 2^63 - 1)");
            return Value::integer(static_cast<int64_t>(u));
        }
        case nlohmann::ordered_json::value_t::number_float:
            return Value::number(j.get<double>());
        case nlohmann::ordered_json::value_t::string:
            return Value(j.get<std::string>());
        case nlohmann::ordered_json::value_t::array: {
            std::vector<Value> items;
            items.reserve(j.size());
            for (const auto& e : j) items.push_back(convert(e, depth + 1));
            return Value::list(std::move(items));
        }
        case nlohmann::ordered_json::value_t::object: {
            Value d = Value::dict();
            auto& items = d.dict_data().items;
            items.reserve(j.size());
            for (const auto& [k, e] : j.items())
                items.emplace_back(Value(k), convert(e, depth + 1));
            return d;
        }
        default:
            fail("unsupported JSON value (binary data)");
    }
}

void write_string(std::string& out, const std::string& s, bool ensure_ascii) {
    out += '"';
    char buf[16];
    for (size_t i = 0; i < s.size();) {
        const auto b = static_cast<unsigned char>(s[i]);
        if (b >= 0x80) {
            const size_t start = i;
            const char32_t cp = utf8::decode(s, i);
            if (!ensure_ascii) {
                out.append(s, start, i - start);
            } else if (cp >= 0x10000) {
                const char32_t v = cp - 0x10000;
                std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + (v >> 10),
                              0xDC00 + (v & 0x3FF));
                out += buf;
            } else {
                std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
                out += buf;
            }
            continue;
        }
        ++i;
        switch (b) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            default:
                if (b < 0x20 || (ensure_ascii && b == 0x7F)) {
                    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(b));
                    out += buf;
                } else {
                    out += static_cast<char>(b);
                }
        }
    }
    out += '"';
}

std::string float_json(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
    return format_float(d);
}

struct Writer {
    const JsonStyle& style;
    std::string item_sep, key_sep;
    std::vector<const void*> active;

    void newline(std::string& out, size_t level) const {
        out += '\n';
        for (size_t i = 0; i < level; ++i) out += *style.indent;
    }

    void enter(const void* p) {
        if (std::find(active.begin(), active.end(), p) != active.end())
            fail("Circular reference detected");
        active.push_back(p);
        if (active.size() > static_cast<size_t>(k_max_json_depth))
            fail("value nested more than ", k_max_json_depth, " levels deep");
    }

    std::string key_text(const Value& k) const {
        switch (k.kind()) {
            case Kind::String:
                return k.str();
            case Kind::Bool:
                return k.as_bool() ? "true" : "false";
            case Kind::None:
                return "null";
            case Kind::Int:
                return std::to_string(k.as_int());
            case Kind::Float:
                return float_json(k.as_double());
            default:
                fail("keys must be str, int, float, bool or None, not ", type_name(k));
        }
    }

    void write(std::string& out, const Value& v, size_t level) {
        switch (v.kind()) {
            case Kind::None:
                out += "null";
                return;
            case Kind::Bool:
                out += v.as_bool() ? "true" : "false";
                return;
            case Kind::Int:
                out += std::to_string(v.as_int());
                return;
            case Kind::Float:
                out += float_json(v.as_double());
                return;
            case Kind::String:
                write_string(out, v.str(), style.ensure_ascii);
                return;
            case Kind::List: {
                if (!v.is_list_or_tuple())
                    fail("Object of type ", type_name(v), " is not JSON serializable");
                const auto& items = v.list().items;
                if (items.empty()) {
                    out += "[]";
                    return;
                }
                enter(&v.list());
                out += '[';
                for (size_t i = 0; i < items.size(); ++i) {
                    if (i) out += item_sep;
                    if (style.indent) newline(out, level + 1);
                    write(out, items[i], level + 1);
                }
                if (style.indent) newline(out, level);
                out += ']';
                active.pop_back();
                return;
            }
            case Kind::Dict: {
                const auto& d = v.dict_data();
                if (d.items.empty()) {
                    out += "{}";
                    return;
                }
                enter(&d);
                std::vector<const std::pair<Value, Value>*> items;
                for (const auto& kv : d.items) items.push_back(&kv);
                if (style.sort_keys)
                    std::stable_sort(items.begin(), items.end(), [](auto* a, auto* b) {
                        return compare(a->first, b->first, CmpOp::Lt);
                    });
                out += '{';
                for (size_t i = 0; i < items.size(); ++i) {
                    if (i) out += item_sep;
                    if (style.indent) newline(out, level + 1);
                    write_string(out, key_text(items[i]->first), style.ensure_ascii);
                    out += key_sep;
                    write(out, items[i]->second, level + 1);
                }
                if (style.indent) newline(out, level);
                out += '}';
                active.pop_back();
                return;
            }
            default:
                fail("Object of type ", type_name(v), " is not JSON serializable");
        }
    }
};

}  // namespace

Value from_json(const nlohmann::ordered_json& j) {
    return convert(j, 0);
}

std::string to_json(const Value& v, const JsonStyle& style) {
    Writer w{style,
             style.item_sep.value_or(style.indent ? "," : ", "),
             style.key_sep.value_or(": "),
             {}};
    std::string out;
    w.write(out, v, 0);
    return out;
}

}  // namespace pangolin::jinja
