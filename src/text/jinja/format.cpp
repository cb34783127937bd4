// Python string formatting: printf-style `fmt % args` (also the `format` filter) and
// str.format() with the format-spec mini-language.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "text/jinja/builtins.h"
#include "text/jinja/utf8.h"

namespace pangolin::jinja {

namespace {

std::string pad(const std::string& s, size_t width, char align, const std::string& fill) {
    const size_t len = utf8::length(s);
    if (width <= len) return s;
    const size_t n = width - len;
    size_t left = 0;
    if (align == '>')
        left = n;
    else if (align == '^')
        left = n / 2;
    std::string out;
    for (size_t i = 0; i < left; ++i) out += fill;
    out += s;
    for (size_t i = 0; i < n - left; ++i) out += fill;
    return out;
}

std::string with_grouping(const std::string& digits, char sep, int group) {
    std::string out;
    const size_t n = digits.size();
    for (size_t i = 0; i < n; ++i) {
        if (i && (n - i) % static_cast<size_t>(group) == 0) out += sep;
        out += digits[i];
    }
    return out;
}

std::string int_digits(uint64_t mag, char type) {
    if (mag == 0) return "0";
    std::string out;
    const unsigned base = type == 'x' || type == 'X' ? 16 : type == 'o' ? 8 : type == 'b' ? 2 : 10;
    const char* digits = type == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
    while (mag) {
        out.insert(out.begin(), digits[mag % base]);
        mag /= base;
    }
    return out;
}

std::string float_body(double mag, char type, int precision, bool alt) {
    char buf[512];
    if (std::isinf(mag)) return (type >= 'A' && type <= 'Z') ? "INF" : "inf";
    if (std::isnan(mag)) return (type >= 'A' && type <= 'Z') ? "NAN" : "nan";
    const char conv = type == 'F' ? 'f' : type;
    std::string f = alt ? "%#.*" : "%.*";
    f += conv;
    std::snprintf(buf, sizeof buf, f.c_str(), std::min(precision, 300), mag);
    return buf;
}

// Assembles sign, prefix and body with Python's width/fill/alignment rules for numbers.
std::string place_number(const std::string& sign, const std::string& prefix,
                         const std::string& body, size_t width, char align, const std::string& fill,
                         bool zero) {
    if (zero && align == 0) {
        std::string out = sign + prefix;
        const size_t len = utf8::length(out) + utf8::length(body);
        if (width > len) out += std::string(width - len, '0');
        return out + body;
    }
    if (align == '=') {
        std::string out = sign + prefix;
        const size_t len = utf8::length(out) + utf8::length(body);
        for (size_t i = len; i < width; ++i) out += fill;
        return out + body;
    }
    return pad(sign + prefix + body, width, align ? align : '>', fill);
}

Value to_number_for(const Value& v, char type) {
    if (v.is_undefined()) raise_undefined(v);
    if (!v.is_number()) fail("%", type, " format: a real number is required, not ", type_name(v));
    return v;
}

}  // namespace

std::string format_spec(const Value& v, const std::string& spec) {
    if (spec.empty()) return to_str(v);
    // [[fill]align][sign][z][#][0][width][grouping][.precision][type]
    size_t i = 0;
    std::string fill = " ";
    char align = 0;
    auto is_align = [](char c) { return c == '<' || c == '>' || c == '^' || c == '='; };
    {
        size_t j = 0;
        utf8::decode(spec, j);
        if (j < spec.size() && is_align(spec[j])) {
            fill = spec.substr(0, j);
            align = spec[j];
            i = j + 1;
        } else if (is_align(spec[0])) {
            align = spec[0];
            i = 1;
        }
    }
    char sign = '-';
    if (i < spec.size() && (spec[i] == '+' || spec[i] == '-' || spec[i] == ' ')) sign = spec[i++];
    if (i < spec.size() && spec[i] == 'z') ++i;
    bool alt = false, zero = false;
    if (i < spec.size() && spec[i] == '#') alt = true, ++i;
    if (i < spec.size() && spec[i] == '0') zero = true, ++i;
    size_t width = 0;
    while (i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i])))
        width = width * 10 + static_cast<size_t>(spec[i++] - '0');
    char grouping = 0;
    if (i < spec.size() && (spec[i] == ',' || spec[i] == '_')) grouping = spec[i++];
    int precision = -1;
    if (i < spec.size() && spec[i] == '.') {
        ++i;
        precision = 0;
        while (i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i])))
            precision = precision * 10 + (spec[i++] - '0');
    }
    char type = 0;
    if (i < spec.size()) type = spec[i++];
    if (i != spec.size()) fail("Invalid format specifier '", spec, "'");
    if (zero && !align) fill = "0";

    if (v.is_string()) {
        if (type && type != 's') fail("Unknown format code '", type, "' for object of type 'str'");
        std::string s = v.str();
        if (precision >= 0) {
            const auto offs = utf8::offsets(s);
            if (static_cast<size_t>(precision) + 1 < offs.size())
                s = s.substr(0, offs[static_cast<size_t>(precision)]);
        }
        return pad(s, width, align ? align : '<', fill);
    }
    if (!v.is_number()) fail("unsupported format string passed to ", type_name(v), ".__format__");
    auto sign_of = [&](bool negative) -> std::string {
        if (negative) return "-";
        return sign == '+' ? "+" : sign == ' ' ? " " : "";
    };
    const bool int_type = type == 0 || type == 'd' || type == 'b' || type == 'o' || type == 'x' ||
                          type == 'X' || type == 'n' || type == 'c';
    if (v.is_integral() && int_type) {
        if (type == 0 && v.is_bool()) return pad(to_str(v), width, align ? align : '<', fill);
        if (precision >= 0) fail("Precision not allowed in integer format specifier");
        const int64_t x = v.as_int();
        const uint64_t mag = x < 0 ? static_cast<uint64_t>(-(x + 1)) + 1 : static_cast<uint64_t>(x);
        if (type == 'c')
            return pad(std::string(1, static_cast<char>(x)), width, align ? align : '>', fill);
        std::string body = int_digits(mag, type);
        if (grouping)
            body = with_grouping(body, grouping, (type == 0 || type == 'd' || type == 'n') ? 3 : 4);
        std::string prefix;
        if (alt && (type == 'x' || type == 'X' || type == 'o' || type == 'b'))
            prefix = std::string("0") + (type == 'X' ? 'X' : type);
        return place_number(sign_of(x < 0), prefix, body, width, align, fill, zero && !align);
    }
    if (!(type == 0 || type == 'e' || type == 'E' || type == 'f' || type == 'F' || type == 'g' ||
          type == 'G' || type == 'n' || type == '%'))
        fail("Unknown format code '", type, "' for object of type '", type_name(v), "'");
    double d = v.as_double();
    const bool negative = std::signbit(d) && !std::isnan(d);
    double mag = std::fabs(d);
    std::string body;
    if (type == '%') {
        body = float_body(mag * 100, 'f', precision < 0 ? 6 : precision, alt) + "%";
    } else if (type == 0) {
        if (precision < 0) {
            body = format_float(mag);
        } else {
            body = float_body(mag, 'g', precision == 0 ? 1 : precision, alt);
            if (body.find_first_of(".eni") == std::string::npos) body += ".0";
        }
    } else {
        body = float_body(mag, type == 'n' ? 'g' : type, precision < 0 ? 6 : precision, alt);
    }
    if (grouping) {
        const size_t dot = body.find_first_not_of("0123456789");
        body = with_grouping(body.substr(0, dot), grouping, 3) +
               (dot == std::string::npos ? "" : body.substr(dot));
    }
    return place_number(sign_of(negative), "", body, width, align, fill, zero && !align);
}

std::string percent_format(Interp& in, const std::string& fmt, const Value& args) {
    std::vector<Value> items;
    const bool is_tuple = args.is_tuple();
    if (is_tuple)
        items = args.list().items;
    else
        items.push_back(args);
    const bool mapping = args.is_dict();
    size_t next = 0;
    bool used_mapping = false;
    auto take = [&]() -> const Value& {
        if (next >= items.size()) fail("not enough arguments for format string");
        return items[next++];
    };
    std::string out;
    for (size_t i = 0; i < fmt.size(); ++i) {
        if (fmt[i] != '%') {
            out += fmt[i];
            continue;
        }
        const size_t start = i++;
        if (i >= fmt.size()) fail("incomplete format");
        const Value* arg = nullptr;
        Value keyed;
        if (fmt[i] == '(') {
            if (!mapping) fail("format requires a mapping");
            const size_t close = fmt.find(')', i);
            if (close == std::string::npos) fail("incomplete format key");
            const Value* v =
                args.dict_data().find(std::string_view(fmt).substr(i + 1, close - i - 1));
            if (!v) fail("KeyError: '", fmt.substr(i + 1, close - i - 1), "'");
            keyed = *v;
            arg = &keyed;
            used_mapping = true;
            i = close + 1;
        }
        bool left = false, plus = false, space = false, alt = false, zero = false;
        for (; i < fmt.size() && std::string_view("-+ #0").find(fmt[i]) != std::string_view::npos;
             ++i) {
            left |= fmt[i] == '-';
            plus |= fmt[i] == '+';
            space |= fmt[i] == ' ';
            alt |= fmt[i] == '#';
            zero |= fmt[i] == '0';
        }
        size_t width = 0;
        if (i < fmt.size() && fmt[i] == '*') {
            width = static_cast<size_t>(std::max<int64_t>(0, int_arg("%", take(), "* width")));
            ++i;
        }
        while (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i])))
            width = width * 10 + static_cast<size_t>(fmt[i++] - '0');
        int precision = -1;
        if (i < fmt.size() && fmt[i] == '.') {
            ++i;
            precision = 0;
            if (i < fmt.size() && fmt[i] == '*') {
                precision = static_cast<int>(int_arg("%", take(), "* precision"));
                ++i;
            }
            while (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i])))
                precision = precision * 10 + (fmt[i++] - '0');
        }
        while (i < fmt.size() && (fmt[i] == 'h' || fmt[i] == 'l' || fmt[i] == 'L')) ++i;
        if (i >= fmt.size()) fail("incomplete format");
        const char type = fmt[i];
        if (type == '%') {
            out += '%';
            continue;
        }
        const Value& v = arg ? *arg : take();
        const std::string fill = " ";
        const char align = left ? '<' : 0;
        std::string piece;
        switch (type) {
            case 's':
            case 'r':
            case 'a': {
                std::string s = type == 's' ? to_str(v) : repr(v);
                if (precision >= 0) {
                    const auto offs = utf8::offsets(s);
                    if (static_cast<size_t>(precision) + 1 < offs.size())
                        s = s.substr(0, offs[static_cast<size_t>(precision)]);
                }
                piece = pad(s, width, left ? '<' : '>', fill);
                break;
            }
            case 'd':
            case 'i':
            case 'u':
            case 'x':
            case 'X':
            case 'o': {
                const Value n = to_number_for(v, type);
                const double dv = n.as_double();
                if (n.is_float() && (std::isnan(dv) || std::isinf(dv)))
                    fail("cannot convert float to integer");
                const int64_t x = n.is_float() ? static_cast<int64_t>(dv) : n.as_int();
                const uint64_t mag =
                    x < 0 ? static_cast<uint64_t>(-(x + 1)) + 1 : static_cast<uint64_t>(x);
                const char t = (type == 'i' || type == 'u') ? 'd' : type;
                std::string body = int_digits(mag, t);
                if (precision >= 0 && body.size() < static_cast<size_t>(precision))
                    body = std::string(static_cast<size_t>(precision) - body.size(), '0') + body;
                std::string prefix;
                if (alt && t != 'd') prefix = std::string("0") + (t == 'X' ? 'X' : t);
                const std::string sign = x < 0 ? "-" : plus ? "+" : space ? " " : "";
                piece = place_number(sign, prefix, body, width, align, fill, zero && !left);
                break;
            }
            case 'e':
            case 'E':
            case 'f':
            case 'F':
            case 'g':
            case 'G': {
                const double d = to_number_for(v, type).as_double();
                const bool negative = std::signbit(d) && !std::isnan(d);
                const std::string body =
                    float_body(std::fabs(d), type, precision < 0 ? 6 : precision, alt);
                const std::string sign = negative ? "-" : plus ? "+" : space ? " " : "";
                piece = place_number(sign, "", body, width, align, fill,
                                     zero && !left && std::isfinite(d));
                break;
            }
            case 'c': {
                std::string ch;
                if (v.is_integral())
                    utf8::append(ch, static_cast<char32_t>(v.as_int()));
                else if (v.is_string() && utf8::length(v.str()) == 1)
                    ch = v.str();
                else
                    fail("%c requires int or char");
                piece = pad(ch, width, left ? '<' : '>', fill);
                break;
            }
            default:
                fail("unsupported format character '", type, "' (0x",
                     int_digits(static_cast<unsigned char>(type), 'x'), ") at index ", start + 1);
        }
        out += piece;
        in.check_size(out.size());
    }
    // Python skips this check when the argument is subscriptable (a dict, a list, a range).
    const bool subscriptable = mapping || args.is_seq(Seq::List) || args.is_seq(Seq::Range);
    if (!used_mapping && !subscriptable && next < items.size())
        fail("not all arguments converted during string formatting");
    return out;
}

std::string str_format(Interp& in, const std::string& fmt, const Args& args) {
    std::string out;
    size_t auto_index = 0;
    int numbering = 0;  // 0 unknown, 1 automatic, 2 manual
    auto field_value = [&](const std::string& field) -> Value {
        size_t k = 0;
        while (k < field.size() && field[k] != '.' && field[k] != '[') ++k;
        const std::string head = field.substr(0, k);
        Value v;
        if (head.empty() || std::all_of(head.begin(), head.end(), [](char c) {
                return std::isdigit(static_cast<unsigned char>(c));
            })) {
            size_t idx;
            if (head.empty()) {
                if (numbering == 2)
                    fail(
                        "cannot switch from manual field specification to automatic field "
                        "numbering");
                numbering = 1;
                idx = auto_index++;
            } else {
                if (numbering == 1)
                    fail(
                        "cannot switch from automatic field numbering to manual field "
                        "specification");
                numbering = 2;
                int64_t parsed = 0;
                if (!parse_index(head, parsed)) fail("Too many decimal digits in format string");
                idx = static_cast<size_t>(parsed);
            }
            if (idx >= args.pos.size())
                fail("Replacement index ", idx, " out of range for positional args tuple");
            v = args.pos[idx];
        } else {
            const auto it = std::find_if(args.kw.begin(), args.kw.end(),
                                         [&](const auto& kv) { return kv.first == head; });
            if (it == args.kw.end()) fail("KeyError: '", head, "'");
            v = it->second;
        }
        while (k < field.size()) {
            if (field[k] == '.') {
                size_t e = k + 1;
                while (e < field.size() && field[e] != '.' && field[e] != '[') ++e;
                v = getattr(v, field.substr(k + 1, e - k - 1));
                k = e;
            } else {
                const size_t close = field.find(']', k);
                if (close == std::string::npos) fail("Missing ']' in format string");
                const std::string key = field.substr(k + 1, close - k - 1);
                const bool digits = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
                    return std::isdigit(static_cast<unsigned char>(c));
                });
                int64_t index = 0;
                v = getitem(v,
                            digits && parse_index(key, index) ? Value::integer(index) : Value(key));
                k = close + 1;
            }
        }
        return v;
    };
    for (size_t i = 0; i < fmt.size(); ++i) {
        const char c = fmt[i];
        if (c == '}') {
            if (i + 1 < fmt.size() && fmt[i + 1] == '}') {
                out += '}';
                ++i;
                continue;
            }
            fail("Single '}' encountered in format string");
        }
        if (c != '{') {
            out += c;
            continue;
        }
        if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
            out += '{';
            ++i;
            continue;
        }
        // Find the matching '}' (one level of nested fields inside the spec).
        size_t depth = 1, j = i + 1;
        for (; j < fmt.size() && depth; ++j) {
            if (fmt[j] == '{')
                ++depth;
            else if (fmt[j] == '}')
                --depth;
        }
        if (depth) fail("expected '}' before end of string");
        const std::string inner = fmt.substr(i + 1, j - i - 2);
        i = j - 1;
        size_t colon = std::string::npos, bang = std::string::npos;
        for (size_t k = 0, brackets = 0; k < inner.size(); ++k) {
            if (inner[k] == '[')
                ++brackets;
            else if (inner[k] == ']' && brackets)
                --brackets;
            else if (!brackets && inner[k] == '!' && bang == std::string::npos &&
                     colon == std::string::npos)
                bang = k;
            else if (!brackets && inner[k] == ':') {
                colon = k;
                break;
            }
        }
        const std::string field = inner.substr(0, std::min(bang, colon));
        std::string spec = colon == std::string::npos ? "" : inner.substr(colon + 1);
        Value v = field_value(field);
        if (spec.find('{') != std::string::npos) {
            std::string expanded;
            for (size_t k = 0; k < spec.size(); ++k) {
                if (spec[k] != '{') {
                    expanded += spec[k];
                    continue;
                }
                const size_t close = spec.find('}', k);
                if (close == std::string::npos) fail("unmatched '{' in format spec");
                expanded += to_str(field_value(spec.substr(k + 1, close - k - 1)));
                k = close;
            }
            spec = std::move(expanded);
        }
        if (bang != std::string::npos) {
            const std::string conv = inner.substr(
                bang + 1, (colon == std::string::npos ? inner.size() : colon) - bang - 1);
            if (conv == "r" || conv == "a")
                v = Value(repr(v));
            else if (conv == "s")
                v = Value(to_str(v));
            else
                fail("Unknown conversion specifier ", conv);
        }
        out += format_spec(v, spec);
        in.check_size(out.size());
    }
    return out;
}

}  // namespace pangolin::jinja
