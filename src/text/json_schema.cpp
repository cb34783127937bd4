#include "text/json_schema.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <string_view>

#include "core/error.h"

namespace pangolin {

using nlohmann::json;

namespace {

// clang-format off
constexpr std::string_view k_annotations[] = {
    "title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated",
    "readOnly", "writeOnly", "definitions", "$defs",
};
constexpr std::string_view k_assertions[] = {
    "type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref",
    "properties", "required", "additionalProperties",
    "items", "minItems", "maxItems",
    "minLength", "maxLength",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
};
constexpr std::string_view k_type_names[] = {
    "null", "boolean", "integer", "number", "string", "array", "object",
};
// clang-format on

template <size_t N>
bool contains(const std::string_view (&list)[N], std::string_view name) {
    return std::find(std::begin(list), std::end(list), name) != std::end(list);
}

std::string child_path(const std::string& path, std::string_view key) {
    return path + "/" + std::string(key);
}

void require_count(const json& schema, const char* key, const std::string& path) {
    if (!schema.contains(key)) return;
    const json& v = schema.at(key);
    require(v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0),
            "JSON schema: ", key, " at ", path, " must be a non-negative integer, got ", v.dump());
}

// The schema's shape and keywords; Error for anything we do not enforce.
void check_schema(const json& schema, const std::string& path) {
    if (schema.is_boolean()) return;
    require(schema.is_object(), "JSON schema at ", path, " must be an object or a boolean, got ",
            schema.dump());
    for (const auto& [key, value] : schema.items()) {
        if (contains(k_annotations, key)) continue;
        require(contains(k_assertions, key), "unsupported JSON-schema keyword \"", key, "\" at ",
                path);
    }
    for (const char* defs : {"definitions", "$defs"}) {
        if (!schema.contains(defs)) continue;
        require(schema.at(defs).is_object(), "JSON schema: ", defs, " at ", path,
                " must be an object");
        for (const auto& [name, sub] : schema.at(defs).items())
            check_schema(sub, child_path(child_path(path, defs), name));
    }
    if (schema.contains("type")) {
        const json& type = schema.at("type");
        const json names = type.is_array() ? type : json::array({type});
        require(!names.empty(), "JSON schema: empty type array at ", path);
        for (const auto& name : names)
            require(name.is_string() && contains(k_type_names, name.get<std::string>()),
                    "JSON schema: unknown type ", name.dump(), " at ", path);
    }
    if (schema.contains("enum"))
        require(schema.at("enum").is_array(), "JSON schema: enum at ", path, " must be an array");
    for (const char* key : {"anyOf", "oneOf", "allOf"}) {
        if (!schema.contains(key)) continue;
        const json& alts = schema.at(key);
        require(alts.is_array() && !alts.empty(), "JSON schema: ", key, " at ", path,
                " must be a non-empty array");
        for (size_t k = 0; k < alts.size(); ++k)
            check_schema(alts[k], child_path(path, key) + "/" + std::to_string(k));
    }
    if (schema.contains("allOf"))
        require(schema.at("allOf").size() == 1, "unsupported JSON-schema keyword \"allOf\" with ",
                schema.at("allOf").size(), " subschemas at ", path, " (only one is supported)");
    if (schema.contains("$ref")) {
        const json& ref = schema.at("$ref");
        require(ref.is_string() && ref.get<std::string>().rfind('#', 0) == 0,
                "JSON schema: $ref at ", path,
                " must be a local reference (\"#/$defs/Name\"), got ", ref.dump());
    }
    if (schema.contains("properties")) {
        require(schema.at("properties").is_object(), "JSON schema: properties at ", path,
                " must be an object");
        for (const auto& [name, sub] : schema.at("properties").items())
            check_schema(sub, child_path(child_path(path, "properties"), name));
    }
    if (schema.contains("required")) {
        const json& req = schema.at("required");
        require(req.is_array() && std::all_of(req.begin(), req.end(),
                                              [](const json& r) { return r.is_string(); }),
                "JSON schema: required at ", path, " must be an array of strings");
    }
    if (schema.contains("additionalProperties"))
        check_schema(schema.at("additionalProperties"), child_path(path, "additionalProperties"));
    if (schema.contains("items")) {
        require(!schema.at("items").is_array(), "unsupported JSON-schema keyword \"items\" at ",
                path, " given as an array (tuple validation)");
        check_schema(schema.at("items"), child_path(path, "items"));
    }
    for (const char* key : {"minItems", "maxItems", "minLength", "maxLength"})
        require_count(schema, key, path);
    for (const char* key : {"minimum", "maximum"})
        if (schema.contains(key))
            require(schema.at(key).is_number(), "JSON schema: ", key, " at ", path,
                    " must be a number");
    for (const char* key : {"exclusiveMinimum", "exclusiveMaximum"})
        if (schema.contains(key))
            require(schema.at(key).is_number() || schema.at(key).is_boolean(), "JSON schema: ", key,
                    " at ", path, " must be a number or a boolean");
}

const json& resolve_ref(const json& root, const std::string& ref, const std::string& path) {
    if (ref == "#") return root;
    json::json_pointer pointer;
    try {
        pointer = json::json_pointer(ref.substr(1));
    } catch (const json::exception&) {
        fail("JSON schema: bad $ref \"", ref, "\" at ", path);
    }
    require(root.contains(pointer), "JSON schema: $ref \"", ref, "\" at ", path,
            " points to nothing");
    return root.at(pointer);
}

bool has_assertions_besides(const json& schema, std::string_view keyword) {
    for (const auto& [key, value] : schema.items())
        if (key != keyword && contains(k_assertions, key)) return true;
    return false;
}

uint64_t code_points(const std::string& s) {
    uint64_t n = 0;
    for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
}

bool is_integer_value(const json& v) {
    if (v.is_number_integer()) return true;
    if (!v.is_number_float()) return false;
    const double x = v.get<double>();
    return std::isfinite(x) && std::trunc(x) == x;
}

bool has_type(const json& v, const std::string& type) {
    if (type == "null") return v.is_null();
    if (type == "boolean") return v.is_boolean();
    if (type == "integer") return is_integer_value(v);
    if (type == "number") return v.is_number();
    if (type == "string") return v.is_string();
    if (type == "array") return v.is_array();
    return v.is_object();
}

// Lower and upper bound (value, exclusive) from minimum/maximum and both forms of
// exclusiveMinimum/exclusiveMaximum (draft 4 booleans, later numbers).
struct Bounds {
    bool has_min = false, has_max = false, exclusive_min = false, exclusive_max = false;
    double min = 0, max = 0;
};
Bounds bounds_of(const json& s) {
    Bounds b;
    if (s.contains("minimum")) b.has_min = true, b.min = s.at("minimum").get<double>();
    if (s.contains("maximum")) b.has_max = true, b.max = s.at("maximum").get<double>();
    if (s.contains("exclusiveMinimum")) {
        const json& e = s.at("exclusiveMinimum");
        if (e.is_boolean()) {
            b.exclusive_min = b.has_min && e.get<bool>();
        } else if (!b.has_min || e.get<double>() >= b.min) {
            b.has_min = b.exclusive_min = true;
            b.min = e.get<double>();
        }
    }
    if (s.contains("exclusiveMaximum")) {
        const json& e = s.at("exclusiveMaximum");
        if (e.is_boolean()) {
            b.exclusive_max = b.has_max && e.get<bool>();
        } else if (!b.has_max || e.get<double>() <= b.max) {
            b.has_max = b.exclusive_max = true;
            b.max = e.get<double>();
        }
    }
    return b;
}

struct Validator {
    const json& root;
    std::string* why;

    bool no(const std::string& path, const std::string& message) const {
        if (why) *why = path + ": " + message;
        return false;
    }

    bool check(const json& v, const json& s, const std::string& path, int depth) const {
        require(depth < 256, "JSON schema: $ref recursion deeper than 256 while validating");
        if (s.is_boolean()) return s.get<bool>() || no(path, "schema false accepts nothing");
        if (s.contains("$ref")) {
            const std::string ref = s.at("$ref").get<std::string>();
            if (!check(v, resolve_ref(root, ref, path), path, depth + 1)) return false;
        }
        if (s.contains("allOf"))
            for (const auto& sub : s.at("allOf"))
                if (!check(v, sub, path, depth + 1)) return false;
        if (s.contains("anyOf")) {
            bool any = false;
            for (const auto& sub : s.at("anyOf")) any = any || check(v, sub, path, depth + 1);
            if (!any) return no(path, "matches no anyOf alternative");
        }
        if (s.contains("oneOf")) {
            int n = 0;
            for (const auto& sub : s.at("oneOf")) n += check(v, sub, path, depth + 1);
            if (n != 1) return no(path, "matches " + std::to_string(n) + " oneOf alternatives");
        }
        if (s.contains("type")) {
            const json& type = s.at("type");
            const json names = type.is_array() ? type : json::array({type});
            bool ok = false;
            for (const auto& name : names) ok = ok || has_type(v, name.get<std::string>());
            if (!ok) return no(path, v.dump() + " is not of type " + type.dump());
        }
        if (s.contains("enum")) {
            const json& values = s.at("enum");
            if (std::find(values.begin(), values.end(), v) == values.end())
                return no(path, v.dump() + " is not in enum");
        }
        if (s.contains("const") && v != s.at("const"))
            return no(path, v.dump() + " is not the const " + s.at("const").dump());
        if (v.is_string()) {
            const uint64_t n = code_points(v.get<std::string>());
            if (s.contains("minLength") && n < s.at("minLength").get<uint64_t>())
                return no(path, "string shorter than minLength");
            if (s.contains("maxLength") && n > s.at("maxLength").get<uint64_t>())
                return no(path, "string longer than maxLength");
        }
        if (v.is_number()) {
            const Bounds b = bounds_of(s);
            const double x = v.get<double>();
            if (b.has_min && (b.exclusive_min ? x <= b.min : x < b.min))
                return no(path, v.dump() + " is below the minimum");
            if (b.has_max && (b.exclusive_max ? x >= b.max : x > b.max))
                return no(path, v.dump() + " is above the maximum");
        }
        if (v.is_array()) {
            if (s.contains("minItems") && v.size() < s.at("minItems").get<uint64_t>())
                return no(path, "fewer items than minItems");
            if (s.contains("maxItems") && v.size() > s.at("maxItems").get<uint64_t>())
                return no(path, "more items than maxItems");
            if (s.contains("items"))
                for (size_t k = 0; k < v.size(); ++k)
                    if (!check(v[k], s.at("items"), path + "[" + std::to_string(k) + "]",
                               depth + 1))
                        return false;
        }
        if (v.is_object()) {
            const json* props = s.contains("properties") ? &s.at("properties") : nullptr;
            if (s.contains("required"))
                for (const auto& name : s.at("required"))
                    if (!v.contains(name.get<std::string>()))
                        return no(path, "missing required property " + name.dump());
            for (const auto& [key, value] : v.items()) {
                const std::string sub_path = path + "." + key;
                if (props && props->contains(key)) {
                    if (!check(value, props->at(key), sub_path, depth + 1)) return false;
                } else if (s.contains("additionalProperties")) {
                    if (!check(value, s.at("additionalProperties"), sub_path, depth + 1))
                        return false;
                }
            }
        }
        return true;
    }
};

}  // namespace

bool validate(const json& value, const json& schema, std::string* why) {
    check_schema(schema, "#");
    return Validator{schema, why}.check(value, schema, "$", 0);
}

namespace json_grammar {

namespace {

class Compiler {
  public:
    explicit Compiler(const json& root) : root_(root) {
        grammar_.nodes.emplace_back();  // k_any_node
        grammar_.literal_sets = {{"false", "true"}, {"null"}};
    }

    Grammar run() {
        grammar_.root = compile(root_, "#");
        require(grammar_.root != k_no_node, "JSON schema: the schema accepts no value");
        check_unions();
        return std::move(grammar_);
    }

  private:
    int32_t compile(const json& s, const std::string& path) {
        if (s.is_boolean()) return s.get<bool>() ? k_any_node : k_no_node;
        if (const auto it = memo_.find(&s); it != memo_.end()) return it->second;
        if (s.contains("$ref")) {
            require(!has_assertions_besides(s, "$ref"),
                    "unsupported JSON-schema keywords beside \"$ref\" at ", path);
            require(in_progress_.insert(&s).second, "JSON schema: circular $ref at ", path);
            const std::string ref = s.at("$ref").get<std::string>();
            const int32_t id = compile(resolve_ref(root_, ref, path), ref);
            in_progress_.erase(&s);
            return memo_[&s] = id;
        }
        if (s.contains("allOf")) {
            require(!has_assertions_besides(s, "allOf"),
                    "unsupported JSON-schema keywords beside \"allOf\" at ", path);
            return memo_[&s] = compile(s.at("allOf")[0], path + "/allOf/0");
        }
        for (const char* key : {"anyOf", "oneOf"}) {
            if (!s.contains(key)) continue;
            require(!has_assertions_besides(s, key), "unsupported JSON-schema keywords beside \"",
                    key, "\" at ", path);
            const int32_t id = new_node(s);
            Node node;
            const json& alts = s.at(key);
            for (size_t k = 0; k < alts.size(); ++k) {
                const int32_t alt = compile(alts[k], path + "/" + key + "/" + std::to_string(k));
                if (alt != k_no_node) node.any_of.push_back(alt);
            }
            require(!node.any_of.empty(), "JSON schema: ", key, " at ", path,
                    " has no satisfiable alternative");
            grammar_.nodes[static_cast<size_t>(id)] = std::move(node);
            return id;
        }
        const int32_t id = new_node(s);
        Node node;
        node.types = types_of(s);
        if (s.contains("enum") || s.contains("const"))
            compile_literals(s, path, node);
        else
            compile_typed(s, path, node);
        grammar_.nodes[static_cast<size_t>(id)] = std::move(node);
        return id;
    }

    int32_t new_node(const json& s) {
        const auto id = static_cast<int32_t>(grammar_.nodes.size());
        grammar_.nodes.emplace_back();
        memo_[&s] = id;
        return id;
    }

    static uint8_t types_of(const json& s) {
        if (s.contains("type")) {
            const json& type = s.at("type");
            const json names = type.is_array() ? type : json::array({type});
            uint8_t bits = 0;
            for (const auto& name : names) {
                const auto at = std::find(std::begin(k_type_names), std::end(k_type_names),
                                          name.get<std::string>());
                bits |= static_cast<uint8_t>(1u << (at - std::begin(k_type_names)));
            }
            return bits;
        }
        const auto any = [&](std::initializer_list<const char*> keys) {
            return std::any_of(keys.begin(), keys.end(),
                               [&](const char* k) { return s.contains(k); });
        };
        if (any({"enum", "const"})) return k_all_types;
        if (any({"properties", "required", "additionalProperties"})) return k_object;
        if (any({"items", "minItems", "maxItems"})) return k_array;
        if (any({"minLength", "maxLength"})) return k_string;
        if (any({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})) return k_number;
        return k_all_types;
    }

    // enum / const: the values that also satisfy the rest of the schema, as dump() writes them.
    void compile_literals(const json& s, const std::string& path, Node& node) {
        json rest = s;
        rest.erase("enum");
        rest.erase("const");
        json values = s.contains("enum") ? s.at("enum") : json::array({s.at("const")});
        std::vector<std::string> set;
        for (const auto& v : values) {
            if (s.contains("const") && v != s.at("const")) continue;
            if (!Validator{root_, nullptr}.check(v, rest, path, 0)) continue;
            set.push_back(v.dump());
        }
        std::sort(set.begin(), set.end());
        set.erase(std::unique(set.begin(), set.end()), set.end());
        require(!set.empty(), "JSON schema: no enum/const value at ", path,
                " satisfies the schema");
        node.literals = static_cast<int32_t>(grammar_.literal_sets.size());
        grammar_.literal_sets.push_back(std::move(set));
    }

    void compile_typed(const json& s, const std::string& path, Node& node) {
        const auto count = [&](const char* key, uint64_t fallback) {
            return s.contains(key) ? s.at(key).get<uint64_t>() : fallback;
        };
        node.min_length = count("minLength", 0);
        node.max_length = count("maxLength", UINT64_MAX);
        if (node.min_length > node.max_length) node.types &= ~k_string;

        const Bounds b = bounds_of(s);
        node.has_min = b.has_min, node.has_max = b.has_max;
        node.exclusive_min = b.exclusive_min, node.exclusive_max = b.exclusive_max;
        node.minimum = b.min, node.maximum = b.max;
        constexpr double k_int_limit = 1e15;  // integers have at most 15 digits
        if (b.has_min) {
            const double lo = b.exclusive_min ? std::floor(b.min) + 1 : std::ceil(b.min);
            node.int_min = static_cast<int64_t>(std::clamp(lo, -k_int_limit, k_int_limit));
        }
        if (b.has_max) {
            const double hi = b.exclusive_max ? std::ceil(b.max) - 1 : std::floor(b.max);
            node.int_max = static_cast<int64_t>(std::clamp(hi, -k_int_limit, k_int_limit));
        }
        if (node.bounded() && node.int_min > node.int_max) node.types &= ~k_integer;
        if (node.bounded() && (b.has_min && b.has_max) &&
            (b.min > b.max || (b.min == b.max && (b.exclusive_min || b.exclusive_max))))
            node.types &= ~k_number;
        if (!(node.types & k_number) && !(node.types & k_integer))
            node.has_min = node.has_max = false;

        node.min_items = count("minItems", 0);
        node.max_items = count("maxItems", UINT64_MAX);
        if (s.contains("items")) node.items = compile(s.at("items"), path + "/items");
        if (node.items == k_no_node) node.max_items = 0;
        if (node.min_items > node.max_items) node.types &= ~k_array;

        if (node.types & k_object) compile_object(s, path, node);
        require(node.types != 0, "JSON schema: the schema at ", path, " accepts no value");
    }

    void compile_object(const json& s, const std::string& path, Node& node) {
        std::set<std::string> required;
        if (s.contains("required"))
            for (const auto& name : s.at("required")) required.insert(name.get<std::string>());
        std::vector<std::pair<std::string, std::string>> props;  // (key, name)
        if (s.contains("properties"))
            for (const auto& [name, sub] : s.at("properties").items())
                props.emplace_back(json(name).dump().substr(1), name);
        std::sort(props.begin(), props.end());
        require(props.size() <= k_max_properties, "JSON schema: object at ", path, " has ",
                props.size(), " properties; at most ", k_max_properties, " are supported");
        for (const auto& [key, name] : props) {
            const std::string sub_path = path + "/properties/" + name;
            const int32_t sub = compile(s.at("properties").at(name), sub_path);
            if (sub == k_no_node) {
                require(!required.count(name), "JSON schema: required property \"", name, "\" at ",
                        path, " accepts no value");
                continue;
            }
            if (required.erase(name)) node.required |= uint64_t{1} << node.properties.size();
            node.properties.push_back({key, sub});
        }
        require(required.empty(), "unsupported JSON schema at ", path, ": required property \"",
                required.empty() ? "" : *required.begin(), "\" is not in properties");
        if (s.contains("additionalProperties"))
            node.additional = compile(s.at("additionalProperties"), path + "/additionalProperties");
        else
            node.additional = s.contains("properties") ? k_no_node : k_any_node;
    }

    // A union that reaches itself through unions alone would expand forever.
    void check_unions() const {
        std::vector<int> state(grammar_.nodes.size(), 0);  // 0 new, 1 on path, 2 done
        const std::function<void(int32_t)> visit = [&](int32_t id) {
            auto& st = state[static_cast<size_t>(id)];
            require(st != 1, "JSON schema: anyOf/oneOf refers to itself without consuming input");
            if (st == 2) return;
            st = 1;
            for (const int32_t alt : grammar_.nodes[static_cast<size_t>(id)].any_of) visit(alt);
            st = 2;
        };
        for (size_t id = 0; id < grammar_.nodes.size(); ++id) visit(static_cast<int32_t>(id));
    }

    const json& root_;
    Grammar grammar_;
    std::map<const json*, int32_t> memo_;
    std::set<const json*> in_progress_;
};

}  // namespace

Grammar compile(const json& schema) {
    const json object_schema = {{"type", "object"}};
    const json& s = schema.is_null() ? object_schema : schema;
    check_schema(s, "#");
    return Compiler(s).run();
}

}  // namespace json_grammar

}  // namespace pangolin
