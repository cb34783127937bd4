// Python's operators, item/attribute lookup and slicing, as Jinja2's sandbox applies them.
#include <charconv>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "text/jinja/builtins.h"
#include "text/jinja/utf8.h"

namespace pangolin::jinja {

namespace {

const char* op_symbol(BinOp op) {
    switch (op) {
        case BinOp::Add:
            return "+";
        case BinOp::Sub:
            return "-";
        case BinOp::Mul:
            return "*";
        case BinOp::Div:
            return "/";
        case BinOp::FloorDiv:
            return "//";
        case BinOp::Mod:
            return "%";
        case BinOp::Pow:
            return "** or pow()";
        default:
            return "~";
    }
}

[[noreturn]] void unsupported(BinOp op, const Value& a, const Value& b) {
    fail("unsupported operand type(s) for ", op_symbol(op), ": '", type_name(a), "' and '",
         type_name(b), "'");
}

[[noreturn]] void overflow() {
    fail("integer result does not fit in 64 bits");
}

int64_t int_pow(int64_t base, int64_t exp) {
    int64_t result = 1;
    while (exp > 0) {
        if (exp & 1)
            if (__builtin_mul_overflow(result, base, &result)) overflow();
        exp >>= 1;
        if (exp > 0 && __builtin_mul_overflow(base, base, &base)) overflow();
    }
    return result;
}

Value repeat_string(Interp& in, const std::string& s, int64_t n) {
    if (n <= 0 || s.empty()) return Value(std::string());
    if (static_cast<uint64_t>(n) > std::numeric_limits<size_t>::max() / s.size())
        in.check_size(SIZE_MAX);
    in.check_size(s.size() * static_cast<size_t>(n));
    std::string out;
    out.reserve(s.size() * static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out += s;
    return Value(std::move(out));
}

Value repeat_list(Interp& in, const ListData& l, int64_t n) {
    std::vector<Value> items;
    if (n > 0 && !l.items.empty()) {
        if (static_cast<uint64_t>(n) > (uint64_t{1} << 40) / l.items.size())
            in.check_size(SIZE_MAX);
        in.check_size(l.items.size() * static_cast<size_t>(n) * sizeof(Value));
        for (int64_t i = 0; i < n; ++i) items.insert(items.end(), l.items.begin(), l.items.end());
    }
    return Value::sequence(l.seq, std::move(items));
}

// CPython's float floor division and modulo.
void float_divmod(double vx, double wx, double& floordiv, double& mod) {
    mod = std::fmod(vx, wx);
    double div = (vx - mod) / wx;
    if (mod != 0) {
        if ((wx < 0) != (mod < 0)) {
            mod += wx;
            div -= 1.0;
        }
    } else {
        mod = std::copysign(0.0, wx);
    }
    if (div != 0) {
        floordiv = std::floor(div);
        if (div - floordiv > 0.5) floordiv += 1.0;
    } else {
        floordiv = std::copysign(0.0, vx / wx);
    }
}

Value arith(BinOp op, const Value& a, const Value& b) {
    const bool use_float = a.is_float() || b.is_float();
    if (!use_float) {
        const int64_t x = a.as_int(), y = b.as_int();
        int64_t r = 0;
        switch (op) {
            case BinOp::Add:
                if (__builtin_add_overflow(x, y, &r)) overflow();
                return Value::integer(r);
            case BinOp::Sub:
                if (__builtin_sub_overflow(x, y, &r)) overflow();
                return Value::integer(r);
            case BinOp::Mul:
                if (__builtin_mul_overflow(x, y, &r)) overflow();
                return Value::integer(r);
            case BinOp::Div:
                if (y == 0) fail("division by zero");
                return Value::number(static_cast<double>(x) / static_cast<double>(y));
            case BinOp::FloorDiv: {
                if (y == 0) fail("integer division or modulo by zero");
                if (x == INT64_MIN && y == -1) overflow();
                int64_t q = x / y;
                if (x % y != 0 && ((x < 0) != (y < 0))) --q;
                return Value::integer(q);
            }
            case BinOp::Mod: {
                if (y == 0) fail("integer modulo by zero");
                if (y == -1) return Value::integer(0);
                int64_t m = x % y;
                if (m != 0 && ((m < 0) != (y < 0))) m += y;
                return Value::integer(m);
            }
            case BinOp::Pow:
                if (y >= 0) return Value::integer(int_pow(x, y));
                if (x == 0) fail("0.0 cannot be raised to a negative power");
                return Value::number(std::pow(static_cast<double>(x), static_cast<double>(y)));
            default:
                break;
        }
    }
    const double x = a.as_double(), y = b.as_double();
    double fd = 0, md = 0;
    switch (op) {
        case BinOp::Add:
            return Value::number(x + y);
        case BinOp::Sub:
            return Value::number(x - y);
        case BinOp::Mul:
            return Value::number(x * y);
        case BinOp::Div:
            if (y == 0) fail("float division by zero");
            return Value::number(x / y);
        case BinOp::FloorDiv:
            if (y == 0) fail("float floor division by zero");
            float_divmod(x, y, fd, md);
            return Value::number(fd);
        case BinOp::Mod:
            if (y == 0) fail("float modulo");
            float_divmod(x, y, fd, md);
            return Value::number(md);
        case BinOp::Pow:
            if (x == 0 && y < 0) fail("0.0 cannot be raised to a negative power");
            if (x < 0 && y != std::floor(y))
                fail(
                    "complex numbers are not supported (negative number raised to a fractional "
                    "power)");
            return Value::number(std::pow(x, y));
        default:
            unsupported(op, a, b);
    }
}

struct SliceRange {
    int64_t start, stop, step, count;  // stop: the clamped stop index, for range slices
};

SliceRange adjust_slice(int64_t len, const Value& start_v, const Value& stop_v,
                        const Value& step_v) {
    auto index = [](const Value& v) {
        if (!v.is_integral())
            fail("slice indices must be integers or None or have an __index__ method");
        return v.as_int();
    };
    const int64_t step = step_v.is_none() ? 1 : index(step_v);
    if (step == 0) fail("slice step cannot be zero");
    auto clamp = [&](const Value& v, bool is_start) -> int64_t {
        if (v.is_none()) return step < 0 ? (is_start ? len - 1 : -1) : (is_start ? 0 : len);
        int64_t i = index(v);
        if (i < 0) {
            i += len;
            if (i < 0) i = step < 0 ? -1 : 0;
        } else if (i >= len) {
            i = step < 0 ? len - 1 : len;
        }
        return i;
    };
    const int64_t start = clamp(start_v, true), stop = clamp(stop_v, false);
    int64_t count = 0;
    if (step < 0) {
        if (stop < start) count = (start - stop - 1) / (-step) + 1;
    } else if (start < stop) {
        count = (stop - start - 1) / step + 1;
    }
    return {start, stop, step, count};
}

Value missing(const Value& obj, const Value& key) {
    if (key.is_string())
        return Value::undefined("'" + object_type_repr(obj) + "' has no attribute '" + key.str() +
                                "'");
    return Value::undefined(object_type_repr(obj) + " has no element " + repr(key));
}

}  // namespace

Value binop(Interp& in, BinOp op, const Value& a, const Value& b) {
    if (a.is_undefined()) raise_undefined(a);
    if (b.is_undefined()) raise_undefined(b);
    if (a.is_number() && b.is_number()) return arith(op, a, b);
    switch (op) {
        case BinOp::Add:
            if (a.is_string() && b.is_string()) {
                in.check_size(a.str().size() + b.str().size());
                return Value(a.str() + b.str());
            }
            if (a.is_string()) fail("can only concatenate str (not \"", type_name(b), "\") to str");
            if (a.is_list_or_tuple() && b.is_list_or_tuple() && a.is_tuple() == b.is_tuple()) {
                std::vector<Value> items = a.list().items;
                in.check_size((items.size() + b.list().items.size()) * sizeof(Value));
                items.insert(items.end(), b.list().items.begin(), b.list().items.end());
                return a.is_tuple() ? Value::tuple(std::move(items))
                                    : Value::list(std::move(items));
            }
            if (a.is_list_or_tuple())
                fail("can only concatenate ", type_name(a), " (not \"", type_name(b), "\") to ",
                     type_name(a));
            break;
        case BinOp::Mul:
            if (a.is_string() && b.is_integral()) return repeat_string(in, a.str(), b.as_int());
            if (b.is_string() && a.is_integral()) return repeat_string(in, b.str(), a.as_int());
            if (a.is_list_or_tuple() && b.is_integral())
                return repeat_list(in, a.list(), b.as_int());
            if (b.is_list_or_tuple() && a.is_integral())
                return repeat_list(in, b.list(), a.as_int());
            if (a.is_string() || a.is_list_or_tuple())
                fail("can't multiply sequence by non-int of type '", type_name(b), "'");
            break;
        case BinOp::Mod:
            if (a.is_string()) return Value(percent_format(in, a.str(), b));
            break;
        default:
            break;
    }
    unsupported(op, a, b);
}

Value negate(const Value& v, bool minus) {
    if (v.is_undefined()) raise_undefined(v);
    if (v.is_float()) return Value::number(minus ? -v.as_double() : v.as_double());
    if (v.is_integral()) {
        if (minus && v.as_int() == INT64_MIN) fail("integer result does not fit in 64 bits");
        return Value::integer(minus ? -v.as_int() : v.as_int());
    }
    fail("bad operand type for unary ", minus ? "-" : "+", ": '", type_name(v), "'");
}

bool contains(const Value& container, const Value& item) {
    switch (container.kind()) {
        case Kind::String:
            if (!item.is_string())
                fail("'in <string>' requires string as left operand, not ", type_name(item));
            return container.str().find(item.str()) != std::string::npos;
        case Kind::List:
            for (const auto& x : iterate(container))
                if (equal(x, item)) return true;
            return false;
        case Kind::Dict:
            if (unhashable(item)) fail("unhashable type: '", type_name(item), "'");
            return container.dict_data().find(item) != nullptr;
        case Kind::Undefined:
            return false;
        default:
            fail("argument of type '", type_name(container), "' is not iterable");
    }
}

Value getattr(const Value& obj, const std::string& name) {
    Value out;
    switch (obj.kind()) {
        case Kind::Undefined:
            raise_undefined(obj);
        case Kind::Dict:
            if (find_method(obj, name, out)) return out;
            if (const Value* v = obj.dict_data().find(std::string_view(name))) return *v;
            break;
        case Kind::String:
        case Kind::List:
            if (find_method(obj, name, out)) return out;
            break;
        case Kind::Object:
            if (const Value* v = obj.object().find(name)) return *v;
            if (find_method(obj, name, out)) return out;
            break;
        default:
            break;
    }
    return missing(obj, Value(name));
}

Value getitem(const Value& obj, const Value& key) {
    switch (obj.kind()) {
        case Kind::Undefined:
            raise_undefined(obj);
        case Kind::Dict:
            if (!unhashable(key))
                if (const Value* v = obj.dict_data().find(key)) return *v;
            break;
        case Kind::List:  // generators and dict views are not subscriptable
            if (key.is_integral() && (obj.is_list_or_tuple() || obj.is_seq(Seq::Range))) {
                const auto& items = obj.list().items;
                int64_t i = key.as_int();
                const auto n = static_cast<int64_t>(items.size());
                if (i < 0) i += n;
                if (i >= 0 && i < n) return items[static_cast<size_t>(i)];
            }
            break;
        case Kind::String:
            if (key.is_integral()) {
                const std::string& s = obj.str();
                int64_t i = key.as_int();
                if (utf8::is_ascii(s)) {
                    const auto n = static_cast<int64_t>(s.size());
                    if (i < 0) i += n;
                    if (i >= 0 && i < n) return Value(std::string(1, s[static_cast<size_t>(i)]));
                } else {
                    const auto offs = utf8::offsets(s);
                    const auto n = static_cast<int64_t>(offs.size()) - 1;
                    if (i < 0) i += n;
                    if (i >= 0 && i < n) {
                        const auto k = static_cast<size_t>(i);
                        return Value(s.substr(offs[k], offs[k + 1] - offs[k]));
                    }
                }
            }
            break;
        default:
            break;
    }
    if (key.is_string()) return getattr(obj, key.str());
    return missing(obj, key);
}

Value slice(Interp& in, const Value& obj, const Value& start, const Value& stop,
            const Value& step) {
    // Jinja2 slices with Python's [] directly (not its forgiving getitem): errors propagate.
    if (obj.is_undefined()) raise_undefined(obj);
    if (obj.is_dict()) fail("unhashable type: 'slice'");
    if (!obj.is_string() && !obj.is_list_or_tuple() && !obj.is_seq(Seq::Range))
        fail("'", type_name(obj), "' object is not subscriptable");
    if (obj.is_list()) {
        const auto& items = obj.list().items;
        const SliceRange r = adjust_slice(static_cast<int64_t>(items.size()), start, stop, step);
        std::vector<Value> out;
        out.reserve(static_cast<size_t>(r.count));
        for (int64_t k = 0, i = r.start; k < r.count; ++k, i += r.step)
            out.push_back(items[static_cast<size_t>(i)]);
        Value result = Value::sequence(obj.list().seq, std::move(out));
        if (obj.is_seq(Seq::Range)) {  // range(a, b, s)[i:j:k] is range(a + i*s, a + j*s, s*k)
            const ListData& src = obj.list();
            ListData& dst = result.list();
            dst.range_start = src.range_start + r.start * src.range_step;
            dst.range_stop = src.range_start + r.stop * src.range_step;
            dst.range_step = src.range_step * r.step;
        }
        return result;
    }
    const std::string& s = obj.str();
    const bool ascii = utf8::is_ascii(s);
    std::vector<size_t> offs;
    if (!ascii) offs = utf8::offsets(s);
    const int64_t len =
        ascii ? static_cast<int64_t>(s.size()) : static_cast<int64_t>(offs.size()) - 1;
    const SliceRange r = adjust_slice(len, start, stop, step);
    std::string out;
    if (r.step == 1 && r.count > 0) {
        const auto b = static_cast<size_t>(r.start), e = static_cast<size_t>(r.start + r.count);
        out = ascii ? s.substr(b, e - b) : s.substr(offs[b], offs[e] - offs[b]);
    } else {
        for (int64_t k = 0, i = r.start; k < r.count; ++k, i += r.step) {
            const auto u = static_cast<size_t>(i);
            if (ascii)
                out += s[u];
            else
                out.append(s, offs[u], offs[u + 1] - offs[u]);
        }
    }
    in.check_size(out.size());
    return Value(std::move(out));
}

bool parse_index(std::string_view digits, int64_t& out) {
    const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), out);
    return r.ec == std::errc() && r.ptr == digits.data() + digits.size();
}

std::vector<std::string> chars(const std::string& s) {
    std::vector<std::string> out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        const size_t start = i;
        utf8::decode(s, i);
        out.emplace_back(s.substr(start, i - start));
    }
    return out;
}

std::vector<Value> iterate(const Value& v) {
    switch (v.kind()) {
        case Kind::Undefined:
            return {};
        case Kind::List:
            if (!v.list().pending_error.empty()) fail(v.list().pending_error);
            return v.list().items;
        case Kind::Dict: {
            std::vector<Value> keys;
            keys.reserve(v.dict_data().items.size());
            for (const auto& [k, x] : v.dict_data().items) keys.push_back(k);
            return keys;
        }
        case Kind::String: {
            std::vector<Value> out;
            for (auto& c : chars(v.str())) out.emplace_back(std::move(c));
            return out;
        }
        default:
            fail("'", type_name(v), "' object is not iterable");
    }
}

}  // namespace pangolin::jinja
