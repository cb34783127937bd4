#include "text/jinja/value.h"

#include <locale.h>
#include <wctype.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "text/jinja/utf8.h"

namespace pangolin::jinja {

namespace {

// Nesting beyond this is refused rather than recursed into (Python raises RecursionError).
constexpr int k_max_nesting = 512;

void check_nesting(int depth) {
    if (depth > k_max_nesting) fail("value nested more than ", k_max_nesting, " levels deep");
}

// Moves children that would die with their parent onto `stack`, so that destroying a deeply
// nested value never recurses (a template can build a list chain 100000 levels deep).
void take_unique(Value& v, std::vector<Value>& stack) {
    switch (v.kind()) {
        case Kind::List:
        case Kind::Dict:
        case Kind::Object:
            stack.push_back(std::move(v));
            break;
        default:
            break;
    }
}

template <typename Ptr>
bool unique(const Value& v) {
    return std::get<Ptr>(v.v).use_count() == 1;
}

void dismantle(std::vector<Value>& stack) {
    while (!stack.empty()) {
        Value v = std::move(stack.back());
        stack.pop_back();
        if (v.is_list() && unique<std::shared_ptr<ListData>>(v)) {
            for (auto& c : v.list().items) take_unique(c, stack);
        } else if (v.is_dict() && unique<std::shared_ptr<DictData>>(v)) {
            for (auto& [k, c] : v.dict_data().items) take_unique(c, stack);
        } else if (v.is_object() && unique<std::shared_ptr<ObjectData>>(v)) {
            for (auto& [k, c] : v.object().attrs) take_unique(c, stack);
        }
    }
}

bool non_printable(char32_t c) {
    if (c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0xA0) || c == 0xAD) return true;
    if (c == 0x1680 || (c >= 0x2000 && c <= 0x200F) || (c >= 0x2028 && c <= 0x202F) ||
        (c >= 0x205F && c <= 0x206F) || c == 0x3000 || c == 0xFEFF ||
        (c >= 0xD800 && c <= 0xF8FF) || (c >= 0xFFF9 && c <= 0xFFFB) || c >= 0xF0000)
        return true;
    static locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    return loc && !iswprint_l(static_cast<wint_t>(c), loc);
}

void repr_string(std::string& out, const std::string& s) {
    const bool has_single = s.find('\'') != std::string::npos;
    const bool has_double = s.find('"') != std::string::npos;
    const char quote = (has_single && !has_double) ? '"' : '\'';
    out += quote;
    char buf[16];
    for (size_t i = 0; i < s.size();) {
        const char32_t c = utf8::decode(s, i);
        if (c == static_cast<char32_t>(quote) || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c >= 0x20 && c < 0x7F) {
            out += static_cast<char>(c);
        } else if (!non_printable(c)) {
            utf8::append(out, c);
        } else {
            if (c <= 0xFF)
                std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
            else if (c <= 0xFFFF)
                std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
            else
                std::snprintf(buf, sizeof buf, "\\U%08x", static_cast<unsigned>(c));
            out += buf;
        }
    }
    out += quote;
}

struct Printer {
    std::vector<const void*> active;  // containers being printed, for "[...]" on cycles

    bool enter(const void* p) {
        if (std::find(active.begin(), active.end(), p) != active.end()) return false;
        active.push_back(p);
        check_nesting(static_cast<int>(active.size()));
        return true;
    }

    void repr(std::string& out, const Value& v) {
        switch (v.kind()) {
            case Kind::Undefined:
                out += "Undefined";
                return;
            case Kind::String:
                repr_string(out, v.str());
                return;
            case Kind::List: {
                const ListData& l = v.list();
                const bool tuple = l.seq == Seq::Tuple;
                switch (l.seq) {
                    case Seq::Generator:
                        out += "<generator object>";
                        return;
                    case Seq::Range:
                        out += "range(" + std::to_string(l.range_start) + ", " +
                               std::to_string(l.range_stop);
                        if (l.range_step != 1) out += ", " + std::to_string(l.range_step);
                        out += ')';
                        return;
                    case Seq::DictKeys:
                        out += "dict_keys(";
                        break;
                    case Seq::DictValues:
                        out += "dict_values(";
                        break;
                    case Seq::DictItems:
                        out += "dict_items(";
                        break;
                    default:
                        break;
                }
                const bool view = l.seq != Seq::List && l.seq != Seq::Tuple;
                if (!enter(&l)) {
                    out += tuple ? "(...)" : "[...]";
                    return;
                }
                out += tuple ? '(' : '[';
                for (size_t i = 0; i < l.items.size(); ++i) {
                    if (i) out += ", ";
                    repr(out, l.items[i]);
                }
                if (tuple && l.items.size() == 1) out += ',';
                out += tuple ? ')' : ']';
                if (view) out += ')';
                active.pop_back();
                return;
            }
            case Kind::Dict: {
                const DictData& d = v.dict_data();
                if (!enter(&d)) {
                    out += "{...}";
                    return;
                }
                out += '{';
                for (size_t i = 0; i < d.items.size(); ++i) {
                    if (i) out += ", ";
                    repr(out, d.items[i].first);
                    out += ": ";
                    repr(out, d.items[i].second);
                }
                out += '}';
                active.pop_back();
                return;
            }
            default:
                str(out, v);
                return;
        }
    }

    void str(std::string& out, const Value& v) {
        switch (v.kind()) {
            case Kind::Undefined:
                return;
            case Kind::None:
                out += "None";
                return;
            case Kind::Bool:
                out += v.as_bool() ? "True" : "False";
                return;
            case Kind::Int:
                out += std::to_string(v.as_int());
                return;
            case Kind::Float:
                out += format_float(v.as_double());
                return;
            case Kind::String:
                out += v.str();
                return;
            case Kind::List:
            case Kind::Dict:
                repr(out, v);
                return;
            case Kind::Callable:
                out += "<function " + v.fn().name + ">";
                return;
            case Kind::Object: {
                const ObjectData& o = v.object();
                if (o.type == ObjectData::Type::Namespace) {
                    if (!enter(&o)) {
                        out += "<Namespace {...}>";
                        return;
                    }
                    out += "<Namespace {";
                    for (size_t i = 0; i < o.attrs.size(); ++i) {
                        if (i) out += ", ";
                        repr_string(out, o.attrs[i].first);
                        out += ": ";
                        repr(out, o.attrs[i].second);
                    }
                    out += "}>";
                    active.pop_back();
                } else if (o.type == ObjectData::Type::Loop) {
                    const Value* index = o.find("index");
                    const Value* length = o.find("length");
                    out += "<LoopContext " + (index ? to_str(*index) : "?") + "/" +
                           (length ? to_str(*length) : "?") + ">";
                } else {
                    out += o.type == ObjectData::Type::Cycler ? "<Cycler>" : "<Joiner>";
                }
                return;
            }
        }
    }
};

bool equal_at(const Value& a, const Value& b, int depth) {
    check_nesting(depth);
    if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
        return a.as_int() == b.as_int();
    }
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
        case Kind::Undefined:
        case Kind::None:
            return true;
        case Kind::String:
            return a.str() == b.str();
        case Kind::List: {
            const ListData &x = a.list(), &y = b.list();
            if (&x == &y) return true;
            if (x.seq != y.seq || x.items.size() != y.items.size()) return false;
            if (x.seq == Seq::Generator || x.seq == Seq::DictValues) return false;  // identity
            if (x.seq == Seq::DictKeys || x.seq == Seq::DictItems) {                // set equality
                for (const auto& item : x.items) {
                    bool found = false;
                    for (const auto& other : y.items)
                        if ((found = equal_at(item, other, depth + 1))) break;
                    if (!found) return false;
                }
                return true;
            }
            for (size_t i = 0; i < x.items.size(); ++i)
                if (!equal_at(x.items[i], y.items[i], depth + 1)) return false;
            return true;
        }
        case Kind::Dict: {
            const DictData &x = a.dict_data(), &y = b.dict_data();
            if (&x == &y) return true;
            if (x.items.size() != y.items.size()) return false;
            for (const auto& [k, val] : x.items) {
                const Value* other = y.find(k);
                if (!other || !equal_at(val, *other, depth + 1)) return false;
            }
            return true;
        }
        case Kind::Callable:
            return &a.fn() == &b.fn();
        case Kind::Object:
            return &a.object() == &b.object();
        default:
            return false;
    }
}

const char* op_text(CmpOp op) {
    switch (op) {
        case CmpOp::Lt:
            return "<";
        case CmpOp::Le:
            return "<=";
        case CmpOp::Gt:
            return ">";
        default:
            return ">=";
    }
}

template <typename T>
bool apply(const T& a, const T& b, CmpOp op) {
    switch (op) {
        case CmpOp::Lt:
            return a < b;
        case CmpOp::Le:
            return a <= b;
        case CmpOp::Gt:
            return a > b;
        default:
            return a >= b;
    }
}

bool compare_at(const Value& a, const Value& b, CmpOp op, int depth) {
    check_nesting(depth);
    if (a.is_undefined()) raise_undefined(a);
    if (b.is_undefined()) raise_undefined(b);
    if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) return apply(a.as_double(), b.as_double(), op);
        return apply(a.as_int(), b.as_int(), op);
    }
    if (a.is_string() && b.is_string()) return apply(a.str(), b.str(), op);
    if (a.is_list_or_tuple() && b.is_list_or_tuple() && a.is_tuple() == b.is_tuple()) {
        const auto &x = a.list().items, &y = b.list().items;
        const size_t n = std::min(x.size(), y.size());
        for (size_t i = 0; i < n; ++i)
            if (!equal_at(x[i], y[i], depth + 1)) return compare_at(x[i], y[i], op, depth + 1);
        return apply(x.size(), y.size(), op);
    }
    fail("'", op_text(op), "' not supported between instances of '", type_name(a), "' and '",
         type_name(b), "'");
}

}  // namespace

Value Value::undefined(std::string hint) {
    Value v;
    v.v = Undefined{std::move(hint)};
    return v;
}
Value Value::none() {
    Value v;
    v.v = None{};
    return v;
}
Value Value::boolean(bool b) {
    Value v;
    v.v = b;
    return v;
}
Value Value::integer(int64_t i) {
    Value v;
    v.v = i;
    return v;
}
Value Value::number(double d) {
    Value v;
    v.v = d;
    return v;
}
Value Value::list(std::vector<Value> items) {
    auto l = std::make_shared<ListData>();
    l->items = std::move(items);
    Value v;
    v.v = std::move(l);
    return v;
}
Value Value::tuple(std::vector<Value> items) {
    return sequence(Seq::Tuple, std::move(items));
}
Value Value::sequence(Seq seq, std::vector<Value> items) {
    Value v = list(std::move(items));
    v.list().seq = seq;
    return v;
}
Value Value::dict() {
    return dict(std::make_shared<DictData>());
}
Value Value::dict(std::shared_ptr<DictData> d) {
    Value v;
    v.v = std::move(d);
    return v;
}
Value Value::callable(std::string name, NativeFn fn) {
    auto c = std::make_shared<CallableData>();
    c->name = std::move(name);
    c->fn = std::move(fn);
    Value v;
    v.v = std::move(c);
    return v;
}

bool Value::is_callable() const {
    return kind() == Kind::Callable || (kind() == Kind::Object && object().call);
}
bool Value::is_seq(Seq s) const {
    return is_list() && list().seq == s;
}

bool unhashable(const Value& v) {
    if (v.is_dict()) return true;
    if (!v.is_list()) return false;
    const Seq s = v.list().seq;
    return s == Seq::List || s == Seq::DictKeys || s == Seq::DictValues || s == Seq::DictItems;
}
int64_t Value::as_int() const {
    return is_bool() ? (as_bool() ? 1 : 0) : std::get<int64_t>(v);
}
double Value::as_double() const {
    return is_float() ? std::get<double>(v) : static_cast<double>(as_int());
}

ListData::~ListData() {
    std::vector<Value> stack;
    for (auto& c : items) take_unique(c, stack);
    dismantle(stack);
}

DictData::~DictData() {
    std::vector<Value> stack;
    for (auto& [k, c] : items) take_unique(c, stack);
    dismantle(stack);
}

ObjectData::~ObjectData() {
    std::vector<Value> stack;
    for (auto& [k, c] : attrs) take_unique(c, stack);
    dismantle(stack);
}

const Value* DictData::find(const Value& key) const {
    if (key.is_string()) return find(std::string_view(key.str()));
    for (const auto& [k, v] : items)
        if (equal(k, key)) return &v;
    return nullptr;
}

const Value* DictData::find(std::string_view key) const {
    for (const auto& [k, v] : items)
        if (k.is_string() && k.str() == key) return &v;
    return nullptr;
}

void DictData::set(Value key, Value value) {
    for (auto& [k, v] : items) {
        if (equal(k, key)) {
            v = std::move(value);
            return;
        }
    }
    items.emplace_back(std::move(key), std::move(value));
}

const Value* ObjectData::find(std::string_view name) const {
    for (const auto& [k, v] : attrs)
        if (k == name) return &v;
    return nullptr;
}

void ObjectData::set(std::string_view name, Value value) {
    for (auto& [k, v] : attrs) {
        if (k == name) {
            v = std::move(value);
            return;
        }
    }
    attrs.emplace_back(std::string(name), std::move(value));
}

bool truthy(const Value& v) {
    switch (v.kind()) {
        case Kind::Undefined:
        case Kind::None:
            return false;
        case Kind::Bool:
            return v.as_bool();
        case Kind::Int:
            return v.as_int() != 0;
        case Kind::Float:
            return v.as_double() != 0.0;
        case Kind::String:
            return !v.str().empty();
        case Kind::List:  // a generator is true even when it will yield nothing
            return v.list().seq == Seq::Generator || !v.list().items.empty();
        case Kind::Dict:
            return !v.dict_data().items.empty();
        default:
            return true;
    }
}

bool equal(const Value& a, const Value& b) {
    return equal_at(a, b, 0);
}

bool compare(const Value& a, const Value& b, CmpOp op) {
    return compare_at(a, b, op, 0);
}

std::string to_str(const Value& v) {
    if (v.is_string()) return v.str();
    std::string out;
    Printer().str(out, v);
    return out;
}

std::string repr(const Value& v) {
    std::string out;
    Printer().repr(out, v);
    return out;
}

std::string format_float(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
    if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    const std::string sci(buf, res.ptr);  // "-1.2345e+16": shortest round-trip digits
    std::string out;
    size_t i = 0;
    if (sci[0] == '-') {
        out += '-';
        i = 1;
    }
    const size_t e = sci.find('e');
    std::string digits;
    for (size_t k = i; k < e; ++k)
        if (sci[k] != '.') digits += sci[k];
    const int exp10 = std::stoi(sci.substr(e + 1));
    const int decpt = exp10 + 1;  // digits are d.ddd × 10^exp10
    const int n = static_cast<int>(digits.size());
    if (decpt <= -4 || decpt > 16) {
        out += digits[0];
        if (n > 1) out += "." + digits.substr(1);
        char eb[16];
        std::snprintf(eb, sizeof eb, "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
        out += eb;
    } else if (decpt <= 0) {
        out += "0." + std::string(static_cast<size_t>(-decpt), '0') + digits;
    } else if (decpt >= n) {
        out += digits + std::string(static_cast<size_t>(decpt - n), '0') + ".0";
    } else {
        out += digits.substr(0, static_cast<size_t>(decpt)) + "." +
               digits.substr(static_cast<size_t>(decpt));
    }
    return out;
}

std::string type_name(const Value& v) {
    switch (v.kind()) {
        case Kind::Undefined:
            return "Undefined";
        case Kind::None:
            return "NoneType";
        case Kind::Bool:
            return "bool";
        case Kind::Int:
            return "int";
        case Kind::Float:
            return "float";
        case Kind::String:
            return "str";
        case Kind::List:
            switch (v.list().seq) {
                case Seq::Tuple:
                    return "tuple";
                case Seq::Generator:
                    return "generator";
                case Seq::Range:
                    return "range";
                case Seq::DictKeys:
                    return "dict_keys";
                case Seq::DictValues:
                    return "dict_values";
                case Seq::DictItems:
                    return "dict_items";
                default:
                    return "list";
            }
        case Kind::Dict:
            return "dict";
        case Kind::Callable:
            return "function";
        case Kind::Object:
            switch (v.object().type) {
                case ObjectData::Type::Namespace:
                    return "Namespace";
                case ObjectData::Type::Loop:
                    return "LoopContext";
                case ObjectData::Type::Cycler:
                    return "Cycler";
                default:
                    return "Joiner";
            }
    }
    return "object";
}

std::string object_type_repr(const Value& v) {
    if (v.is_none()) return "None";
    return type_name(v) + " object";
}

void raise_undefined(const Value& v) {
    const std::string& hint = v.is_undefined() ? v.undef().hint : std::string();
    fail(hint.empty() ? std::string("undefined value") : hint);
}

}  // namespace pangolin::jinja
