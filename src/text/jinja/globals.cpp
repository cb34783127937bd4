// Global functions a template can call: Jinja2's range, dict, namespace, cycler, joiner, and
// Hugging Face's raise_exception and strftime_now.
#include <ctime>
#include <unordered_map>

#include "core/error.h"
#include "text/jinja/builtins.h"

namespace pangolin::jinja {

namespace {

// Jinja's sandbox refuses ranges longer than this (MAX_RANGE).
constexpr int64_t k_max_range = 100000;

Value g_range(Interp& in, Args& args) {
    if (!args.kw.empty()) fail("range() takes no keyword arguments");
    if (args.pos.empty() || args.pos.size() > 3)
        fail("range expected at least 1 argument, got ", args.pos.size());
    for (const Value& v : args.pos) {
        if (v.is_undefined()) raise_undefined(v);
        if (!v.is_integral())
            fail("'", type_name(v), "' object cannot be interpreted as an integer");
    }
    int64_t start = 0, stop, step = 1;
    if (args.pos.size() == 1) {
        stop = args.pos[0].as_int();
    } else {
        start = args.pos[0].as_int();
        stop = args.pos[1].as_int();
        if (args.pos.size() == 3) step = args.pos[2].as_int();
    }
    if (step == 0) fail("range() arg 3 must not be zero");
    // Unsigned differences cannot overflow: the count of range(start, stop, step).
    uint64_t count = 0;
    if (step > 0 && stop > start) {
        count = (static_cast<uint64_t>(stop) - static_cast<uint64_t>(start) - 1) /
                    static_cast<uint64_t>(step) +
                1;
    } else if (step < 0 && start > stop) {
        const uint64_t mag = uint64_t{0} - static_cast<uint64_t>(step);
        count = (static_cast<uint64_t>(start) - static_cast<uint64_t>(stop) - 1) / mag + 1;
    }
    if (count > static_cast<uint64_t>(k_max_range))
        fail("Range too big. The sandbox blocks ranges larger than MAX_RANGE (", k_max_range, ").");
    in.check_size(static_cast<size_t>(count) * sizeof(Value));
    std::vector<Value> out;
    out.reserve(static_cast<size_t>(count));
    for (int64_t i = 0, v = start; i < static_cast<int64_t>(count); ++i, v += step)
        out.push_back(Value::integer(v));
    Value r = Value::sequence(Seq::Range, std::move(out));
    r.list().range_start = start;
    r.list().range_stop = stop;
    r.list().range_step = step;
    return r;
}

// dict(mapping or iterable of pairs, **kwargs) into an existing dict.
void fill_dict(DictData& d, const char* fn, Args& args) {
    if (args.pos.size() > 1) fail(fn, " expected at most 1 argument, got ", args.pos.size());
    if (!args.pos.empty()) {
        const Value& src = args.pos[0];
        if (src.is_dict()) {
            for (const auto& [k, v] : src.dict_data().items) d.set(k, v);
        } else {
            size_t i = 0;
            for (const Value& pair : iterate(src)) {
                std::vector<Value> kv = iterate(pair);
                if (kv.size() != 2)
                    fail("dictionary update sequence element #", i, " has length ", kv.size(),
                         "; 2 is required");
                d.set(kv[0], kv[1]);
                ++i;
            }
        }
    }
    for (auto& [k, v] : args.kw) d.set(Value(k), v);
}

Value g_dict(Interp&, Args& args) {
    Value d = Value::dict();
    fill_dict(d.dict_data(), "dict", args);
    return d;
}

Value g_namespace(Interp& in, Args& args) {
    DictData d;
    fill_dict(d, "namespace", args);
    auto ns = std::make_shared<ObjectData>();
    ns->type = ObjectData::Type::Namespace;
    for (auto& [k, v] : d.items) {
        if (!k.is_string()) fail("namespace attribute names must be strings");
        ns->set(k.str(), v);
    }
    Value out;
    out.v = std::move(ns);
    in.track(out);
    return out;
}

Value g_raise_exception(Interp&, Args& args) {
    Params p("raise_exception", args, {"message"});
    throw RaisedError(to_str(p.get(0)));
}

Value g_strftime_now(Interp& in, Args& args) {
    Params p("strftime_now", args, {"format"});
    const std::string fmt = str_arg("strftime_now", p.need(0), "format");
    if (fmt.empty()) return Value(std::string());
    std::vector<char> buf(fmt.size() * 8 + 64);
    while (true) {
        const size_t n = std::strftime(buf.data(), buf.size(), fmt.c_str(), &in.now());
        if (n > 0) return Value(std::string(buf.data(), n));
        if (buf.size() > fmt.size() * 64 + 4096) return Value(std::string());  // empty expansion
        buf.resize(buf.size() * 2);
    }
}

Value g_cycler(Interp& in, Args& args) {
    if (!args.kw.empty()) fail("cycler() takes no keyword arguments");
    auto c = std::make_shared<ObjectData>();
    c->type = ObjectData::Type::Cycler;
    c->set("items", Value::list(args.pos));
    c->set("pos", Value::integer(0));
    c->set("current", args.pos.empty() ? Value::none() : args.pos[0]);
    Value out;
    out.v = std::move(c);
    in.track(out);
    return out;
}

Value g_joiner(Interp&, Args& args) {
    Params p("joiner", args, {"sep"});
    const std::string sep = p.has(0) ? to_str(p.get(0)) : ", ";
    auto used = std::make_shared<bool>(false);
    return Value::callable("joiner", [sep, used](Interp&, Args&) -> Value {
        if (!*used) {
            *used = true;
            return Value(std::string());
        }
        return Value(sep);
    });
}

}  // namespace

const Value* find_global(std::string_view name) {
    static const std::unordered_map<std::string_view, Value> table = {
        {"range", Value::callable("range", g_range)},
        {"dict", Value::callable("dict", g_dict)},
        {"namespace", Value::callable("namespace", g_namespace)},
        {"raise_exception", Value::callable("raise_exception", g_raise_exception)},
        {"strftime_now", Value::callable("strftime_now", g_strftime_now)},
        {"cycler", Value::callable("cycler", g_cycler)},
        {"joiner", Value::callable("joiner", g_joiner)},
    };
    const auto it = table.find(name);
    return it == table.end() ? nullptr : &it->second;
}

// ---- argument binding ----

Params::Params(std::string_view fn, const Args& args, std::initializer_list<const char*> names)
    : fn_(fn), names_(names.begin(), names.end()) {
    const size_t n = names_.size();
    values_.assign(n, Value());
    given_.assign(n, false);
    if (args.pos.size() > n)
        fail(fn, "() takes at most ", n, " argument", n == 1 ? "" : "s", " (", args.pos.size(),
             " given)");
    for (size_t i = 0; i < args.pos.size(); ++i) {
        values_[i] = args.pos[i];
        given_[i] = true;
    }
    for (const auto& [k, v] : args.kw) {
        size_t i = 0;
        while (i < n && k != names_[i]) ++i;
        if (i == n) fail(fn, "() got an unexpected keyword argument '", k, "'");
        if (given_[i]) fail(fn, "() got multiple values for argument '", k, "'");
        values_[i] = v;
        given_[i] = true;
    }
}

const Value& Params::need(size_t i) const {
    if (!given_[i]) fail(fn_, "() missing required argument '", names_[i], "'");
    return values_[i];
}

int64_t int_arg(std::string_view fn, const Value& v, const char* what) {
    if (v.is_undefined()) raise_undefined(v);
    if (!v.is_integral()) fail(fn, "(): ", what, " must be an integer, not ", type_name(v));
    return v.as_int();
}

std::string str_arg(std::string_view fn, const Value& v, const char* what) {
    if (v.is_undefined()) raise_undefined(v);
    if (!v.is_string()) fail(fn, "(): ", what, " must be a string, not ", type_name(v));
    return v.str();
}

}  // namespace pangolin::jinja
