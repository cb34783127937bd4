// JSON / JSON-schema constrained decoding on the real Qwen2 vocabulary (151,936 tokens): a
// random-logits "model" generates under the constraint for many schemas and seeds; every output
// must parse and validate, the mask must never be empty before the end, end-of-generation must
// be allowed exactly when the document is complete, and the mask must equal a brute-force check
// of every token. Schemas we cannot enforce are refused with a message naming the keyword.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.h"
#include "support/fixtures.h"
#include "support_vocab.h"
#include "text/json_constraint.h"
#include "text/tokenizer.h"

using namespace pangolin;
using namespace pangolin::test;
using nlohmann::json;

namespace {

const Tokenizer& qwen2() {
    static const auto tok = load_tokenizer(vocab_gguf("qwen2"));
    return *tok;
}

std::string error_of(const json& schema) {
    try {
        json_grammar::compile(schema);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

// Weights of the random model: structural tokens are favoured so documents finish in a few
// hundred tokens, and end-of-generation is taken soon once allowed.
struct RandomModel {
    std::vector<float> logit;    // per token
    std::vector<double> weight;  // exp(logit)

    explicit RandomModel(const Tokenizer& tok) {
        const size_t n = tok.n_vocab();
        logit.assign(n, 0);
        for (size_t k = 0; k < n; ++k) {
            const auto id = static_cast<int32_t>(k);
            const std::string piece = tok.token_to_piece(id, false);
            float b = 0;
            if (piece.find('"') != std::string::npos) b += 4;
            if (piece.find_first_of("}]") != std::string::npos) b += 3;
            if (piece.find_first_of("{[") != std::string::npos) b -= 1;
            if (!piece.empty() && piece.find_first_not_of(" \t\n\r") == std::string::npos) b -= 3;
            if (tok.is_eog(id)) b = 10;
            logit[k] = b;
        }
        weight.resize(n);
        for (size_t k = 0; k < n; ++k) weight[k] = std::exp(static_cast<double>(logit[k]));
    }

    // A token among the finite logits, with probability proportional to its weight.
    int32_t sample(const std::vector<float>& logits, std::mt19937_64& rng) const {
        double total = 0;
        for (size_t k = 0; k < logits.size(); ++k)
            if (std::isfinite(logits[k])) total += weight[k];
        double r = std::uniform_real_distribution<double>(0, total)(rng);
        int32_t last = -1;
        for (size_t k = 0; k < logits.size(); ++k) {
            if (!std::isfinite(logits[k])) continue;
            last = static_cast<int32_t>(k);
            if ((r -= weight[k]) <= 0) break;
        }
        return last;
    }
};

const RandomModel& random_model() {
    static const RandomModel model(qwen2());
    return model;
}

// The mask against accepting each token's bytes one by one.
void expect_exact_mask(JsonConstraint& c, const std::string& where) {
    const std::vector<uint64_t> mask = c.mask();
    const auto n = static_cast<int32_t>(qwen2().n_vocab());
    int wrong = 0;
    for (int32_t t = 0; t < n; ++t) {
        const bool in_mask = mask[static_cast<size_t>(t) >> 6] >> (t & 63) & 1;
        if (in_mask != c.would_accept(t) && ++wrong <= 5)
            ADD_FAILURE() << where << ": token " << t << " \"" << qwen2().token_to_piece(t)
                          << "\" mask " << in_mask;
    }
}

struct Generated {
    std::string text;
    bool finished = false;  // ended with an end-of-generation token
};

Generated generate(const json& schema, uint64_t seed, bool check_exact, int max_steps = 3000) {
    const Tokenizer& tok = qwen2();
    const auto c = JsonConstraint::from_schema(schema, tok);
    std::mt19937_64 rng(seed);
    Generated out;
    const auto n = static_cast<int64_t>(tok.n_vocab());
    std::vector<float> logits(static_cast<size_t>(n) + 64);  // a model's padded row
    for (int step = 0; step < max_steps; ++step) {
        const std::string where =
            schema.dump() + " seed " + std::to_string(seed) + " after \"" + out.text + "\"";
        if (check_exact && (step < 3 || step % 7 == 0)) expect_exact_mask(*c, where);
        std::copy(random_model().logit.begin(), random_model().logit.end(), logits.begin());
        c->apply(logits.data(), static_cast<int64_t>(logits.size()));
        for (size_t k = static_cast<size_t>(n); k < logits.size(); ++k)
            EXPECT_TRUE(std::isinf(logits[k]));
        logits.resize(static_cast<size_t>(n));
        const size_t allowed = c->count_allowed();
        EXPECT_GT(allowed, 0u) << where;
        bool eog_allowed = false;
        for (int32_t t = 0; t < n; ++t)
            if (tok.is_eog(t) && c->allowed(t)) eog_allowed = true;
        EXPECT_EQ(eog_allowed, c->complete()) << where;
        if (allowed == 0) return out;
        const int32_t t = random_model().sample(logits, rng);
        logits.resize(static_cast<size_t>(n) + 64);
        EXPECT_TRUE(c->allowed(t));
        if (tok.is_eog(t)) {
            EXPECT_TRUE(c->complete()) << where;
            EXPECT_TRUE(c->accept(t));
            out.finished = true;
            return out;
        }
        EXPECT_TRUE(c->accept(t)) << where;
        out.text += tok.token_to_piece(t, false);
    }
    return out;
}

const char* const k_schemas[] = {
    R"(null)",
    R"({})",
    R"({"type": "object", "properties": {"name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0, "maximum": 150}}, "required": ["name", "age"]})",
    R"({"type": "array", "items": {"enum": ["red", "green", "blue", "\"quoted\"", "ünïcödé", 7,
        null, true, {"k": [1, 2]}]}, "minItems": 2, "maxItems": 4})",
    R"({"anyOf": [{"type": "string", "maxLength": 3}, {"type": "null"}, {"type": "number"}]})",
    R"({"$defs": {"node": {"type": "object", "properties": {"value": {"type": "integer"},
        "children": {"type": "array", "items": {"$ref": "#/$defs/node"}, "maxItems": 2}},
        "required": ["value"], "additionalProperties": false}}, "$ref": "#/$defs/node"})",
    R"({"type": "object", "properties": {"code": {"type": "string", "minLength": 2,
        "maxLength": 4}, "note": {"type": "string", "minLength": 1}},
        "required": ["code", "note"]})",
    R"({"type": "number", "exclusiveMinimum": -1.5, "maximum": 2.25})",
    R"({"type": "array", "items": {"type": "integer", "minimum": 37, "maximum": 42},
        "minItems": 1})",
    R"({"type": "array", "items": {"type": "integer", "exclusiveMinimum": -20,
        "exclusiveMaximum": -7}})",
    R"({"const": {"a": [1, 2, {"b": null}], "c": "é"}})",
    R"({"type": ["string", "integer", "boolean", "null"]})",
    R"({"type": "object", "additionalProperties": {"type": "integer"}})",
    R"({"oneOf": [
        {"type": "object", "properties": {"kind": {"const": "a"}, "x": {"type": "number"}},
         "required": ["kind", "x"]},
        {"type": "object", "properties": {"kind": {"const": "b"}, "y": {"type": "boolean"}},
         "required": ["kind", "y"]}]})",
    R"({"title": "Order", "type": "object", "$defs": {"Item": {"title": "Item",
        "type": "object", "properties": {"sku": {"type": "string", "description": "id"},
        "qty": {"type": "integer", "minimum": 1, "default": 1}}, "required": ["sku"]}},
        "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/Item"},
        "maxItems": 3}, "coupon": {"anyOf": [{"type": "string"}, {"type": "null"}],
        "default": null}, "status": {"enum": ["new", "paid"]}},
        "required": ["items", "status"]})",
    R"({"type": "object", "properties": {"a\"b": {"type": "boolean"}, "c\\d": {"type": "null"},
        "ключ": {"type": "number", "minimum": 0.5, "maximum": 0.75}},
        "required": ["a\"b", "c\\d", "ключ"]})",
    R"({"type": "array", "minItems": 1, "maxItems": 3})",
    R"({"type": "string"})",
    R"({"anyOf": [{"type": "string", "maxLength": 5}, {"type": "string", "minLength": 3},
        {"enum": ["abc", "x\u00e9"]}]})",
    R"({"type": "object", "properties": {"x": {"type": "integer"}},
        "additionalProperties": true})",
};

}  // namespace

TEST(JsonConstraint, GeneratedOutputsParseAndValidate) {
    PANGOLIN_REQUIRE_SHARED();
    int finished = 0, runs = 0;
    for (const char* text : k_schemas) {
        const json schema = json::parse(text);
        for (uint64_t seed = 1; seed <= 8; ++seed) {
            const Generated g = generate(schema, seed, /*check_exact=*/seed <= 2);
            ++runs;
            EXPECT_TRUE(g.finished) << schema.dump() << " seed " << seed << ": " << g.text;
            if (!g.finished) continue;
            ++finished;
            if (std::getenv("PANGOLIN_SHOW_JSON")) std::printf("%s\n", g.text.c_str());
            const json value = json::parse(g.text, nullptr, false);
            ASSERT_FALSE(value.is_discarded()) << schema.dump() << ": " << g.text;
            std::string why;
            const json& effective = schema.is_null() ? json{{"type", "object"}} : schema;
            EXPECT_TRUE(validate(value, effective, &why)) << g.text << ": " << why;
            if (schema.is_null()) {
                EXPECT_TRUE(value.is_object()) << g.text;
            }
        }
    }
    EXPECT_EQ(finished, runs);
}

TEST(JsonConstraint, Recognizer) {
    PANGOLIN_REQUIRE_SHARED();
    const auto index = token_index(qwen2());
    const auto accepts = [&](const char* schema, const std::string& text) {
        const auto c = JsonConstraint::from_schema(json::parse(schema), index);
        return c->accept_bytes(text);
    };
    const auto completes = [&](const char* schema, const std::string& text) {
        const auto c = JsonConstraint::from_schema(json::parse(schema), index);
        return c->accept_bytes(text) && c->complete();
    };
    const char* person = R"({"type": "object", "properties": {"a": {"type": "integer",
        "minimum": 0}, "b": {"type": "string"}}, "required": ["a"]})";
    EXPECT_TRUE(completes(person, R"({"a": 12})"));
    EXPECT_TRUE(completes(person, "{\n  \"b\": \"x\",\n  \"a\": 0\n}\n"));
    EXPECT_TRUE(accepts(person, R"({"a": -)"));        // "-0" is 0
    EXPECT_FALSE(accepts(person, R"({"a": -1)"));      // below the minimum whatever follows
    EXPECT_FALSE(accepts(person, R"({})"));            // "a" is required
    EXPECT_FALSE(accepts(person, R"({"a": 1, "a")"));  // twice
    EXPECT_FALSE(accepts(person, R"({"c")"));          // no extra keys
    EXPECT_FALSE(accepts(person, R"({"a": 01)"));
    EXPECT_FALSE(completes(person, R"({"a": 1)"));
    // Strings: escapes, surrogate pairs, UTF-8.
    const char* str = R"({"type": "string", "maxLength": 3})";
    EXPECT_TRUE(completes(str, R"("\ud83d\ude00\n\u00e9")"));
    EXPECT_FALSE(accepts(str, R"("\ude00)"));      // a lone low surrogate
    EXPECT_FALSE(accepts(str, R"("\ud83dx)"));     // a high one not followed by a low one
    EXPECT_FALSE(accepts(str, "\"\xC3\x28"));      // a broken UTF-8 sequence
    EXPECT_FALSE(accepts(str, "\"\xED\xA0\x80"));  // UTF-8 of a surrogate
    EXPECT_FALSE(accepts(str, "\"a\nb"));          // raw control character
    EXPECT_FALSE(accepts(str, R"("abcd)"));
    EXPECT_TRUE(completes(str, "\"日本語\""));
    // Whitespace is capped (20 in a row).
    EXPECT_TRUE(accepts("{}", std::string(20, ' ') + "1"));
    EXPECT_FALSE(accepts("{}", std::string(21, ' ')));
    // Numbers: integers and number syntax, bounds, digit limits.
    EXPECT_TRUE(completes(R"({"type": "number"})", "-0.5e+10"));
    EXPECT_FALSE(accepts(R"({"type": "integer"})", "1."));
    EXPECT_FALSE(accepts(R"({"type": "integer", "maximum": 9})", "10"));
    EXPECT_TRUE(completes(R"({"type": "integer", "maximum": 9})", "-123"));
    EXPECT_FALSE(accepts(R"({"type": "number", "maximum": 1e30})", "1e"));  // bounded: no exponent
    EXPECT_FALSE(accepts(R"({"type": "integer"})", std::string(16, '9')));
    EXPECT_FALSE(completes(R"({"type": "number", "exclusiveMaximum": 2})", "2"));
    EXPECT_TRUE(accepts(R"({"type": "number", "exclusiveMaximum": 2})", "1.99"));
    // Literals.
    EXPECT_TRUE(completes(R"({"enum": [1, 10, "x"]})", "1"));
    EXPECT_TRUE(completes(R"({"enum": [1, 10, "x"]})", "10"));
    EXPECT_FALSE(accepts(R"({"enum": [1, 10, "x"]})", "2"));
    EXPECT_TRUE(completes(R"({"type": "boolean"})", "false"));
    EXPECT_FALSE(accepts(R"({"type": "boolean"})", "null"));
    // Arrays.
    const char* arr = R"({"type": "array", "items": {"type": "null"}, "minItems": 1,
        "maxItems": 2})";
    EXPECT_FALSE(accepts(arr, "[]"));
    EXPECT_TRUE(completes(arr, "[null, null]"));
    EXPECT_FALSE(accepts(arr, "[null, null,"));
    // json_object mode: objects only, any content.
    const auto obj = JsonConstraint::from_schema(nullptr, index);
    EXPECT_FALSE(JsonConstraint::from_schema(nullptr, index)->accept_bytes("[1]"));
    EXPECT_TRUE(obj->accept_bytes(R"({"k": [1, {"x": null}], "é": "v\n")"));
    EXPECT_FALSE(JsonConstraint::from_schema(nullptr, index)->accept_bytes(R"({"\n)"));
    EXPECT_FALSE(obj->complete());
    EXPECT_TRUE(obj->accept_bytes("}"));
    EXPECT_TRUE(obj->complete());
}

TEST(JsonConstraint, UnsupportedKeywordsAreRefused) {
    const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
        {R"({"type": "string", "pattern": "^a+$"})", {"pattern", "#"}},
        {R"({"type": "object", "properties": {"zip": {"type": "string", "format": "email"}}})",
         {"format", "#/properties/zip"}},
        {R"({"type": "number", "multipleOf": 3})", {"multipleOf"}},
        {R"({"type": "array", "prefixItems": [{"type": "string"}]})", {"prefixItems"}},
        {R"({"type": "array", "items": [{"type": "string"}]})", {"items", "tuple"}},
        {R"({"type": "array", "uniqueItems": true})", {"uniqueItems"}},
        {R"({"allOf": [{"type": "string"}, {"maxLength": 2}]})", {"allOf"}},
        {R"({"not": {"type": "null"}})", {"not"}},
        {R"({"type": "object", "patternProperties": {"^x": {}}})", {"patternProperties"}},
        {R"({"$ref": "https://example.com/s.json"})", {"$ref", "local"}},
        {R"({"$ref": "#/$defs/missing"})", {"missing"}},
        {R"({"type": "strin"})", {"strin"}},
        {R"({"enum": ["a"], "type": "integer"})", {"enum"}},
        {R"({"type": "object", "required": ["x"]})", {"x"}},
        {R"({"type": "string", "minLength": 3, "maxLength": 2})", {"accepts no value"}},
        {R"({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
             "$ref": "#/$defs/a"})",
         {"circular"}},
    };
    for (const auto& [text, words] : cases) {
        const std::string message = error_of(json::parse(text));
        EXPECT_FALSE(message.empty()) << text;
        for (const auto& word : words)
            EXPECT_NE(message.find(word), std::string::npos) << text << " → " << message;
    }
    EXPECT_EQ(error_of(json::parse(R"({"type": "string", "title": "t", "description": "d",
        "default": "x", "examples": ["y"], "$schema": "http://json-schema.org/draft-07/schema#"})")),
              "");
    // validate() refuses the same schemas.
    EXPECT_THROW(validate(json("a"), json::parse(R"({"pattern": "a"})")), Error);
}

TEST(JsonConstraint, Validate) {
    const json schema = json::parse(R"({"type": "object", "properties": {
        "n": {"type": "integer", "exclusiveMinimum": 0},
        "s": {"type": "string", "maxLength": 2},
        "o": {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 0}]},
        "r": {"$ref": "#/$defs/r"}}, "required": ["n"], "additionalProperties": false,
        "$defs": {"r": {"type": "array", "items": {"$ref": "#/$defs/r"}, "maxItems": 1}}})");
    std::string why;
    EXPECT_TRUE(validate(json::parse(R"({"n": 1, "s": "日本", "r": [[[]]], "o": -1})"), schema));
    EXPECT_TRUE(validate(json::parse(R"({"n": 2.0})"), schema));  // 2.0 is an integer
    EXPECT_FALSE(validate(json::parse(R"({"n": 0})"), schema, &why));
    EXPECT_NE(why.find("$.n"), std::string::npos) << why;
    EXPECT_FALSE(validate(json::parse(R"({"n": 1, "s": "abc"})"), schema, &why));
    EXPECT_FALSE(validate(json::parse(R"({"n": 1, "x": 1})"), schema, &why));
    EXPECT_FALSE(validate(json::parse(R"({"n": 1, "o": 1})"), schema, &why));  // both match
    EXPECT_FALSE(validate(json::parse(R"({"n": 1, "r": [[], []]})"), schema, &why));
    EXPECT_FALSE(validate(json::parse(R"({})"), schema, &why));
}
