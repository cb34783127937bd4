// Internal to the Jinja engine: Python's operators on values, attribute and item lookup,
// and the tables of builtin filters, tests, methods and global functions.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "text/jinja/ast.h"
#include "text/jinja/interp.h"
#include "text/jinja/value.h"

namespace pangolin::jinja {

// ---- ops.cpp: Python operators ----
Value binop(Interp& in, BinOp op, const Value& a, const Value& b);
Value negate(const Value& v, bool minus);
bool contains(const Value& container, const Value& item);  // `item in container`
// x.name: methods of str/list/dict first, then items (Jinja's getattr order).
Value getattr(const Value& obj, const std::string& name);
// x[key]: items first, then attributes for string keys (Jinja's getitem order).
Value getitem(const Value& obj, const Value& key);
Value slice(Interp& in, const Value& obj, const Value& start, const Value& stop, const Value& step);
// The items a for loop or a filter sees: list items, dict keys, string code points.
std::vector<Value> iterate(const Value& v);
// Decimal digits to an index; false when they do not fit in int64.
bool parse_index(std::string_view digits, int64_t& out);
// The code points of a string as one-character strings.
std::vector<std::string> chars(const std::string& s);

// ---- methods.cpp: str, list and dict methods as bound callables ----
bool find_method(const Value& obj, const std::string& name, Value& out);
// Python str.replace(old, new, count); count < 0 replaces all.
std::string py_replace(Interp& in, const std::string& s, const std::string& old,
                       const std::string& repl, int64_t count);

// ---- filters.cpp / tests.cpp / globals.cpp ----
using FilterFn = Value (*)(Interp&, Value&, Args&);
using TestFn = bool (*)(Interp&, const Value&, Args&);
FilterFn find_filter(std::string_view name);
FilterFn find_sequence_filter(std::string_view name);  // filters_seq.cpp
TestFn find_test(std::string_view name);
const Value* find_global(std::string_view name);

// ---- format.cpp ----
// Python's printf-style `fmt % args` (args: a tuple, a dict for %(name)s, or one value).
std::string percent_format(Interp& in, const std::string& fmt, const Value& args);
// Python's str.format(*args, **kwargs).
std::string str_format(Interp& in, const std::string& fmt, const Args& args);
// Python's format(value, spec) for one replacement field.
std::string format_spec(const Value& v, const std::string& spec);

// Binds builtin arguments Python-style: positionals first, then keywords by name.
class Params {
  public:
    Params(std::string_view fn, const Args& args, std::initializer_list<const char*> names);
    bool has(size_t i) const { return given_[i]; }
    const Value& need(size_t i) const;  // fails "fn() missing required argument 'name'"
    const Value& get(size_t i) const { return values_[i]; }
    Value get_or(size_t i, Value fallback) const {
        return given_[i] ? values_[i] : std::move(fallback);
    }

  private:
    std::vector<Value> values_;
    std::vector<bool> given_;
    std::string fn_;
    std::vector<const char*> names_;
};

// Typed argument access with Python-like TypeErrors naming the function.
int64_t int_arg(std::string_view fn, const Value& v, const char* what);
std::string str_arg(std::string_view fn, const Value& v, const char* what);

}  // namespace pangolin::jinja
