// Jinja2's builtin filters on sequences and mappings: join, first/last, sort, unique,
// min/max/sum, map, select/reject(attr), batch, slice, groupby, dictsort, items.
#include <algorithm>
#include <unordered_map>

#include "core/error.h"
#include "text/jinja/builtins.h"
#include "text/jinja/utf8.h"

namespace pangolin::jinja {

namespace {

std::string soft_str(const Value& v) {
    return to_str(v);
}

// Jinja's make_attrgetter: "a.b.0" looks up each part, digit-only parts as integers.
Value attr_path(const Value& item, const Value& attribute, const Value* fallback = nullptr) {
    if (attribute.is_none() || attribute.is_undefined()) return item;
    Value cur = item;
    auto step = [&](const Value& key) {
        cur = getitem(cur, key);
        if (fallback && cur.is_undefined()) cur = *fallback;
    };
    if (!attribute.is_string()) {
        step(attribute);
        return cur;
    }
    const std::string& path = attribute.str();
    size_t start = 0;
    while (true) {
        const size_t dot = path.find('.', start);
        const std::string part =
            path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        const bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) {
            return c >= '0' && c <= '9';
        });
        int64_t index = 0;
        step(digits && parse_index(part, index) ? Value::integer(index) : Value(part));
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return cur;
}

Value ignore_case(Value v) {
    if (v.is_string()) return Value(utf8::lower(v.str()));
    return v;
}

// The sort key of Jinja's make_multi_attrgetter: a list of the comma-separated attributes.
Value sort_key(const Value& item, const Value& attribute, bool case_sensitive) {
    std::vector<Value> parts;
    if (attribute.is_string() && attribute.str().find(',') != std::string::npos) {
        const std::string& a = attribute.str();
        size_t start = 0;
        while (true) {
            const size_t comma = a.find(',', start);
            Value k =
                attr_path(item, Value(a.substr(start, comma == std::string::npos ? std::string::npos
                                                                                 : comma - start)));
            parts.push_back(case_sensitive ? k : ignore_case(k));
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
    } else {
        Value k = attr_path(item, attribute);
        parts.push_back(case_sensitive ? k : ignore_case(k));
    }
    return Value::list(std::move(parts));
}

Value f_join(Interp& in, Value& v, Args& args) {
    Params p("join", args, {"d", "attribute"});
    const std::string sep = soft_str(p.get_or(0, Value("")));
    std::string out;
    bool first = true;
    for (const Value& item : iterate(v)) {
        if (!first) out += sep;
        first = false;
        out += soft_str(p.has(1) ? attr_path(item, p.get(1)) : item);
        in.check_size(out.size());
    }
    return Value(std::move(out));
}

Value f_items(Interp&, Value& v, Args& args) {
    Params("items", args, {});
    if (v.is_undefined()) return Value::sequence(Seq::Generator, {});
    if (!v.is_dict()) fail("Can only get item pairs from a mapping.");
    std::vector<Value> out;
    for (const auto& [k, x] : v.dict_data().items) out.push_back(Value::tuple({k, x}));
    return Value::sequence(Seq::Generator, std::move(out));
}

Value f_list(Interp&, Value& v, Args& args) {
    Params("list", args, {});
    return Value::list(iterate(v));
}

Value f_first(Interp&, Value& v, Args& args) {
    Params("first", args, {});
    std::vector<Value> items = iterate(v);
    if (items.empty()) return Value::undefined("No first item, sequence was empty.");
    return items.front();
}

Value f_last(Interp&, Value& v, Args& args) {
    Params("last", args, {});
    if (v.is_seq(Seq::Generator)) fail("'generator' object is not reversible");
    std::vector<Value> items = iterate(v);
    if (items.empty()) return Value::undefined("No last item, sequence was empty.");
    return items.back();
}

Value f_reverse(Interp&, Value& v, Args& args) {
    Params("reverse", args, {});
    if (v.is_string()) {
        auto cs = chars(v.str());
        std::string out;
        for (auto it = cs.rbegin(); it != cs.rend(); ++it) out += *it;
        return Value(std::move(out));
    }
    if (!v.is_list() && !v.is_dict() && !v.is_undefined()) fail("argument must be iterable");
    std::vector<Value> items = iterate(v);
    std::reverse(items.begin(), items.end());
    // Python: reversed() of a sequence is a lazy iterator; a generator is listed, then reversed.
    return v.is_seq(Seq::Generator) ? Value::list(std::move(items))
                                    : Value::sequence(Seq::Generator, std::move(items));
}

Value f_sort(Interp&, Value& v, Args& args) {
    Params p("sort", args, {"reverse", "case_sensitive", "attribute"});
    const bool reverse = truthy(p.get(0)), case_sensitive = truthy(p.get(1));
    std::vector<Value> items = iterate(v);
    std::vector<std::pair<Value, size_t>> keyed;
    for (size_t i = 0; i < items.size(); ++i)
        keyed.emplace_back(sort_key(items[i], p.get_or(2, Value::none()), case_sensitive), i);
    std::stable_sort(keyed.begin(), keyed.end(), [reverse](const auto& a, const auto& b) {
        return reverse ? compare(b.first, a.first, CmpOp::Lt)
                       : compare(a.first, b.first, CmpOp::Lt);
    });
    std::vector<Value> out;
    for (auto& [k, i] : keyed) out.push_back(items[i]);
    return Value::list(std::move(out));
}

Value f_dictsort(Interp&, Value& v, Args& args) {
    Params p("dictsort", args, {"case_sensitive", "by", "reverse"});
    if (!v.is_dict()) fail("You can only sort by either \"key\" or \"value\"");
    const bool case_sensitive = truthy(p.get(0)), reverse = truthy(p.get(2));
    const std::string by = p.has(1) ? str_arg("dictsort", p.get(1), "by") : "key";
    if (by != "key" && by != "value") fail("You can only sort by either \"key\" or \"value\"");
    std::vector<std::pair<Value, Value>> items = v.dict_data().items;
    auto key = [&](const std::pair<Value, Value>& kv) {
        const Value& k = by == "key" ? kv.first : kv.second;
        return case_sensitive ? k : ignore_case(k);
    };
    std::stable_sort(items.begin(), items.end(), [&](const auto& a, const auto& b) {
        return reverse ? compare(key(b), key(a), CmpOp::Lt) : compare(key(a), key(b), CmpOp::Lt);
    });
    std::vector<Value> out;
    for (auto& [k, x] : items) out.push_back(Value::tuple({k, x}));
    return Value::list(std::move(out));
}

Value f_unique(Interp&, Value& v, Args& args) {
    Params p("unique", args, {"case_sensitive", "attribute"});
    const bool case_sensitive = truthy(p.get(0));
    std::vector<Value> seen, out;
    for (const Value& item : iterate(v)) {
        Value k = attr_path(item, p.get_or(1, Value::none()));
        if (!case_sensitive) k = ignore_case(k);
        if (unhashable(k)) fail("unhashable type: '", type_name(k), "'");
        if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) { return equal(s, k); })) {
            seen.push_back(k);
            out.push_back(item);
        }
    }
    return Value::sequence(Seq::Generator, std::move(out));
}

Value min_max(Value& v, Args& args, bool want_max) {
    Params p(want_max ? "max" : "min", args, {"case_sensitive", "attribute"});
    const bool case_sensitive = truthy(p.get(0));
    std::vector<Value> items = iterate(v);
    if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
    auto key = [&](const Value& item) {
        Value k = attr_path(item, p.get_or(1, Value::none()));
        return case_sensitive ? k : ignore_case(k);
    };
    size_t best = 0;
    Value best_key = key(items[0]);
    for (size_t i = 1; i < items.size(); ++i) {
        Value k = key(items[i]);
        if (compare(k, best_key, want_max ? CmpOp::Gt : CmpOp::Lt)) {
            best = i;
            best_key = std::move(k);
        }
    }
    return items[best];
}

Value f_min(Interp&, Value& v, Args& args) {
    return min_max(v, args, false);
}

Value f_max(Interp&, Value& v, Args& args) {
    return min_max(v, args, true);
}

Value f_sum(Interp& in, Value& v, Args& args) {
    Params p("sum", args, {"attribute", "start"});
    Value total = p.get_or(1, Value::integer(0));
    for (const Value& item : iterate(v))
        total = binop(in, BinOp::Add, total, attr_path(item, p.get_or(0, Value::none())));
    return total;
}

Value f_map(Interp& in, Value& v, Args& args) {
    if (!truthy(v)) return Value::sequence(Seq::Generator, {});  // Jinja2: `if value:`
    std::vector<Value> out;
    const auto attr_it = std::find_if(args.kw.begin(), args.kw.end(),
                                      [](const auto& kv) { return kv.first == "attribute"; });
    if (args.pos.empty() && attr_it != args.kw.end()) {
        Params p("map", args, {"attribute", "default"});
        const Value fallback = p.get_or(1, Value::none());
        for (const Value& item : iterate(v))
            out.push_back(attr_path(item, p.get(0), fallback.is_none() ? nullptr : &fallback));
        return Value::sequence(Seq::Generator, std::move(out));
    }
    if (args.pos.empty()) fail("map requires a filter argument");
    const std::string name = str_arg("map", args.pos[0], "filter name");
    Args rest;
    rest.pos.assign(args.pos.begin() + 1, args.pos.end());
    rest.kw = args.kw;
    for (const Value& item : iterate(v)) {
        Args a = rest;
        out.push_back(in.filter(name, item, a));
    }
    return Value::sequence(Seq::Generator, std::move(out));
}

Value select_reject(Interp& in, Value& v, Args& args, bool select, bool by_attr) {
    std::vector<Value> out;
    if (!truthy(v)) return Value::sequence(Seq::Generator, {});
    size_t off = 0;
    Value attribute;
    if (by_attr) {
        if (args.pos.empty()) fail("Missing parameter for attribute name");
        attribute = args.pos[0];
        off = 1;
    }
    const bool has_test = args.pos.size() > off;
    const std::string name =
        has_test ? str_arg(select ? "select" : "reject", args.pos[off], "test name") : "";
    Args rest;
    if (has_test)
        rest.pos.assign(args.pos.begin() + static_cast<std::ptrdiff_t>(off + 1), args.pos.end());
    rest.kw = args.kw;
    for (const Value& item : iterate(v)) {
        const Value x = by_attr ? attr_path(item, attribute) : item;
        bool ok;
        if (has_test) {
            Args a = rest;
            ok = in.test(name, x, a);
        } else {
            ok = truthy(x);
        }
        if (ok == select) out.push_back(item);
    }
    return Value::sequence(Seq::Generator, std::move(out));
}

Value f_select(Interp& in, Value& v, Args& args) {
    return select_reject(in, v, args, true, false);
}

Value f_reject(Interp& in, Value& v, Args& args) {
    return select_reject(in, v, args, false, false);
}

Value f_selectattr(Interp& in, Value& v, Args& args) {
    return select_reject(in, v, args, true, true);
}

Value f_rejectattr(Interp& in, Value& v, Args& args) {
    return select_reject(in, v, args, false, true);
}

Value f_batch(Interp&, Value& v, Args& args) {
    Params p("batch", args, {"linecount", "fill_with"});
    const int64_t n = int_arg("batch", p.need(0), "linecount");
    if (n <= 0) fail("batch: linecount must be positive");
    std::vector<Value> out, tmp;
    for (const Value& item : iterate(v)) {
        if (static_cast<int64_t>(tmp.size()) == n) {
            out.push_back(Value::list(std::move(tmp)));
            tmp.clear();
        }
        tmp.push_back(item);
    }
    if (!tmp.empty()) {
        if (p.has(1) && !p.get(1).is_none())
            while (static_cast<int64_t>(tmp.size()) < n) tmp.push_back(p.get(1));
        out.push_back(Value::list(std::move(tmp)));
    }
    return Value::sequence(Seq::Generator, std::move(out));
}

Value f_slice(Interp&, Value& v, Args& args) {
    Params p("slice", args, {"slices", "fill_with"});
    const int64_t slices = int_arg("slice", p.need(0), "slices");
    if (slices <= 0) fail("slice: slices must be positive");
    const std::vector<Value> seq = iterate(v);
    const auto length = static_cast<int64_t>(seq.size());
    const int64_t per = length / slices, with_extra = length % slices;
    std::vector<Value> out;
    int64_t offset = 0;
    for (int64_t k = 0; k < slices; ++k) {
        const int64_t start = offset + k * per;
        if (k < with_extra) ++offset;
        const int64_t end = offset + (k + 1) * per;
        std::vector<Value> tmp(seq.begin() + start, seq.begin() + end);
        if (p.has(1) && !p.get(1).is_none() && k >= with_extra) tmp.push_back(p.get(1));
        out.push_back(Value::list(std::move(tmp)));
    }
    return Value::sequence(Seq::Generator, std::move(out));
}

Value f_groupby(Interp&, Value& v, Args& args) {
    Params p("groupby", args, {"attribute", "default", "case_sensitive"});
    const bool case_sensitive = truthy(p.get(2));
    const Value fallback = p.get_or(1, Value::none());
    auto raw_key = [&](const Value& item) {
        return attr_path(item, p.need(0), fallback.is_none() ? nullptr : &fallback);
    };
    std::vector<Value> items = iterate(v);
    std::vector<std::pair<Value, size_t>> keyed;
    for (size_t i = 0; i < items.size(); ++i) {
        Value k = raw_key(items[i]);
        keyed.emplace_back(case_sensitive ? k : ignore_case(k), i);
    }
    std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
        return compare(a.first, b.first, CmpOp::Lt);
    });
    std::vector<Value> out;
    for (size_t i = 0; i < keyed.size();) {
        size_t j = i;
        std::vector<Value> group;
        while (j < keyed.size() && equal(keyed[j].first, keyed[i].first))
            group.push_back(items[keyed[j++].second]);
        Value grouper = case_sensitive ? keyed[i].first : raw_key(items[keyed[i].second]);
        out.push_back(Value::tuple({grouper, Value::list(std::move(group))}));
        i = j;
    }
    return Value::list(std::move(out));
}

// Jinja2's map, select, unique, batch, slice and items are Python generators: their errors
// surface only when the result is iterated. Keep the error for then.
template <FilterFn Fn>
Value lazily(Interp& in, Value& v, Args& args) {
    try {
        return Fn(in, v, args);
    } catch (const RaisedError&) {
        throw;
    } catch (const Error& e) {
        Value g = Value::sequence(Seq::Generator, {});
        g.list().pending_error = e.what();
        return g;
    }
}

}  // namespace

FilterFn find_sequence_filter(std::string_view name) {
    static const std::unordered_map<std::string_view, FilterFn> table = {
        {"join", f_join},
        {"items", lazily<f_items>},
        {"list", f_list},
        {"first", f_first},
        {"last", f_last},
        {"reverse", f_reverse},
        {"sort", f_sort},
        {"dictsort", f_dictsort},
        {"unique", lazily<f_unique>},
        {"min", f_min},
        {"max", f_max},
        {"sum", f_sum},
        {"map", lazily<f_map>},
        {"select", lazily<f_select>},
        {"reject", lazily<f_reject>},
        {"selectattr", lazily<f_selectattr>},
        {"rejectattr", lazily<f_rejectattr>},
        {"batch", lazily<f_batch>},
        {"slice", lazily<f_slice>},
        {"groupby", f_groupby},
    };
    const auto it = table.find(name);
    return it == table.end() ? nullptr : it->second;
}

}  // namespace pangolin::jinja
