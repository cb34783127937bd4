// JSON Schema for constrained decoding: the subset we can enforce token by token, compiled into
// a graph of nodes that json_matcher.h walks, and a validator for the same subset.
//
// Supported: type (a name or an array of names), enum, const, anyOf, oneOf (generated as a
// union, like llama.cpp and xgrammar; validate() checks exactly-one), allOf with one subschema,
// $ref to "#", "#/definitions/…" or "#/$defs/…" (recursion allowed), properties, required,
// additionalProperties (true / false / schema), items (a schema), minItems, maxItems,
// minLength, maxLength, minimum, maximum, exclusiveMinimum, exclusiveMaximum (number or
// draft-4 boolean), and the annotations title, description, default, examples, $schema, $id,
// $comment, deprecated, readOnly, writeOnly, definitions, $defs. Any other keyword (pattern,
// format, multipleOf, prefixItems, patternProperties, uniqueItems, not, if/then/else, …) is
// refused with an Error naming it and where it is, never ignored.
//
// Generation choices (the validator follows plain JSON Schema semantics; everything generated
// validates):
// - Properties may come in any order, each at most once; `}` only once all required are there.
// - An object schema with `properties` but no `additionalProperties` allows no other keys
//   (llama.cpp's and xgrammar's default); `{"type": "object"}` alone allows any keys. Extra
//   keys are written without backslash escapes.
// - Without `type`, the type follows from the keywords present (properties → object, items →
//   array, minLength → string, minimum → number); with none of them, any value.
// - enum / const values are written as nlohmann's compact dump() spells them.
// - Numbers: at most 15 integer digits, 9 fraction digits and a 2-digit exponent; a bounded
//   number has no exponent and every prefix can still reach a value within the bounds.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace pangolin {

// Whether `value` satisfies `schema` (the subset above); `why` gets the first failure with its
// JSON path. Error when the schema itself is malformed or uses an unsupported keyword.
bool validate(const nlohmann::json& value, const nlohmann::json& schema,
              std::string* why = nullptr);

namespace json_grammar {

enum TypeBits : uint8_t {
    k_null = 1,
    k_boolean = 2,
    k_integer = 4,
    k_number = 8,  // with k_number set, k_integer is implied
    k_string = 16,
    k_array = 32,
    k_object = 64,
    k_all_types = 127,
};

constexpr int32_t k_any_node = 0;  // accepts every JSON value
constexpr int32_t k_no_node = -1;
constexpr int32_t k_bool_literals = 0, k_null_literals = 1;  // literal sets every grammar has
constexpr int k_max_properties = 64;

struct Property {
    std::string key;  // the name as JSON writes it inside quotes, plus the closing quote
    int32_t node;
};

struct Node {
    std::vector<int32_t> any_of;  // non-empty: this node is the union of these, nothing else
    uint8_t types = k_all_types;
    int32_t literals = -1;  // enum/const: index of a sorted set of serializations; only those
    // string
    uint64_t min_length = 0, max_length = UINT64_MAX;
    // number: a bounded integer has inclusive integer bounds; a bounded number keeps its own
    bool has_min = false, has_max = false, exclusive_min = false, exclusive_max = false;
    double minimum = 0, maximum = 0;
    int64_t int_min = INT64_MIN, int_max = INT64_MAX;
    // array
    int32_t items = k_any_node;
    uint64_t min_items = 0, max_items = UINT64_MAX;
    // object
    std::vector<Property> properties;  // sorted by key
    uint64_t required = 0;             // bit i: properties[i] is required
    int32_t additional = k_any_node;   // node of extra keys' values, k_no_node: no extra keys

    bool bounded() const { return has_min || has_max; }
};

struct Grammar {
    std::vector<Node> nodes;                             // nodes[k_any_node] accepts any value
    std::vector<std::vector<std::string>> literal_sets;  // each sorted, unique
    int32_t root = k_any_node;
};

// Error (naming the keyword and its path, e.g. `unsupported JSON-schema keyword "pattern" at
// #/properties/zip`) for what we cannot enforce or a schema no value satisfies. A null schema
// means {"type": "object"} (response_format json_object).
Grammar compile(const nlohmann::json& schema);

}  // namespace json_grammar

}  // namespace pangolin
