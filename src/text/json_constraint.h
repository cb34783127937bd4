// Constrained decoding for response_format {"type": "json_object"} and {"type": "json_schema"}:
// a logits processor that lets through only the tokens whose bytes keep the output a prefix of
// a JSON document satisfying the schema (json_schema.h says which keywords and how), so the
// finished output parses and validates.
//
// Each step walks a byte trie of the vocabulary (token_to_piece bytes, built once per
// tokenizer and cached) with the recognizer of json_matcher.h, pruning a branch as soon as its
// prefix is rejected; inside a string body it uses per-token classes computed with the trie
// (plain text / text reaching '"' or '\\' / invalid) and only runs the tokens that leave the
// string. Control tokens are never allowed; end-of-generation tokens only when the document is
// complete. The mask is exact: a token is allowed iff its bytes are accepted.
//
// Server use per request (the request's callbacks run on the engine thread):
//   auto c = JsonConstraint::from_schema(schema_or_null, tokenizer);  // Error → HTTP 400
//   request.logits_processor = [c](float* logits, int64_t n) { c->apply(logits, n); };
//   request.on_token = [c, ...](const TokenEvent& e) { c->accept(e.token); ...; };
//   at the end: c->complete() is false when max_tokens cut the document short.
// For a reasoning model, run apply()/accept() only once ReasoningSplitter::in_reasoning() is
// false (and the close marker is out), so the model thinks freely before answering in JSON.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "text/json_matcher.h"
#include "text/json_schema.h"

namespace pangolin {

class Tokenizer;
class TokenIndex;

// The byte trie and token classes of a vocabulary, built once per tokenizer (about 0.1 s for
// 152k tokens) and kept for later requests; thread-safe.
std::shared_ptr<const TokenIndex> token_index(const Tokenizer& tokenizer);

struct JsonConstraintOptions {
    int max_whitespace = 20;  // whitespace bytes in a row between JSON tokens (llama.cpp: 21)
    int max_depth = 48;       // objects and arrays nested
};

class JsonConstraint {
  public:
    // `schema_or_null`: the json_schema's "schema", or null for json_object (any object).
    // Error naming the keyword and path for a schema we cannot enforce.
    static std::shared_ptr<JsonConstraint> from_schema(const nlohmann::json& schema_or_null,
                                                       const Tokenizer& tokenizer,
                                                       const JsonConstraintOptions& options = {});
    static std::shared_ptr<JsonConstraint> from_schema(const nlohmann::json& schema_or_null,
                                                       std::shared_ptr<const TokenIndex> index,
                                                       const JsonConstraintOptions& options = {});

    JsonConstraint(json_grammar::Grammar grammar, std::shared_ptr<const TokenIndex> index,
                   const JsonConstraintOptions& options);
    JsonConstraint(const JsonConstraint&) = delete;
    JsonConstraint& operator=(const JsonConstraint&) = delete;

    // Sets every disallowed logit to -inf (ids past the tokenizer's vocabulary included).
    void apply(float* logits, int64_t n_vocab);
    // Advances over a sampled token; false (state unchanged) when the token is not allowed.
    bool accept(int32_t token);
    // Advances over raw bytes (tests); false (state unchanged) when they are not allowed.
    bool accept_bytes(std::string_view bytes);
    // The output so far is a whole document (trailing whitespace aside): EOG is allowed.
    bool complete() const;

    // The allowed tokens now, one bit per id of the tokenizer's vocabulary.
    const std::vector<uint64_t>& mask();
    bool allowed(int32_t token);
    size_t count_allowed();
    // Brute force, no mask: whether the token's bytes are accepted now (tests the mask).
    bool would_accept(int32_t token);

  private:
    void compute_mask();
    void walk_trie(const std::vector<json_grammar::Stack>& states);
    bool accepts(const json_grammar::Stack& s, std::string_view bytes);
    void set(int32_t token) {
        mask_[static_cast<size_t>(token) >> 6] |= uint64_t{1} << (token & 63);
    }
    bool is_set(int32_t token) const {
        return mask_[static_cast<size_t>(token) >> 6] >> (token & 63) & 1;
    }

    json_grammar::Grammar grammar_;
    json_grammar::Matcher matcher_;
    std::shared_ptr<const TokenIndex> index_;
    std::vector<json_grammar::Stack> states_;  // the committed state
    json_grammar::LinkArena committed_, scratch_;
    std::vector<uint64_t> mask_;
    bool mask_valid_ = false;
    // scratch for the walks
    struct Level {
        uint32_t edge, edge_end;
        size_t states_begin, states_end;
    };
    std::vector<Level> levels_;
    std::vector<json_grammar::Stack> pool_, a_, b_, others_;
};

}  // namespace pangolin
