// Jinja2's builtin tests (`x is defined`, `x is divisibleby 3`, ...).
#include <unordered_map>

#include "core/error.h"
#include "text/jinja/builtins.h"
#include "text/jinja/utf8.h"

namespace pangolin::jinja {

namespace {

const Value& one_arg(const char* name, const Args& args) {
    if (args.pos.size() + args.kw.size() != 1) fail("test '", name, "' takes exactly one argument");
    return args.pos.empty() ? args.kw[0].second : args.pos[0];
}

void no_args(const char* name, const Args& args) {
    if (!args.pos.empty() || !args.kw.empty()) fail("test '", name, "' takes no arguments");
}

#define SIMPLE_TEST(fn, name, expr)                \
    bool fn(Interp&, const Value& v, Args& args) { \
        no_args(name, args);                       \
        return (expr);                             \
    }

SIMPLE_TEST(t_defined, "defined", !v.is_undefined())
SIMPLE_TEST(t_undefined, "undefined", v.is_undefined())
SIMPLE_TEST(t_none, "none", v.is_none())
SIMPLE_TEST(t_boolean, "boolean", v.is_bool())
SIMPLE_TEST(t_false, "false", v.is_bool() && !v.as_bool())
SIMPLE_TEST(t_true, "true", v.is_bool() && v.as_bool())
SIMPLE_TEST(t_integer, "integer", v.is_int())
SIMPLE_TEST(t_float, "float", v.is_float())
SIMPLE_TEST(t_number, "number", v.is_number())
SIMPLE_TEST(t_string, "string", v.is_string())
SIMPLE_TEST(t_mapping, "mapping", v.is_dict())
SIMPLE_TEST(t_iterable, "iterable", v.is_string() || v.is_list() || v.is_dict() || v.is_undefined())
// len() and [] (a generator or a dict view has no []).
SIMPLE_TEST(t_sequence, "sequence",
            v.is_string() || v.is_list_or_tuple() || v.is_seq(Seq::Range) || v.is_dict() ||
                v.is_undefined())
SIMPLE_TEST(t_callable, "callable", v.is_callable())
SIMPLE_TEST(t_escaped, "escaped", false)

#undef SIMPLE_TEST

bool t_lower(Interp&, const Value& v, Args& args) {
    no_args("lower", args);
    const std::string s = to_str(v);
    bool cased = false;
    for (size_t i = 0; i < s.size();) {
        const char32_t c = utf8::decode(s, i);
        if (utf8::is_upper(c)) return false;
        if (utf8::is_lower(c)) cased = true;
    }
    return cased;
}

bool t_upper(Interp&, const Value& v, Args& args) {
    no_args("upper", args);
    const std::string s = to_str(v);
    bool cased = false;
    for (size_t i = 0; i < s.size();) {
        const char32_t c = utf8::decode(s, i);
        if (utf8::is_lower(c)) return false;
        if (utf8::is_upper(c)) cased = true;
    }
    return cased;
}

bool mod_equals(Interp& in, const Value& v, const Value& divisor, int64_t want) {
    return equal(binop(in, BinOp::Mod, v, divisor), Value::integer(want));
}

bool t_even(Interp& in, const Value& v, Args& args) {
    no_args("even", args);
    return mod_equals(in, v, Value::integer(2), 0);
}
bool t_odd(Interp& in, const Value& v, Args& args) {
    no_args("odd", args);
    return mod_equals(in, v, Value::integer(2), 1);
}
bool t_divisibleby(Interp& in, const Value& v, Args& args) {
    return mod_equals(in, v, one_arg("divisibleby", args), 0);
}
bool t_in(Interp&, const Value& v, Args& args) {
    return contains(one_arg("in", args), v);
}
bool t_eq(Interp&, const Value& v, Args& args) {
    return equal(v, one_arg("eq", args));
}
bool t_ne(Interp&, const Value& v, Args& args) {
    return !equal(v, one_arg("ne", args));
}
bool t_lt(Interp&, const Value& v, Args& args) {
    return compare(v, one_arg("lt", args), CmpOp::Lt);
}
bool t_le(Interp&, const Value& v, Args& args) {
    return compare(v, one_arg("le", args), CmpOp::Le);
}
bool t_gt(Interp&, const Value& v, Args& args) {
    return compare(v, one_arg("gt", args), CmpOp::Gt);
}
bool t_ge(Interp&, const Value& v, Args& args) {
    return compare(v, one_arg("ge", args), CmpOp::Ge);
}

// Python `is`: containers by identity; None, booleans and equal scalars of one type as
// CPython's interning makes them in practice.
bool t_sameas(Interp&, const Value& v, Args& args) {
    const Value& other = one_arg("sameas", args);
    if (v.kind() != other.kind()) return false;
    switch (v.kind()) {
        case Kind::List:
            return &v.list() == &other.list();
        case Kind::Dict:
            return &v.dict_data() == &other.dict_data();
        case Kind::Callable:
            return &v.fn() == &other.fn();
        case Kind::Object:
            return &v.object() == &other.object();
        default:
            return equal(v, other);
    }
}

bool t_filter(Interp&, const Value& v, Args& args) {
    no_args("filter", args);
    return v.is_string() && find_filter(v.str()) != nullptr;
}
bool t_test(Interp&, const Value& v, Args& args) {
    no_args("test", args);
    return v.is_string() && find_test(v.str()) != nullptr;
}

}  // namespace

TestFn find_test(std::string_view name) {
    static const std::unordered_map<std::string_view, TestFn> table = {
        {"defined", t_defined},
        {"undefined", t_undefined},
        {"none", t_none},
        {"boolean", t_boolean},
        {"false", t_false},
        {"true", t_true},
        {"integer", t_integer},
        {"float", t_float},
        {"number", t_number},
        {"string", t_string},
        {"mapping", t_mapping},
        {"iterable", t_iterable},
        {"sequence", t_sequence},
        {"callable", t_callable},
        {"escaped", t_escaped},
        {"lower", t_lower},
        {"upper", t_upper},
        {"even", t_even},
        {"odd", t_odd},
        {"divisibleby", t_divisibleby},
        {"in", t_in},
        {"eq", t_eq},
        {"equalto", t_eq},
        {"==", t_eq},
        {"ne", t_ne},
        {"!=", t_ne},
        {"lt", t_lt},
        {"lessthan", t_lt},
        {"<", t_lt},
        {"le", t_le},
        {"<=", t_le},
        {"gt", t_gt},
        {"greaterthan", t_gt},
        {">", t_gt},
        {"ge", t_ge},
        {">=", t_ge},
        {"sameas", t_sameas},
        {"filter", t_filter},
        {"test", t_test},
    };
    const auto it = table.find(name);
    return it == table.end() ? nullptr : it->second;
}

}  // namespace pangolin::jinja
