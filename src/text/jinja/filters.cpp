// Jinja2's builtin filters on strings and numbers (and Hugging Face's `tojson`), with their
// Python semantics; the filters on sequences are in filters_seq.cpp.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unordered_map>

#include "core/error.h"
#include "text/jinja/builtins.h"
#include "text/jinja/json.h"
#include "text/jinja/utf8.h"

namespace pangolin::jinja {

namespace {

std::string soft_str(const Value& v) {
    return to_str(v);
}

Value f_tojson(Interp& in, Value& v, Args& args) {
    // Hugging Face's override: json.dumps(x, ensure_ascii=False, indent, separators, sort_keys).
    Params p("tojson", args, {"ensure_ascii", "indent", "separators", "sort_keys"});
    JsonStyle style;
    style.ensure_ascii = truthy(p.get_or(0, Value::boolean(false)));
    const Value indent = p.get_or(1, Value::none());
    if (indent.is_string())
        style.indent = indent.str();
    else if (indent.is_integral())
        style.indent = std::string(static_cast<size_t>(std::max<int64_t>(0, indent.as_int())), ' ');
    else if (!indent.is_none())
        fail("tojson: indent must be an integer, a string or None");
    const Value seps = p.get_or(2, Value::none());
    if (!seps.is_none()) {
        if (!seps.is_list_or_tuple() || seps.list().items.size() != 2 ||
            !seps.list().items[0].is_string() || !seps.list().items[1].is_string())
            fail("tojson: separators must be a pair of strings");
        style.item_sep = seps.list().items[0].str();
        style.key_sep = seps.list().items[1].str();
    }
    style.sort_keys = truthy(p.get_or(3, Value::boolean(false)));
    std::string out = to_json(v, style);
    in.check_size(out.size());
    return Value(std::move(out));
}

Value f_length(Interp&, Value& v, Args& args) {
    Params("length", args, {});
    switch (v.kind()) {
        case Kind::String:
            return Value::integer(static_cast<int64_t>(utf8::length(v.str())));
        case Kind::List:
            if (v.is_seq(Seq::Generator)) fail("object of type 'generator' has no len()");
            return Value::integer(static_cast<int64_t>(v.list().items.size()));
        case Kind::Dict:
            return Value::integer(static_cast<int64_t>(v.dict_data().items.size()));
        case Kind::Undefined:
            return Value::integer(0);
        default:
            fail("object of type '", type_name(v), "' has no len()");
    }
}

Value f_default(Interp&, Value& v, Args& args) {
    Params p("default", args, {"default_value", "boolean"});
    if (v.is_undefined() || (truthy(p.get(1)) && !truthy(v))) return p.get_or(0, Value(""));
    return v;
}

Value f_upper(Interp&, Value& v, Args& args) {
    Params("upper", args, {});
    return Value(utf8::upper(soft_str(v)));
}
Value f_lower(Interp&, Value& v, Args& args) {
    Params("lower", args, {});
    return Value(utf8::lower(soft_str(v)));
}
Value f_capitalize(Interp&, Value& v, Args& args) {
    Params("capitalize", args, {});
    return Value(utf8::capitalize(soft_str(v)));
}

// Jinja's title filter: words start after whitespace, '-', or an opening bracket.
Value f_title(Interp&, Value& v, Args& args) {
    Params("title", args, {});
    const std::string s = soft_str(v);
    std::string out;
    bool start = true;
    for (size_t i = 0; i < s.size();) {
        const size_t b = i;
        const char32_t c = utf8::decode(s, i);
        const bool boundary =
            utf8::is_space(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<';
        const std::string_view ch(s.data() + b, i - b);
        if (boundary)
            out += ch;
        else
            out += start ? utf8::upper(ch) : utf8::lower(ch);
        start = boundary;
    }
    return Value(std::move(out));
}

Value f_replace(Interp& in, Value& v, Args& args) {
    Params p("replace", args, {"old", "new", "count"});
    const int64_t count =
        p.has(2) && !p.get(2).is_none() ? int_arg("replace", p.get(2), "count") : -1;
    return Value(py_replace(in, soft_str(v), soft_str(p.need(0)), soft_str(p.need(1)), count));
}

Value f_trim(Interp&, Value& v, Args& args) {
    Params p("trim", args, {"chars"});
    const std::string s = soft_str(v);
    if (p.has(0) && !p.get(0).is_none()) {
        const std::string chars = soft_str(p.get(0));
        return Value(std::string(utf8::strip(s, &chars, true, true)));
    }
    return Value(std::string(utf8::strip(s, nullptr, true, true)));
}

Value f_string(Interp&, Value& v, Args& args) {
    Params("string", args, {});
    return Value(soft_str(v));
}

// Python int(str, base) for the `int` filter: optional sign, prefix, underscores, spaces.
bool parse_py_int(std::string s, int base, int64_t& out) {
    s = std::string(utf8::strip(s, nullptr, true, true));
    bool neg = false;
    size_t i = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    if (i + 1 < s.size() && s[i] == '0') {
        const char p = static_cast<char>(s[i + 1] | 0x20);
        const int pb = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
        if (pb && (base == pb || base == 0)) {
            base = pb;
            i += 2;
            if (i < s.size() && s[i] == '_') ++i;
        }
    }
    if (base == 0) base = 10;
    if (i >= s.size()) return false;
    int64_t v = 0;
    bool prev_digit = false;
    for (; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '_' && prev_digit && i + 1 < s.size() && s[i + 1] != '_') {
            prev_digit = false;
            continue;
        }
        int d = -1;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
            d = (c | 0x20) - 'a' + 10;
        if (d < 0 || d >= base) return false;
        if (__builtin_mul_overflow(v, base, &v) || __builtin_add_overflow(v, d, &v)) return false;
        prev_digit = true;
    }
    out = neg ? -v : v;
    return true;
}

// Python float(str): decimal or exponent notation, inf/nan, underscores between digits.
bool parse_py_float(const std::string& raw, double& out) {
    std::string s(utf8::strip(raw, nullptr, true, true));
    std::string clean;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '_') {
            if (i == 0 || i + 1 >= s.size() ||
                !std::isdigit(static_cast<unsigned char>(s[i - 1])) ||
                !std::isdigit(static_cast<unsigned char>(s[i + 1])))
                return false;
            continue;
        }
        clean += s[i];
    }
    if (clean.empty()) return false;
    std::string lower = utf8::lower(clean);
    const std::string body = (lower[0] == '+' || lower[0] == '-') ? lower.substr(1) : lower;
    const bool neg = lower[0] == '-';
    if (body == "inf" || body == "infinity") {
        out = neg ? -INFINITY : INFINITY;
        return true;
    }
    if (body == "nan") {
        out = NAN;
        return true;
    }
    for (char c : body)
        if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != 'e' && c != '+' &&
            c != '-')
            return false;
    char* end = nullptr;
    out = std::strtod(clean.c_str(), &end);
    return end && *end == '\0';
}

Value f_int(Interp&, Value& v, Args& args) {
    Params p("int", args, {"default", "base"});
    const Value fallback = p.get_or(0, Value::integer(0));
    const int base = p.has(1) ? static_cast<int>(int_arg("int", p.get(1), "base")) : 10;
    if (v.is_undefined()) raise_undefined(v);
    if (v.is_integral()) return Value::integer(v.as_int());
    if (v.is_float()) {
        const double d = v.as_double();
        if (std::isnan(d) || std::isinf(d) || std::fabs(d) >= 9.2e18) return fallback;
        return Value::integer(static_cast<int64_t>(d));
    }
    if (v.is_string()) {
        int64_t i = 0;
        if (parse_py_int(v.str(), base, i)) return Value::integer(i);
        double d = 0;
        if (parse_py_float(v.str(), d) && !std::isnan(d) && !std::isinf(d) && std::fabs(d) < 9.2e18)
            return Value::integer(static_cast<int64_t>(d));
    }
    return fallback;
}

Value f_float(Interp&, Value& v, Args& args) {
    Params p("float", args, {"default"});
    if (v.is_undefined()) raise_undefined(v);
    if (v.is_number()) return Value::number(v.as_double());
    double d = 0;
    if (v.is_string() && parse_py_float(v.str(), d)) return Value::number(d);
    return p.get_or(0, Value::number(0.0));
}

Value f_abs(Interp&, Value& v, Args& args) {
    Params("abs", args, {});
    if (v.is_float()) return Value::number(std::fabs(v.as_double()));
    if (v.is_integral()) {
        if (v.as_int() == INT64_MIN) fail("integer result does not fit in 64 bits");
        return Value::integer(v.as_int() < 0 ? -v.as_int() : v.as_int());
    }
    if (v.is_undefined()) raise_undefined(v);
    fail("bad operand type for abs(): '", type_name(v), "'");
}

Value f_round(Interp&, Value& v, Args& args) {
    Params p("round", args, {"precision", "method"});
    const int64_t precision = p.has(0) ? int_arg("round", p.get(0), "precision") : 0;
    const std::string method = p.has(1) ? str_arg("round", p.get(1), "method") : "common";
    if (method != "common" && method != "ceil" && method != "floor")
        fail("method must be common, ceil or floor");
    if (v.is_undefined()) raise_undefined(v);
    if (!v.is_number()) fail("type ", type_name(v), " doesn't define __round__ method");
    if (method == "common") {
        if (v.is_integral()) {
            if (precision >= 0) return Value::integer(v.as_int());
            const double scale = std::pow(10.0, static_cast<double>(-precision));
            return Value::integer(static_cast<int64_t>(
                std::nearbyint(static_cast<double>(v.as_int()) / scale) * scale));
        }
        const double d = v.as_double();
        if (std::isnan(d) || std::isinf(d)) return Value::number(d);
        if (precision >= 0 && precision <= 300) {
            // printf rounds the exact binary value half-to-even, as Python's round() does.
            char buf[400];
            std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(precision), d);
            return Value::number(std::strtod(buf, nullptr));
        }
        if (precision > 300) return Value::number(d);
        const double scale = std::pow(10.0, static_cast<double>(-precision));
        return Value::number(std::nearbyint(d / scale) * scale);
    }
    const double scale = std::pow(10.0, static_cast<double>(precision));
    const double x = v.as_double() * scale;
    return Value::number((method == "ceil" ? std::ceil(x) : std::floor(x)) / scale);
}

Value f_escape(Interp&, Value& v, Args& args) {
    Params("escape", args, {});
    const std::string s = soft_str(v);
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&#34;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return Value(std::move(out));
}

Value f_safe(Interp&, Value& v, Args& args) {
    Params("safe", args, {});
    return Value(soft_str(v));
}

Value f_wordcount(Interp&, Value& v, Args& args) {
    Params("wordcount", args, {});
    const std::string s = soft_str(v);
    int64_t n = 0;
    bool in_word = false;
    for (size_t i = 0; i < s.size();) {
        const char32_t c = utf8::decode(s, i);
        const bool word =
            c == '_' || utf8::is_alnum(c) || (c >= 0x80 && !utf8::is_space(c) && utf8::is_alpha(c));
        if (word && !in_word) ++n;
        in_word = word;
    }
    return Value::integer(n);
}

Value f_truncate(Interp& in, Value& v, Args& args) {
    Params p("truncate", args, {"length", "killwords", "end", "leeway"});
    const int64_t length = p.has(0) ? int_arg("truncate", p.get(0), "length") : 255;
    const bool killwords = truthy(p.get(1));
    const std::string end = p.has(2) ? soft_str(p.get(2)) : "...";
    const int64_t leeway =
        p.has(3) && !p.get(3).is_none() ? int_arg("truncate", p.get(3), "leeway") : 5;
    const auto end_len = static_cast<int64_t>(utf8::length(end));
    if (length < end_len) fail("expected length >= ", end_len, ", got ", length);
    if (leeway < 0) fail("expected leeway >= 0, got ", leeway);
    // Jinja2 measures the value itself: a short list or dict comes back unchanged.
    if (!v.is_string()) {
        Args no_args;
        const Value n = f_length(in, v, no_args);
        if (n.as_int() <= length + leeway) return v;
        fail("truncate: cannot shorten a ", type_name(v));
    }
    const std::string& s = v.str();
    if (static_cast<int64_t>(utf8::length(s)) <= length + leeway) return v;
    const Value head =
        slice(in, Value(s), Value::none(), Value::integer(length - end_len), Value::none());
    if (killwords) return Value(head.str() + end);
    const size_t space = head.str().rfind(' ');
    return Value((space == std::string::npos ? head.str() : head.str().substr(0, space)) + end);
}

Value f_center(Interp& in, Value& v, Args& args) {
    Params p("center", args, {"width"});
    Value self(soft_str(v));
    Value found;
    find_method(self, "center", found);
    Args a;
    a.pos.push_back(p.get_or(0, Value::integer(80)));
    return in.call(found, a);
}

Value f_indent(Interp& in, Value& v, Args& args) {
    Params p("indent", args, {"width", "first", "blank"});
    const Value w = p.get_or(0, Value::integer(4));
    std::string indention;
    if (w.is_string())
        indention = w.str();
    else {
        const int64_t n = int_arg("indent", w, "width");
        in.check_size(static_cast<size_t>(std::max<int64_t>(0, n)));
        indention = std::string(static_cast<size_t>(std::max<int64_t>(0, n)), ' ');
    }
    if (v.is_undefined()) raise_undefined(v);
    if (!v.is_string()) fail("unsupported operand type(s) for +=: '", type_name(v), "' and 'str'");
    const std::vector<std::string> lines = utf8::splitlines(v.str() + "\n");
    std::string rv;
    if (truthy(p.get(2))) {
        for (size_t i = 0; i < lines.size(); ++i) {
            if (i) rv += "\n" + indention;
            rv += lines[i];
            in.check_size(rv.size());
        }
    } else {
        rv = lines.empty() ? "" : lines[0];
        for (size_t i = 1; i < lines.size(); ++i) {
            rv += "\n";
            if (!lines[i].empty()) rv += indention;
            rv += lines[i];
            in.check_size(rv.size());
        }
    }
    if (truthy(p.get(1))) rv = indention + rv;
    return Value(std::move(rv));
}

Value f_attr(Interp&, Value& v, Args& args) {
    Params p("attr", args, {"name"});
    const std::string name = str_arg("attr", p.need(0), "name");
    if (v.is_undefined()) raise_undefined(v);
    if (v.is_object())
        if (const Value* x = v.object().find(name)) return *x;
    Value m;
    if (find_method(v, name, m)) return m;
    return Value::undefined("'" + object_type_repr(v) + "' has no attribute '" + name + "'");
}

Value f_format(Interp& in, Value& v, Args& args) {
    if (!args.pos.empty() && !args.kw.empty())
        fail("can't handle positional and keyword arguments at the same time");
    if (!args.kw.empty()) {
        Value d = Value::dict();
        for (auto& [k, x] : args.kw) d.dict_data().set(Value(k), x);
        return Value(percent_format(in, soft_str(v), d));
    }
    return Value(percent_format(in, soft_str(v), Value::tuple(args.pos)));
}

Value f_pprint(Interp&, Value& v, Args& args) {
    Params("pprint", args, {});
    return Value(repr(v));
}

const std::unordered_map<std::string_view, FilterFn>& filters() {
    static const std::unordered_map<std::string_view, FilterFn> table = {
        {"tojson", f_tojson},
        {"length", f_length},
        {"count", f_length},
        {"default", f_default},
        {"d", f_default},
        {"upper", f_upper},
        {"lower", f_lower},
        {"capitalize", f_capitalize},
        {"title", f_title},
        {"replace", f_replace},
        {"trim", f_trim},
        {"string", f_string},
        {"int", f_int},
        {"float", f_float},
        {"abs", f_abs},
        {"round", f_round},
        {"escape", f_escape},
        {"e", f_escape},
        {"forceescape", f_escape},
        {"safe", f_safe},
        {"wordcount", f_wordcount},
        {"truncate", f_truncate},
        {"center", f_center},
        {"indent", f_indent},
        {"attr", f_attr},
        {"format", f_format},
        {"pprint", f_pprint},
    };
    return table;
}

}  // namespace

FilterFn find_filter(std::string_view name) {
    const auto& t = filters();
    const auto it = t.find(name);
    return it == t.end() ? find_sequence_filter(name) : it->second;
}

}  // namespace pangolin::jinja
