// The values a Jinja template computes with, following Python's semantics as Jinja2 exposes
// them: undefined, None, bool, int (int64), float (double), str (UTF-8), sequences (list, tuple,
// and the lazy kinds Python hands templates: generators from filters such as map/select,
// range, dict views) and dict (insertion-ordered) by reference, callables (macros, builtins,
// bound methods) and objects (namespace, loop, cycler, joiner).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace pangolin::jinja {

class Interp;
struct ListData;
struct DictData;
struct CallableData;
struct ObjectData;
struct Args;

// A missing value. `hint` is the message raised when the value is used in a way undefined
// values refuse ("'foo' is undefined", "'dict object' has no attribute 'x'").
struct Undefined {
    std::string hint;
};
struct None {};

enum class Kind : uint8_t {
    Undefined,
    None,
    Bool,
    Int,
    Float,
    String,
    List,
    Dict,
    Callable,
    Object
};

// What Python type a Kind::List value stands for. They iterate alike; they differ in printing,
// truthiness (a generator is always true), len(), indexing and JSON (only list/tuple).
enum class Seq : uint8_t { List, Tuple, Generator, Range, DictKeys, DictValues, DictItems };

struct Value {
    std::variant<Undefined, None, bool, int64_t, double, std::string, std::shared_ptr<ListData>,
                 std::shared_ptr<DictData>, std::shared_ptr<CallableData>,
                 std::shared_ptr<ObjectData>>
        v;

    Value() = default;  // undefined
    Value(std::string s) : v(std::move(s)) {}
    Value(const char* s) : v(std::string(s)) {}

    static Value undefined(std::string hint = {});
    static Value none();
    static Value boolean(bool b);
    static Value integer(int64_t i);
    static Value number(double d);
    static Value list(std::vector<Value> items);
    static Value tuple(std::vector<Value> items);
    static Value sequence(Seq seq, std::vector<Value> items);
    static Value dict();
    static Value dict(std::shared_ptr<DictData> d);
    static Value callable(std::string name, std::function<Value(Interp&, Args&)> fn);

    Kind kind() const { return static_cast<Kind>(v.index()); }
    bool is_undefined() const { return kind() == Kind::Undefined; }
    bool is_none() const { return kind() == Kind::None; }
    bool is_bool() const { return kind() == Kind::Bool; }
    bool is_int() const { return kind() == Kind::Int; }
    bool is_float() const { return kind() == Kind::Float; }
    bool is_string() const { return kind() == Kind::String; }
    bool is_list() const { return kind() == Kind::List; }  // any Seq
    bool is_dict() const { return kind() == Kind::Dict; }
    bool is_callable() const;
    bool is_object() const { return kind() == Kind::Object; }
    bool is_tuple() const { return is_seq(Seq::Tuple); }
    bool is_seq(Seq s) const;
    // list or tuple: indexable, sliceable, JSON-serializable.
    bool is_list_or_tuple() const { return is_seq(Seq::List) || is_seq(Seq::Tuple); }
    // Python's numbers: bool is an int subclass.
    bool is_integral() const { return is_int() || is_bool(); }
    bool is_number() const { return is_integral() || is_float(); }

    bool as_bool() const { return std::get<bool>(v); }
    int64_t as_int() const;    // int or bool
    double as_double() const;  // any number
    const std::string& str() const { return std::get<std::string>(v); }
    std::string& str() { return std::get<std::string>(v); }
    const Undefined& undef() const { return std::get<Undefined>(v); }
    ListData& list() const { return *std::get<std::shared_ptr<ListData>>(v); }
    DictData& dict_data() const { return *std::get<std::shared_ptr<DictData>>(v); }
    CallableData& fn() const { return *std::get<std::shared_ptr<CallableData>>(v); }
    ObjectData& object() const { return *std::get<std::shared_ptr<ObjectData>>(v); }
};

struct Args {
    std::vector<Value> pos;
    std::vector<std::pair<std::string, Value>> kw;
};

using NativeFn = std::function<Value(Interp&, Args&)>;

struct ListData {
    std::vector<Value> items;
    Seq seq = Seq::List;
    int64_t range_start = 0, range_stop = 0, range_step = 1;  // Seq::Range, for printing
    // Seq::Generator: the error Python would raise once the generator is iterated.
    std::string pending_error;
    ~ListData();
};

struct DictData {
    std::vector<std::pair<Value, Value>> items;  // insertion order, like Python dicts
    ~DictData();

    const Value* find(const Value& key) const;
    const Value* find(std::string_view key) const;
    void set(Value key, Value value);  // replaces an equal key in place or appends
};

struct CallableData {
    std::string name;
    NativeFn fn;
};

struct ObjectData {
    enum class Type { Namespace, Loop, Cycler, Joiner };
    Type type;
    std::vector<std::pair<std::string, Value>> attrs;
    NativeFn call;  // set when the object itself is callable (a recursive loop)
    ~ObjectData();

    const Value* find(std::string_view name) const;
    void set(std::string_view name, Value value);
};

// Python's unhashable types (list, dict, dict views): not usable as dict keys.
bool unhashable(const Value& v);

// Python truthiness.
bool truthy(const Value& v);
// Python ==, with Jinja's rule that undefined equals only undefined.
bool equal(const Value& a, const Value& b);
enum class CmpOp { Lt, Le, Gt, Ge };
// Python's ordering comparisons; TypeError-style Error for unorderable operands.
bool compare(const Value& a, const Value& b, CmpOp op);

// Python str() and repr().
std::string to_str(const Value& v);
std::string repr(const Value& v);
// Python's float repr: shortest round-trip digits, "1.0", "1e-05", "1e+16", "inf", "nan".
std::string format_float(double d);
// Python's type name for error messages: "str", "int", "NoneType", "list", "Undefined", ...
std::string type_name(const Value& v);
// Jinja's object_type_repr, used in undefined hints: "dict object", "None", "list object".
std::string object_type_repr(const Value& v);

// Raises the error an undefined value carries (Jinja's UndefinedError).
[[noreturn]] void raise_undefined(const Value& v);

}  // namespace pangolin::jinja
