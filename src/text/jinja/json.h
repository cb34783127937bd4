// JSON in and out of template values: messages and tools arrive as JSON (key order kept, as
// Python's json.loads keeps it), and the `tojson` filter writes Python json.dumps output.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "text/jinja/value.h"

namespace pangolin::jinja {

// JSON objects become dicts in their key order, integers ints, other numbers floats.
// Throws Error past 512 levels of nesting.
Value from_json(const nlohmann::ordered_json& j);

// json.dumps(value, ensure_ascii, indent, separators, sort_keys) as Python writes it.
struct JsonStyle {
    bool ensure_ascii = false;
    std::optional<std::string> indent;  // nullopt: one line; "" or spaces: one item per line
    std::optional<std::string> item_sep, key_sep;  // default ", " (or "," with indent), ": "
    bool sort_keys = false;
};
std::string to_json(const Value& v, const JsonStyle& style = {});

}  // namespace pangolin::jinja
