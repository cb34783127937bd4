#include "text/json_matcher.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace pangolin::json_grammar {

namespace {

enum RootPhase : uint8_t { k_root_before = 0, k_root_done = 1 };
enum ObjectPhase : uint8_t {
    k_obj_open = 0,      // after '{': a key or '}'
    k_obj_key = 1,       // after ',': a key
    k_obj_colon = 2,     // after a key: ':'
    k_obj_value = 3,     // after ':': a value
    k_obj_in_value = 4,  // the value's frame is above
    k_obj_after = 5,     // after a value: ',' or '}'
};
enum ArrayPhase : uint8_t { k_arr_open = 0, k_arr_value = 1, k_arr_in_value = 2, k_arr_after = 3 };
enum StringPhase : uint8_t {
    k_str_body = 0,
    k_str_escape = 1,       // after '\'
    k_str_unicode = 2,      // \u digits
    k_str_low_slash = 3,    // after a high surrogate: '\' of the low one
    k_str_low_u = 4,        // its 'u'
    k_str_low_unicode = 5,  // its digits, DC00-DFFF
};
enum NumberPhase : uint8_t {
    k_num_start = 0,
    k_num_sign = 1,  // after '-'
    k_num_zero = 2,  // integer part "0"
    k_num_int = 3,   // integer part 1-9 digits…
    k_num_dot = 4,
    k_num_frac = 5,
    k_num_exp = 6,  // after 'e'
    k_num_exp_sign = 7,
    k_num_exp_digits = 8,
};

constexpr int k_max_int_digits = 15;  // exact in a double
constexpr int k_max_frac_digits = 9;
constexpr int k_max_exp_digits = 2;
constexpr double k_grid = 1e-9;  // spacing of the numbers with k_max_frac_digits

bool is_ws(uint8_t c) {
    return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}
bool is_digit(uint8_t c) {
    return c >= '0' && c <= '9';
}
int hex_value(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void push(Stack& s, const Frame& frame, LinkArena& arena) {
    s.below = arena.push(s.top, s.below);
    s.top = frame;
    ++s.depth;
}

// The value on top is complete: pop it and move its parent past the value.
void complete_value(Stack& s) {
    s.top = s.below->frame;
    s.below = s.below->below;
    --s.depth;
    if (s.top.kind == FrameKind::Object) {
        s.top.phase = k_obj_after;
    } else if (s.top.kind == FrameKind::Array) {
        ++s.top.n;
        s.top.phase = k_arr_after;
    }
}

// Narrows candidates [lo, hi) of a sorted set sharing their first `pos` bytes to those whose
// next byte is `c`; false when none is.
bool narrow(const std::vector<std::string>& set, uint32_t& lo, uint32_t& hi, uint32_t pos,
            uint8_t c) {
    uint32_t a = lo;
    while (a < hi && (set[a].size() <= pos || static_cast<uint8_t>(set[a][pos]) < c)) ++a;
    uint32_t b = a;
    while (b < hi && set[b].size() > pos && static_cast<uint8_t>(set[b][pos]) == c) ++b;
    if (a == b) return false;
    lo = a, hi = b;
    return true;
}

}  // namespace

const Link* LinkArena::push(const Frame& frame, const Link* below) {
    if (chunk_ == chunks_.size()) chunks_.push_back(std::make_unique<Link[]>(k_chunk));
    Link* link = &chunks_[chunk_][used_];
    link->frame = frame;
    link->below = below;
    if (++used_ == k_chunk) ++chunk_, used_ = 0;
    return link;
}

bool utf8_step(Frame& f, uint8_t c, bool& starts_char) {
    if (f.utf8_need) {
        if (c < f.utf8_lo || c > f.utf8_hi) return false;
        --f.utf8_need;
        f.utf8_lo = 0x80, f.utf8_hi = 0xBF;
        starts_char = false;
        return true;
    }
    starts_char = true;
    if (c < 0x80) return true;
    if (c >= 0xC2 && c <= 0xDF) {
        f.utf8_need = 1;
    } else if (c == 0xE0) {
        f.utf8_need = 2, f.utf8_lo = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
        f.utf8_need = 2;
    } else if (c == 0xED) {
        f.utf8_need = 2, f.utf8_hi = 0x9F;  // no UTF-16 surrogates
    } else if (c == 0xF0) {
        f.utf8_need = 3, f.utf8_lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
        f.utf8_need = 3;
    } else if (c == 0xF4) {
        f.utf8_need = 3, f.utf8_hi = 0x8F;  // up to U+10FFFF
    } else {
        return false;
    }
    return true;
}

int Matcher::utf8_class(const Frame& f) {
    switch (f.utf8_need) {
        case 0:
            return 0;
        case 1:
            return 1;
        case 2:
            return f.utf8_lo == 0xA0 ? 3 : f.utf8_hi == 0x9F ? 4 : 2;
        default:
            return f.utf8_lo == 0x90 ? 6 : f.utf8_hi == 0x8F ? 7 : 5;
    }
}

void utf8_class_state(int k, Frame& f) {
    static constexpr uint8_t need[8] = {0, 1, 2, 2, 2, 3, 3, 3};
    static constexpr uint8_t lo[8] = {0x80, 0x80, 0x80, 0xA0, 0x80, 0x80, 0x90, 0x80};
    static constexpr uint8_t hi[8] = {0xBF, 0xBF, 0xBF, 0xBF, 0x9F, 0xBF, 0xBF, 0x8F};
    f.utf8_need = need[k], f.utf8_lo = lo[k], f.utf8_hi = hi[k];
}

Matcher::Matcher(const Grammar& grammar, MatcherOptions options)
    : grammar_(grammar), options_(options) {}

Stack Matcher::initial() const {
    Stack s;
    s.top.kind = FrameKind::Root;
    s.top.phase = k_root_before;
    return s;
}

bool Matcher::take_whitespace(Stack& s) const {
    if (s.ws >= options_.max_whitespace) return false;
    ++s.ws;
    return true;
}

bool Matcher::key_possible(const Frame& object, const Node& node) const {
    if (node.additional != k_no_node) return true;
    const size_t n = node.properties.size();
    const uint64_t all = n == 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1;
    return (object.n & all) != all;
}

std::optional<uint64_t> Matcher::plain_string_room(const Stack& s) const {
    if (s.top.kind == FrameKind::String && s.top.phase == k_str_body) {
        const Node& node = grammar_.nodes[static_cast<size_t>(s.top.node)];
        return node.max_length - s.top.n;
    }
    if (s.top.kind == FrameKind::Key && s.top.flag) return UINT64_MAX;
    return std::nullopt;
}

void Matcher::start_value(Stack s, int32_t id, uint8_t c, LinkArena& arena,
                          std::vector<Stack>& out) const {
    const Node& node = grammar_.nodes[static_cast<size_t>(id)];
    if (!node.any_of.empty()) {
        for (const int32_t alt : node.any_of) start_value(s, alt, c, arena, out);
        return;
    }
    Frame f;
    f.node = id;
    if (node.literals >= 0 || ((c == 't' || c == 'f') && (node.types & k_boolean)) ||
        (c == 'n' && (node.types & k_null))) {
        f.kind = FrameKind::Literal;
        f.node = node.literals >= 0 ? node.literals : c == 'n' ? k_null_literals : k_bool_literals;
        f.hi = static_cast<uint32_t>(grammar_.literal_sets[static_cast<size_t>(f.node)].size());
        push(s, f, arena);
        advance(s, c, arena, out);
        return;
    }
    if (c == '"' && (node.types & k_string)) {
        f.kind = FrameKind::String;
    } else if (c == '{' && (node.types & k_object) && s.depth < options_.max_depth) {
        f.kind = FrameKind::Object;
    } else if (c == '[' && (node.types & k_array) && s.depth < options_.max_depth) {
        f.kind = FrameKind::Array;
    } else if ((c == '-' || is_digit(c)) && (node.types & (k_integer | k_number))) {
        f.kind = FrameKind::Number;
        f.phase = k_num_start;
        push(s, f, arena);
        advance(s, c, arena, out);
        return;
    } else {
        return;
    }
    push(s, f, arena);
    out.push_back(s);
}

void Matcher::advance(Stack s, uint8_t c, LinkArena& arena, std::vector<Stack>& out) const {
    for (;;) {
        Frame& f = s.top;
        switch (f.kind) {
            case FrameKind::Root:
                if (is_ws(c)) {
                    if (take_whitespace(s)) out.push_back(s);
                    return;
                }
                if (f.phase == k_root_done) return;
                s.ws = 0;
                f.phase = k_root_done;
                start_value(s, grammar_.root, c, arena, out);
                return;
            case FrameKind::Object:
                advance_object(s, c, arena, out);
                return;
            case FrameKind::Key:
                advance_key(s, c, out);
                return;
            case FrameKind::Array:
                advance_array(s, c, arena, out);
                return;
            case FrameKind::String:
                advance_string(s, c, out);
                return;
            case FrameKind::Literal: {
                const auto& set = grammar_.literal_sets[static_cast<size_t>(f.node)];
                if (narrow(set, f.lo, f.hi, f.pos, c)) {
                    ++f.pos;
                    out.push_back(s);
                    return;
                }
                if (set[f.lo].size() != f.pos) return;
                complete_value(s);
                continue;  // `c` follows the literal
            }
            case FrameKind::Number: {
                bool dead = false;
                if (advance_number(s, c, out, dead) || dead) return;
                continue;  // `c` follows the number
            }
        }
    }
}

void Matcher::advance_object(Stack& s, uint8_t c, LinkArena& arena, std::vector<Stack>& out) const {
    Frame& f = s.top;
    const Node& node = grammar_.nodes[static_cast<size_t>(f.node)];
    if (is_ws(c)) {
        if (f.phase != k_obj_in_value && take_whitespace(s)) out.push_back(s);
        return;
    }
    s.ws = 0;
    const auto start_key = [&] {
        if (!key_possible(f, node)) return;
        Frame key;
        key.kind = FrameKind::Key;
        key.node = f.node;
        key.hi = static_cast<uint32_t>(node.properties.size());
        key.flag = node.additional != k_no_node;
        push(s, key, arena);
        out.push_back(s);
    };
    switch (f.phase) {
        case k_obj_open:
            if (c == '"') return start_key();
            if (c == '}' && node.required == 0) {
                complete_value(s);
                out.push_back(s);
            }
            return;
        case k_obj_key:
            if (c == '"') start_key();
            return;
        case k_obj_colon:
            if (c == ':') {
                f.phase = k_obj_value;
                out.push_back(s);
            }
            return;
        case k_obj_value: {
            f.phase = k_obj_in_value;
            const int32_t value =
                f.prop == k_extra_key ? node.additional : node.properties[f.prop].node;
            start_value(s, value, c, arena, out);
            return;
        }
        case k_obj_after:
            if (c == ',' && key_possible(f, node)) {
                f.phase = k_obj_key;
                out.push_back(s);
            } else if (c == '}' && (f.n & node.required) == node.required) {
                complete_value(s);
                out.push_back(s);
            }
            return;
        default:
            return;
    }
}

// Two tracks at once: the declared property names (exact bytes, each at most once) and, when
// the object allows extra keys, any string without escapes. A key spelled like a declared
// property is that property.
void Matcher::advance_key(Stack& s, uint8_t c, std::vector<Stack>& out) const {
    Frame& f = s.top;
    const Node& node = grammar_.nodes[static_cast<size_t>(f.node)];
    const uint64_t seen = s.below->frame.n;
    const auto& props = node.properties;
    const auto unseen_in = [&](uint32_t lo, uint32_t hi) {
        for (uint32_t k = lo; k < hi; ++k)
            if (!(seen >> k & 1)) return true;
        return false;
    };
    // Narrow the declared names by `c`.
    uint32_t lo = f.lo, hi = f.hi, a = lo;
    while (a < hi &&
           (props[a].key.size() <= f.pos || static_cast<uint8_t>(props[a].key[f.pos]) < c))
        ++a;
    uint32_t b = a;
    while (b < hi && props[b].key.size() > f.pos && static_cast<uint8_t>(props[b].key[f.pos]) == c)
        ++b;
    const auto finish_key = [&](uint32_t prop) {
        s.top = s.below->frame;
        s.below = s.below->below;
        --s.depth;
        s.top.prop = prop;
        if (prop != k_extra_key) s.top.n |= uint64_t{1} << prop;
        s.top.phase = k_obj_colon;
        out.push_back(s);
    };
    if (c == '"') {
        for (uint32_t k = a; k < b; ++k) {
            if (props[k].key.size() != f.pos + 1) continue;
            if (!(seen >> k & 1)) finish_key(k);
            return;  // a declared name, seen already: a duplicate
        }
        if (a < b && unseen_in(a, b)) {  // '"' inside a name, escaped
            f.lo = a, f.hi = b, f.flag = false;
            ++f.pos;
            out.push_back(s);
            return;
        }
        if (f.flag && f.utf8_need == 0) finish_key(k_extra_key);
        return;
    }
    bool starts_char = false;
    const bool extra = f.flag && c != '\\' && c >= 0x20 && utf8_step(f, c, starts_char);
    const bool declared = a < b && unseen_in(a, b);
    if (!extra && !declared) return;
    f.flag = extra;
    if (declared)
        f.lo = a, f.hi = b;
    else
        f.lo = f.hi = 0;
    ++f.pos;
    out.push_back(s);
}

void Matcher::advance_array(Stack& s, uint8_t c, LinkArena& arena, std::vector<Stack>& out) const {
    Frame& f = s.top;
    const Node& node = grammar_.nodes[static_cast<size_t>(f.node)];
    if (is_ws(c)) {
        if (f.phase != k_arr_in_value && take_whitespace(s)) out.push_back(s);
        return;
    }
    s.ws = 0;
    switch (f.phase) {
        case k_arr_open:
            if (c == ']') {
                if (node.min_items == 0) {
                    complete_value(s);
                    out.push_back(s);
                }
                return;
            }
            if (node.max_items == 0) return;
            [[fallthrough]];
        case k_arr_value:
            f.phase = k_arr_in_value;
            start_value(s, node.items, c, arena, out);
            return;
        case k_arr_after:
            if (c == ',' && f.n < node.max_items) {
                f.phase = k_arr_value;
                out.push_back(s);
            } else if (c == ']' && f.n >= node.min_items) {
                complete_value(s);
                out.push_back(s);
            }
            return;
        default:
            return;
    }
}

void Matcher::advance_string(Stack& s, uint8_t c, std::vector<Stack>& out) const {
    Frame& f = s.top;
    const Node& node = grammar_.nodes[static_cast<size_t>(f.node)];
    switch (f.phase) {
        case k_str_body: {
            if (f.utf8_need == 0) {
                if (c == '"') {
                    if (f.n < node.min_length) return;
                    complete_value(s);
                    out.push_back(s);
                    return;
                }
                if (c == '\\') {
                    if (f.n >= node.max_length) return;
                    f.phase = k_str_escape;
                    out.push_back(s);
                    return;
                }
                if (c < 0x20) return;
            }
            bool starts_char = false;
            if (!utf8_step(f, c, starts_char)) return;
            if (starts_char) {
                if (f.n >= node.max_length) return;
                ++f.n;
            }
            out.push_back(s);
            return;
        }
        case k_str_escape:
            if (c == 'u') {
                f.phase = k_str_unicode;
                f.pos = 0, f.escape = 0;
            } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' ||
                       c == 'r' || c == 't') {
                ++f.n;
                f.phase = k_str_body;
            } else {
                return;
            }
            out.push_back(s);
            return;
        case k_str_unicode:
        case k_str_low_unicode: {
            const int h = hex_value(c);
            if (h < 0) return;
            const bool low = f.phase == k_str_low_unicode;
            f.escape = static_cast<uint16_t>(f.escape * 16 + h);
            ++f.pos;
            if (low && f.pos == 1 && h != 0xD) return;
            if (f.pos == 2) {
                const bool low_range = f.escape >= 0xDC && f.escape <= 0xDF;
                if (low != low_range) return;  // a low surrogate only right after a high one
            }
            if (f.pos == 4) {
                if (low) {
                    f.phase = k_str_body;
                } else {
                    ++f.n;  // a surrogate pair is one code point
                    f.phase =
                        (f.escape >= 0xD800 && f.escape <= 0xDBFF) ? k_str_low_slash : k_str_body;
                }
            }
            out.push_back(s);
            return;
        }
        case k_str_low_slash:
            if (c != '\\') return;
            f.phase = k_str_low_u;
            out.push_back(s);
            return;
        case k_str_low_u:
            if (c != 'u') return;
            f.phase = k_str_low_unicode;
            f.pos = 0, f.escape = 0;
            out.push_back(s);
            return;
        default:
            return;
    }
}

bool Matcher::advance_number(Stack& s, uint8_t c, std::vector<Stack>& out, bool& dead) const {
    Frame& f = s.top;
    const Node& node = grammar_.nodes[static_cast<size_t>(f.node)];
    const bool integer_only = !(node.types & k_number);
    const bool fraction_ok = !integer_only;
    const bool exponent_ok = !integer_only && !node.bounded();
    const int d = c - '0';
    const auto ends_here = [&] {
        const bool terminal = f.phase == k_num_zero || f.phase == k_num_int ||
                              f.phase == k_num_frac || f.phase == k_num_exp_digits;
        if (!terminal || !number_valid(f, node)) {
            dead = true;
            return false;
        }
        complete_value(s);
        return false;
    };
    const auto to = [&](NumberPhase phase) {
        f.phase = phase;
        if (node.bounded() && !number_feasible(f, node)) {
            dead = true;
            return true;
        }
        out.push_back(s);
        return true;
    };
    switch (f.phase) {
        case k_num_start:
            if (c == '-') {
                f.flag = true;
                return to(k_num_sign);
            }
            [[fallthrough]];
        case k_num_sign:
            if (!is_digit(c)) break;
            f.digits = 1;
            f.n = static_cast<uint64_t>(d);
            return to(d == 0 ? k_num_zero : k_num_int);
        case k_num_zero:
        case k_num_int:
            if (is_digit(c)) {
                if (f.phase == k_num_zero || f.digits >= k_max_int_digits) break;
                ++f.digits;
                f.n = f.n * 10 + static_cast<uint64_t>(d);
                return to(k_num_int);
            }
            if (c == '.' && fraction_ok) return to(k_num_dot);
            if ((c == 'e' || c == 'E') && exponent_ok) return to(k_num_exp);
            return ends_here();
        case k_num_dot:
        case k_num_frac:
            if (is_digit(c)) {
                if (f.frac_digits >= k_max_frac_digits) break;
                ++f.frac_digits;
                f.frac = f.frac * 10 + static_cast<uint64_t>(d);
                return to(k_num_frac);
            }
            if (f.phase == k_num_dot) break;
            if ((c == 'e' || c == 'E') && exponent_ok) return to(k_num_exp);
            return ends_here();
        case k_num_exp:
            if (c == '+' || c == '-') return to(k_num_exp_sign);
            [[fallthrough]];
        case k_num_exp_sign:
        case k_num_exp_digits:
            if (is_digit(c)) {
                if (f.exp_digits >= k_max_exp_digits) break;
                ++f.exp_digits;
                return to(k_num_exp_digits);
            }
            if (f.phase != k_num_exp_digits) break;
            return ends_here();
        default:
            break;
    }
    dead = true;
    return true;
}

// Whether some number this prefix can still become lies within the node's bounds. Reachable
// magnitudes form intervals on the grid of the numbers we write: integer part v with j more
// digits gives [v·10^j, (v+1)·10^j), a fraction f over k digits gives [v + f/10^k, v + (f+1)/10^k).
bool Matcher::number_feasible(const Frame& f, const Node& node) const {
    const bool integer_only = !(node.types & k_number);
    const double step = integer_only ? 1 : k_grid;
    const auto hits = [&](double a, double b) {  // magnitudes [a, b], closed
        const double lo = f.flag ? -b : a, hi = f.flag ? -a : b;
        if (integer_only)
            return std::max(lo, static_cast<double>(node.int_min)) <=
                   std::min(hi, static_cast<double>(node.int_max));
        double l = lo, u = hi;
        bool l_open = false, u_open = false;
        if (node.has_min && node.minimum >= l) l = node.minimum, l_open = node.exclusive_min;
        if (node.has_max && node.maximum <= u) u = node.maximum, u_open = node.exclusive_max;
        return l < u || (l == u && !l_open && !u_open);
    };
    const double v = static_cast<double>(f.n);
    switch (f.phase) {
        case k_num_sign:
            return hits(0, 1e15 - step);
        case k_num_zero:
            return hits(0, integer_only ? 0 : 1 - step);
        case k_num_int: {
            double scale = 1;
            for (int digits = f.digits; digits <= k_max_int_digits; ++digits, scale *= 10)
                if (hits(v * scale, (v + 1) * scale - step)) return true;
            return false;
        }
        case k_num_dot:
            return hits(v, v + 1 - step);
        case k_num_frac: {
            const double p = std::pow(10.0, f.frac_digits);
            const double a = v + static_cast<double>(f.frac) / p;
            const double b = f.frac_digits == k_max_frac_digits
                                 ? a
                                 : v + static_cast<double>(f.frac + 1) / p - step;
            return hits(a, b);
        }
        default:
            return true;
    }
}

// The finished number against the bounds, as the JSON parser will read it.
bool Matcher::number_valid(const Frame& f, const Node& node) const {
    if (!node.bounded()) return true;
    if (!(node.types & k_number)) {
        const auto v = static_cast<int64_t>(f.n) * (f.flag ? -1 : 1);
        return v >= node.int_min && v <= node.int_max;
    }
    char text[48];
    if (f.frac_digits)
        std::snprintf(text, sizeof text, "%s%llu.%0*llu", f.flag ? "-" : "",
                      static_cast<unsigned long long>(f.n), static_cast<int>(f.frac_digits),
                      static_cast<unsigned long long>(f.frac));
    else
        std::snprintf(text, sizeof text, "%s%llu", f.flag ? "-" : "",
                      static_cast<unsigned long long>(f.n));
    const double x = std::strtod(text, nullptr);
    if (node.has_min && (node.exclusive_min ? x <= node.minimum : x < node.minimum)) return false;
    if (node.has_max && (node.exclusive_max ? x >= node.maximum : x > node.maximum)) return false;
    return true;
}

bool Matcher::can_end(Stack s) const {
    for (;;) {
        const Frame& f = s.top;
        switch (f.kind) {
            case FrameKind::Root:
                return f.phase == k_root_done;
            case FrameKind::Number: {
                const Node& node = grammar_.nodes[static_cast<size_t>(f.node)];
                const bool terminal = f.phase == k_num_zero || f.phase == k_num_int ||
                                      f.phase == k_num_frac || f.phase == k_num_exp_digits;
                if (!terminal || !number_valid(f, node)) return false;
                complete_value(s);
                continue;
            }
            case FrameKind::Literal:
                if (grammar_.literal_sets[static_cast<size_t>(f.node)][f.lo].size() != f.pos)
                    return false;
                complete_value(s);
                continue;
            default:
                return false;
        }
    }
}

}  // namespace pangolin::json_grammar
