// A byte-at-a-time recognizer of the prefixes of JSON text that satisfy a compiled schema
// (json_schema.h): a pushdown automaton whose stacks are persistent linked lists, so that the
// token-mask search can branch at every byte by copying one frame.
//
// A state is a set of Stacks (several while anyOf alternatives are all still possible). Every
// prefix it accepts can still be completed to a valid document using bytes alone (the
// vocabulary has a token per byte): numbers keep within reach of their bounds, strings of their
// length limits, objects of their required keys, and whitespace runs are capped so generation
// always makes progress.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "text/json_schema.h"

namespace pangolin::json_grammar {

enum class FrameKind : uint8_t { Root, Object, Key, Array, String, Literal, Number };

struct Frame {
    FrameKind kind = FrameKind::Root;
    uint8_t phase = 0;
    uint8_t utf8_need = 0, utf8_lo = 0x80, utf8_hi = 0xBF;  // String, Key: continuation bytes due
    bool flag = false;  // Key: an extra (additionalProperties) key is still possible; Number: '-'
    uint8_t digits = 0, frac_digits = 0, exp_digits = 0;  // Number
    uint16_t escape = 0;      // String: value of the \u hex digits read so far
    int32_t node = 0;         // Literal: the literal set; Key: the object's node; others: own node
    uint32_t lo = 0, hi = 0;  // Literal, Key: candidates [lo, hi) of the sorted set / keys
    uint32_t pos = 0;         // Literal, Key: bytes matched; String: \u digits read
    uint32_t prop = 0;        // Object: the property whose value comes next (k_extra_key)
    uint64_t n = 0;           // Object: properties seen (bit i); Array: items; String: code points;
                              // Number: integer part
    uint64_t frac = 0;        // Number: the fraction digits as an integer
};

constexpr uint32_t k_extra_key = UINT32_MAX;

struct Link {
    Frame frame;
    const Link* below;
};

// Links never move; reset() recycles them all at once.
class LinkArena {
  public:
    const Link* push(const Frame& frame, const Link* below);
    void reset() { chunk_ = 0, used_ = 0; }

  private:
    static constexpr size_t k_chunk = 4096;
    std::vector<std::unique_ptr<Link[]>> chunks_;
    size_t chunk_ = 0, used_ = 0;
};

struct Stack {
    Frame top;
    const Link* below = nullptr;
    uint16_t depth = 0;
    uint8_t ws = 0;  // whitespace bytes in a row
};

struct MatcherOptions {
    int max_whitespace = 20;  // whitespace bytes in a row between tokens of the JSON text
    int max_depth = 48;       // objects and arrays nested
};

class Matcher {
  public:
    Matcher(const Grammar& grammar, MatcherOptions options);

    Stack initial() const;
    // Appends to `out` each stack `s` can become by reading byte `c` (none: `c` cannot come next).
    void advance(Stack s, uint8_t c, LinkArena& arena, std::vector<Stack>& out) const;
    // Whether the text read so far is a complete document (trailing whitespace aside).
    bool can_end(Stack s) const;

    // When `s` is in the body of a string (not in an escape) or of an object key that may still
    // be an extra key, any plain text (no '"', '\\' or control bytes, well-formed UTF-8) of at
    // most this many code points can come next; nullopt otherwise.
    std::optional<uint64_t> plain_string_room(const Stack& s) const;
    // 0..7: which UTF-8 continuation the next byte of a string body must be (see utf8_class_state).
    static int utf8_class(const Frame& f);

    const Grammar& grammar() const { return grammar_; }

  private:
    void start_value(Stack s, int32_t node, uint8_t c, LinkArena& arena,
                     std::vector<Stack>& out) const;
    bool take_whitespace(Stack& s) const;
    void advance_object(Stack& s, uint8_t c, LinkArena& arena, std::vector<Stack>& out) const;
    void advance_key(Stack& s, uint8_t c, std::vector<Stack>& out) const;
    void advance_array(Stack& s, uint8_t c, LinkArena& arena, std::vector<Stack>& out) const;
    void advance_string(Stack& s, uint8_t c, std::vector<Stack>& out) const;
    // false: `c` ends the number (re-dispatch it), after complete_value() when valid.
    bool advance_number(Stack& s, uint8_t c, std::vector<Stack>& out, bool& dead) const;
    bool number_feasible(const Frame& f, const Node& node) const;
    bool number_valid(const Frame& f, const Node& node) const;
    bool key_possible(const Frame& object, const Node& node) const;

    const Grammar& grammar_;
    MatcherOptions options_;
};

// UTF-8 well-formedness: whether `c` may come next in a string body whose state `f` holds, and
// the state after it; `starts_char` tells whether `c` begins a code point.
bool utf8_step(Frame& f, uint8_t c, bool& starts_char);
// The continuation state of class k (0: between characters).
void utf8_class_state(int k, Frame& f);

}  // namespace pangolin::json_grammar
