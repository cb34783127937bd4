// Python's str, list and dict methods that templates call (`content.split('</think>')`,
// `message.get('x')`, `d.items()`), as bound callables.
#include <algorithm>

#include "core/error.h"
#include "text/jinja/builtins.h"
#include "text/jinja/utf8.h"

namespace pangolin::jinja {

namespace {

using Method = Value (*)(Interp&, const Value& self, Args& args);

// s[start:end] in code points → byte range, with Python's clamping.
std::pair<size_t, size_t> byte_range(const std::string& s, const Value& start, const Value& end) {
    const std::vector<size_t> offs = utf8::offsets(s);
    const auto n = static_cast<int64_t>(offs.size()) - 1;
    auto clamp = [n](const Value& v, int64_t fallback) {
        if (v.is_none() || v.is_undefined()) return fallback;
        if (!v.is_integral())
            fail("slice indices must be integers or None or have an __index__ method");
        int64_t i = v.as_int();
        if (i < 0) i = std::max<int64_t>(0, i + n);
        return std::min(i, n);
    };
    const int64_t b = clamp(start, 0), e = clamp(end, n);
    if (e < b) return {offs[static_cast<size_t>(b)], offs[static_cast<size_t>(b)]};
    return {offs[static_cast<size_t>(b)], offs[static_cast<size_t>(e)]};
}

std::string sub_arg(const char* fn, const Value& v) {
    if (!v.is_string()) fail(fn, "() argument must be str, not ", type_name(v));
    return v.str();
}

Value str_startswith_impl(const Value& self, Args& args, bool ends, const char* fn) {
    Params p(fn, args, {"prefix", "start", "end"});
    const std::string& s = self.str();
    const auto [b, e] = byte_range(s, p.get(1), p.get(2));
    const std::string_view view(s.data() + b, e - b);
    std::vector<std::string> candidates;
    const Value& x = p.get(0);
    if (x.is_tuple()) {
        for (const auto& item : x.list().items) candidates.push_back(sub_arg(fn, item));
    } else if (x.is_string()) {
        candidates.push_back(x.str());
    } else {
        fail(fn, " first arg must be str or a tuple of str, not ", type_name(x));
    }
    for (const auto& c : candidates) {
        if (c.size() > view.size()) continue;
        if (ends ? view.substr(view.size() - c.size()) == c : view.substr(0, c.size()) == c)
            return Value::boolean(true);
    }
    return Value::boolean(false);
}

Value m_startswith(Interp&, const Value& self, Args& args) {
    return str_startswith_impl(self, args, false, "startswith");
}
Value m_endswith(Interp&, const Value& self, Args& args) {
    return str_startswith_impl(self, args, true, "endswith");
}

std::vector<Value> split_whitespace(std::string_view s, int64_t maxsplit, bool from_right) {
    // Python str.split()/rsplit() with no separator: runs of whitespace, ends ignored.
    std::vector<std::pair<size_t, size_t>> words;  // byte ranges
    size_t i = 0;
    while (i < s.size()) {
        size_t next = i;
        if (utf8::is_space(utf8::decode(s, next))) {
            i = next;
            continue;
        }
        size_t start = i;
        while (i < s.size()) {
            next = i;
            if (utf8::is_space(utf8::decode(s, next))) break;
            i = next;
        }
        words.emplace_back(start, i);
    }
    std::vector<Value> out;
    if (maxsplit < 0 || static_cast<size_t>(maxsplit) >= words.size()) {
        for (auto [b, e] : words) out.emplace_back(std::string(s.substr(b, e - b)));
        return out;
    }
    const auto k = static_cast<size_t>(maxsplit);
    if (!from_right) {
        for (size_t w = 0; w < k; ++w)
            out.emplace_back(
                std::string(s.substr(words[w].first, words[w].second - words[w].first)));
        std::string_view rest = s.substr(words[k].first);
        out.emplace_back(std::string(rest));
    } else {
        const size_t first_kept = words.size() - k;
        const size_t end = words[first_kept - 1].second;
        out.emplace_back(std::string(s.substr(0, end)));
        for (size_t w = first_kept; w < words.size(); ++w)
            out.emplace_back(
                std::string(s.substr(words[w].first, words[w].second - words[w].first)));
    }
    return out;
}

Value split_impl(const Value& self, Args& args, bool from_right) {
    Params p(from_right ? "rsplit" : "split", args, {"sep", "maxsplit"});
    const std::string& s = self.str();
    const int64_t maxsplit = p.has(1) ? int_arg("split", p.get(1), "maxsplit") : -1;
    if (!p.has(0) || p.get(0).is_none())
        return Value::list(split_whitespace(s, maxsplit, from_right));
    const std::string sep = sub_arg("split", p.get(0));
    if (sep.empty()) fail("empty separator");
    std::vector<Value> out;
    if (!from_right) {
        size_t start = 0;
        int64_t splits = 0;
        size_t at;
        while ((maxsplit < 0 || splits < maxsplit) &&
               (at = s.find(sep, start)) != std::string::npos) {
            out.emplace_back(s.substr(start, at - start));
            start = at + sep.size();
            ++splits;
        }
        out.emplace_back(s.substr(start));
    } else {
        size_t end = s.size();
        int64_t splits = 0;
        std::vector<Value> rev;
        while (maxsplit < 0 || splits < maxsplit) {
            if (end < sep.size()) break;
            const size_t at = s.rfind(sep, end - sep.size());
            if (at == std::string::npos) break;
            rev.emplace_back(s.substr(at + sep.size(), end - at - sep.size()));
            end = at;
            ++splits;
        }
        rev.emplace_back(s.substr(0, end));
        out.assign(std::make_move_iterator(rev.rbegin()), std::make_move_iterator(rev.rend()));
    }
    return Value::list(std::move(out));
}

Value m_split(Interp&, const Value& self, Args& args) {
    return split_impl(self, args, false);
}
Value m_rsplit(Interp&, const Value& self, Args& args) {
    return split_impl(self, args, true);
}

Value strip_impl(const Value& self, Args& args, bool left, bool right) {
    Params p("strip", args, {"chars"});
    if (p.has(0) && !p.get(0).is_none()) {
        const std::string chars = sub_arg("strip", p.get(0));
        return Value(std::string(utf8::strip(self.str(), &chars, left, right)));
    }
    return Value(std::string(utf8::strip(self.str(), nullptr, left, right)));
}

Value m_strip(Interp&, const Value& self, Args& args) {
    return strip_impl(self, args, true, true);
}
Value m_lstrip(Interp&, const Value& self, Args& args) {
    return strip_impl(self, args, true, false);
}
Value m_rstrip(Interp&, const Value& self, Args& args) {
    return strip_impl(self, args, false, true);
}

}  // namespace

// Python str.replace (also used by the `replace` filter).
std::string py_replace(Interp& in, const std::string& s, const std::string& old,
                       const std::string& repl, int64_t count) {
    std::string out;
    int64_t done = 0;
    if (old.empty()) {
        const auto cs = chars(s);
        for (size_t i = 0; i <= cs.size(); ++i) {
            if (count < 0 || done < count) {
                out += repl;
                ++done;
            }
            if (i < cs.size()) out += cs[i];
            in.check_size(out.size());
        }
        return out;
    }
    size_t start = 0, at;
    while ((count < 0 || done < count) && (at = s.find(old, start)) != std::string::npos) {
        out.append(s, start, at - start);
        out += repl;
        start = at + old.size();
        ++done;
        in.check_size(out.size());
    }
    out.append(s, start, std::string::npos);
    in.check_size(out.size());
    return out;
}

namespace {

Value m_replace(Interp& in, const Value& self, Args& args) {
    Params p("replace", args, {"old", "new", "count"});
    const int64_t count = p.has(2) ? int_arg("replace", p.get(2), "count") : -1;
    return Value(py_replace(in, self.str(), sub_arg("replace", p.get(0)),
                            sub_arg("replace", p.get(1)), count));
}

Value m_upper(Interp&, const Value& self, Args& args) {
    Params("upper", args, {});
    return Value(utf8::upper(self.str()));
}
Value m_lower(Interp&, const Value& self, Args& args) {
    Params("lower", args, {});
    return Value(utf8::lower(self.str()));
}
Value m_title(Interp&, const Value& self, Args& args) {
    Params("title", args, {});
    return Value(utf8::title(self.str()));
}
Value m_capitalize(Interp&, const Value& self, Args& args) {
    Params("capitalize", args, {});
    return Value(utf8::capitalize(self.str()));
}
Value m_swapcase(Interp&, const Value& self, Args& args) {
    Params("swapcase", args, {});
    return Value(utf8::swapcase(self.str()));
}

Value find_impl(const Value& self, Args& args, bool from_right, bool raise, const char* fn) {
    Params p(fn, args, {"sub", "start", "end"});
    const std::string& s = self.str();
    const std::string sub = sub_arg(fn, p.get(0));
    const auto [b, e] = byte_range(s, p.get(1), p.get(2));
    const std::string_view view(s.data() + b, e - b);
    const size_t at = from_right ? view.rfind(sub) : view.find(sub);
    if (at == std::string_view::npos) {
        if (raise) fail("substring not found");
        return Value::integer(-1);
    }
    return Value::integer(static_cast<int64_t>(utf8::index_of_byte(s, b + at)));
}

Value m_find(Interp&, const Value& self, Args& args) {
    return find_impl(self, args, false, false, "find");
}
Value m_rfind(Interp&, const Value& self, Args& args) {
    return find_impl(self, args, true, false, "rfind");
}
Value m_index(Interp&, const Value& self, Args& args) {
    return find_impl(self, args, false, true, "index");
}
Value m_rindex(Interp&, const Value& self, Args& args) {
    return find_impl(self, args, true, true, "rindex");
}

Value m_count(Interp&, const Value& self, Args& args) {
    Params p("count", args, {"sub", "start", "end"});
    const std::string& s = self.str();
    const std::string sub = sub_arg("count", p.get(0));
    const auto [b, e] = byte_range(s, p.get(1), p.get(2));
    const std::string_view view(s.data() + b, e - b);
    if (sub.empty()) return Value::integer(static_cast<int64_t>(utf8::length(view) + 1));
    int64_t n = 0;
    for (size_t at = view.find(sub); at != std::string_view::npos;
         at = view.find(sub, at + sub.size()))
        ++n;
    return Value::integer(n);
}

Value m_join(Interp& in, const Value& self, Args& args) {
    Params p("join", args, {"iterable"});
    std::string out;
    size_t i = 0;
    for (const Value& v : iterate(p.get(0))) {
        if (!v.is_string())
            fail("sequence item ", i, ": expected str instance, ", type_name(v), " found");
        if (i++) out += self.str();
        out += v.str();
        in.check_size(out.size());
    }
    return Value(std::move(out));
}

Value m_format(Interp& in, const Value& self, Args& args) {
    return Value(str_format(in, self.str(), args));
}

template <bool (*Pred)(char32_t)>
Value char_class(Interp&, const Value& self, Args&) {
    const std::string& s = self.str();
    if (s.empty()) return Value::boolean(false);
    for (size_t i = 0; i < s.size();)
        if (!Pred(utf8::decode(s, i))) return Value::boolean(false);
    return Value::boolean(true);
}

Value case_check(const Value& self, bool want_upper) {
    bool cased = false;
    const std::string& s = self.str();
    for (size_t i = 0; i < s.size();) {
        const char32_t c = utf8::decode(s, i);
        if (want_upper ? utf8::is_lower(c) : utf8::is_upper(c)) return Value::boolean(false);
        if (utf8::is_upper(c) || utf8::is_lower(c)) cased = true;
    }
    return Value::boolean(cased);
}
Value m_isupper(Interp&, const Value& self, Args&) {
    return case_check(self, true);
}
Value m_islower(Interp&, const Value& self, Args&) {
    return case_check(self, false);
}

Value pad_impl(Interp& in, const Value& self, Args& args, int mode, const char* fn) {
    Params p(fn, args, {"width", "fillchar"});
    const int64_t width = int_arg(fn, p.get(0), "width");
    std::string fill = p.has(1) ? sub_arg(fn, p.get(1)) : " ";
    if (utf8::length(fill) != 1) fail("The fill character must be exactly one character long");
    const std::string& s = self.str();
    const auto len = static_cast<int64_t>(utf8::length(s));
    if (width <= len) return self;
    in.check_size(static_cast<size_t>(width) * fill.size());
    const int64_t marg = width - len;
    int64_t left = 0;
    if (mode == 0)
        left = marg / 2 + (marg & width & 1);  // CPython's centering
    else if (mode == 2)
        left = marg;
    std::string out;
    for (int64_t i = 0; i < left; ++i) out += fill;
    out += s;
    for (int64_t i = 0; i < marg - left; ++i) out += fill;
    return Value(std::move(out));
}
Value m_center(Interp& in, const Value& self, Args& args) {
    return pad_impl(in, self, args, 0, "center");
}
Value m_ljust(Interp& in, const Value& self, Args& args) {
    return pad_impl(in, self, args, 1, "ljust");
}
Value m_rjust(Interp& in, const Value& self, Args& args) {
    return pad_impl(in, self, args, 2, "rjust");
}

Value m_zfill(Interp& in, const Value& self, Args& args) {
    Params p("zfill", args, {"width"});
    const int64_t width = int_arg("zfill", p.get(0), "width");
    const std::string& s = self.str();
    const auto len = static_cast<int64_t>(utf8::length(s));
    if (width <= len) return self;
    in.check_size(static_cast<size_t>(width));
    const bool sign = !s.empty() && (s[0] == '+' || s[0] == '-');
    std::string out = sign ? s.substr(0, 1) : "";
    out += std::string(static_cast<size_t>(width - len), '0');
    out += sign ? s.substr(1) : s;
    return Value(std::move(out));
}

Value partition_impl(const Value& self, Args& args, bool from_right) {
    Params p("partition", args, {"sep"});
    const std::string sep = sub_arg("partition", p.get(0));
    if (sep.empty()) fail("empty separator");
    const std::string& s = self.str();
    const size_t at = from_right ? s.rfind(sep) : s.find(sep);
    if (at == std::string::npos)
        return from_right ? Value::tuple({Value(""), Value(""), self})
                          : Value::tuple({self, Value(""), Value("")});
    return Value::tuple({Value(s.substr(0, at)), Value(sep), Value(s.substr(at + sep.size()))});
}
Value m_partition(Interp&, const Value& self, Args& args) {
    return partition_impl(self, args, false);
}
Value m_rpartition(Interp&, const Value& self, Args& args) {
    return partition_impl(self, args, true);
}

Value m_splitlines(Interp&, const Value& self, Args& args) {
    Params p("splitlines", args, {"keepends"});
    std::vector<Value> out;
    if (p.has(0) && truthy(p.get(0))) {
        const std::string& s = self.str();
        size_t start = 0;
        for (size_t i = 0; i < s.size();) {
            const char32_t c = utf8::decode(s, i);
            if (!utf8::is_line_break(c)) continue;
            if (c == '\r' && i < s.size() && s[i] == '\n') ++i;
            out.emplace_back(s.substr(start, i - start));
            start = i;
        }
        if (start < s.size()) out.emplace_back(s.substr(start));
    } else {
        for (auto& line : utf8::splitlines(self.str())) out.emplace_back(std::move(line));
    }
    return Value::list(std::move(out));
}

Value m_removeprefix(Interp&, const Value& self, Args& args) {
    Params p("removeprefix", args, {"prefix"});
    const std::string pre = sub_arg("removeprefix", p.get(0));
    const std::string& s = self.str();
    return s.compare(0, pre.size(), pre) == 0 ? Value(s.substr(pre.size())) : self;
}

Value m_removesuffix(Interp&, const Value& self, Args& args) {
    Params p("removesuffix", args, {"suffix"});
    const std::string suf = sub_arg("removesuffix", p.get(0));
    const std::string& s = self.str();
    if (!suf.empty() && s.size() >= suf.size() &&
        s.compare(s.size() - suf.size(), suf.size(), suf) == 0)
        return Value(s.substr(0, s.size() - suf.size()));
    return self;
}

// ---- dict ----

Value m_items(Interp&, const Value& self, Args& args) {
    Params("items", args, {});
    std::vector<Value> out;
    for (const auto& [k, v] : self.dict_data().items) out.push_back(Value::tuple({k, v}));
    return Value::sequence(Seq::DictItems, std::move(out));
}
Value m_keys(Interp&, const Value& self, Args& args) {
    Params("keys", args, {});
    return Value::sequence(Seq::DictKeys, iterate(self));
}
Value m_values(Interp&, const Value& self, Args& args) {
    Params("values", args, {});
    std::vector<Value> out;
    for (const auto& [k, v] : self.dict_data().items) out.push_back(v);
    return Value::sequence(Seq::DictValues, std::move(out));
}
Value m_get(Interp&, const Value& self, Args& args) {
    Params p("get", args, {"key", "default"});
    const Value& key = p.get(0);
    if (unhashable(key)) fail("unhashable type: '", type_name(key), "'");
    if (const Value* v = self.dict_data().find(key)) return *v;
    return p.get_or(1, Value::none());
}
Value m_copy(Interp&, const Value& self, Args& args) {
    Params("copy", args, {});
    if (self.is_dict()) {
        Value d = Value::dict();
        d.dict_data().items = self.dict_data().items;
        return d;
    }
    return Value::list(self.list().items);
}

// ---- list ----

// Whether `from` holds `target` (so appending it would make a reference cycle).
bool reaches(const Value& from, const void* target, int depth) {
    if (depth > 512) fail("value nested more than 512 levels deep");
    switch (from.kind()) {
        case Kind::List:
            if (&from.list() == target) return true;
            for (const auto& v : from.list().items)
                if (reaches(v, target, depth + 1)) return true;
            return false;
        case Kind::Dict:
            for (const auto& [k, v] : from.dict_data().items)
                if (reaches(v, target, depth + 1)) return true;
            return false;
        case Kind::Object:
            for (const auto& [k, v] : from.object().attrs)
                if (reaches(v, target, depth + 1)) return true;
            return false;
        case Kind::Callable:  // a bound method or macro may hold anything: assume the worst
            return true;
        default:
            return false;
    }
}

// Not available in Hugging Face's immutable sandbox; allowed here because templates written
// for other engines use it. A list may not come to contain itself, which keeps reference
// cycles (which would leak) to namespaces, cleared when rendering ends.
Value m_append(Interp& in, const Value& self, Args& args) {
    Params p("append", args, {"object"});
    if (reaches(p.get(0), &self.list(), 0))
        fail("append would make a list contain itself (functions cannot be appended)");
    in.check_size((self.list().items.size() + 1) * sizeof(Value));
    self.list().items.push_back(p.get(0));
    return Value::none();
}
Value m_list_index(Interp&, const Value& self, Args& args) {
    Params p("index", args, {"value"});
    const auto& items = self.list().items;
    for (size_t i = 0; i < items.size(); ++i)
        if (equal(items[i], p.get(0))) return Value::integer(static_cast<int64_t>(i));
    fail(repr(p.get(0)), " is not in list");
}
Value m_list_count(Interp&, const Value& self, Args& args) {
    Params p("count", args, {"value"});
    int64_t n = 0;
    for (const auto& v : self.list().items) n += equal(v, p.get(0)) ? 1 : 0;
    return Value::integer(n);
}

// ---- cycler ----

Value m_cycler_next(Interp&, const Value& self, Args&) {
    ObjectData& o = self.object();
    const Value* items = o.find("items");
    const Value* pos = o.find("pos");
    const auto& list = items->list().items;
    if (list.empty()) fail("no items for cycling given");
    const int64_t i = pos->as_int();
    Value out = list[static_cast<size_t>(i) % list.size()];
    o.set("pos", Value::integer((i + 1) % static_cast<int64_t>(list.size())));
    o.set("current", list[static_cast<size_t>(i + 1) % list.size()]);
    return out;
}
Value m_cycler_reset(Interp&, const Value& self, Args&) {
    ObjectData& o = self.object();
    o.set("pos", Value::integer(0));
    const auto& list = o.find("items")->list().items;
    o.set("current", list.empty() ? Value::none() : list[0]);
    return Value::none();
}

struct Entry {
    const char* name;
    Method fn;
};

const Entry k_str_methods[] = {
    {"startswith", m_startswith},
    {"endswith", m_endswith},
    {"split", m_split},
    {"rsplit", m_rsplit},
    {"strip", m_strip},
    {"lstrip", m_lstrip},
    {"rstrip", m_rstrip},
    {"replace", m_replace},
    {"upper", m_upper},
    {"lower", m_lower},
    {"casefold", m_lower},
    {"title", m_title},
    {"capitalize", m_capitalize},
    {"swapcase", m_swapcase},
    {"find", m_find},
    {"rfind", m_rfind},
    {"index", m_index},
    {"rindex", m_rindex},
    {"count", m_count},
    {"join", m_join},
    {"format", m_format},
    {"isdigit", char_class<utf8::is_digit>},
    {"isdecimal", char_class<utf8::is_digit>},
    {"isnumeric", char_class<utf8::is_digit>},
    {"isalpha", char_class<utf8::is_alpha>},
    {"isalnum", char_class<utf8::is_alnum>},
    {"isspace", char_class<utf8::is_space>},
    {"isupper", m_isupper},
    {"islower", m_islower},
    {"center", m_center},
    {"ljust", m_ljust},
    {"rjust", m_rjust},
    {"zfill", m_zfill},
    {"partition", m_partition},
    {"rpartition", m_rpartition},
    {"splitlines", m_splitlines},
    {"removeprefix", m_removeprefix},
    {"removesuffix", m_removesuffix},
};
const Entry k_dict_methods[] = {
    {"items", m_items}, {"keys", m_keys}, {"values", m_values}, {"get", m_get}, {"copy", m_copy},
};
const Entry k_list_methods[] = {
    {"append", m_append},
    {"index", m_list_index},
    {"count", m_list_count},
    {"copy", m_copy},
};
const Entry k_tuple_methods[] = {
    {"index", m_list_index},
    {"count", m_list_count},
};
const Entry k_cycler_methods[] = {{"next", m_cycler_next}, {"reset", m_cycler_reset}};

template <size_t N>
Method lookup(const Entry (&table)[N], const std::string& name) {
    for (const auto& e : table)
        if (name == e.name) return e.fn;
    return nullptr;
}

}  // namespace

bool find_method(const Value& obj, const std::string& name, Value& out) {
    Method fn = nullptr;
    switch (obj.kind()) {
        case Kind::String:
            fn = lookup(k_str_methods, name);
            break;
        case Kind::Dict:
            fn = lookup(k_dict_methods, name);
            break;
        case Kind::List:
            if (obj.is_seq(Seq::List))
                fn = lookup(k_list_methods, name);
            else if (obj.is_tuple() || obj.is_seq(Seq::Range))
                fn = lookup(k_tuple_methods, name);
            break;
        case Kind::Object:
            if (obj.object().type == ObjectData::Type::Cycler) fn = lookup(k_cycler_methods, name);
            break;
        default:
            break;
    }
    if (!fn) return false;
    out = Value::callable(name,
                          [fn, self = obj](Interp& in, Args& args) { return fn(in, self, args); });
    return true;
}

}  // namespace pangolin::jinja
