// UTF-8 helpers for the tokenizers: strict validation (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), code point encoding, and the bookkeeping a streaming
// decoder needs (how many trailing bytes are the start of a character still to come).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pangolin {

// Length of the well-formed UTF-8 sequence starting at s[pos], or 0 when the bytes there do
// not start one (invalid lead byte, bad continuation, overlong, surrogate, truncated).
size_t utf8_sequence_length(std::string_view s, size_t pos);

// Offset of the first byte that does not begin a well-formed sequence; npos when all of `s`
// is valid UTF-8.
size_t utf8_first_invalid(std::string_view s);

// Throws Error("<what> is not valid UTF-8: byte 0x.. at offset N ...") unless `s` is valid.
void require_utf8(std::string_view s, std::string_view what);

// Number of trailing bytes (0..3) that are a proper prefix of a well-formed sequence, i.e.
// a character that more bytes could still complete.
size_t utf8_incomplete_tail(std::string_view s);

// Byte length of a sequence from its lead byte alone (1 for ASCII and for bytes that cannot
// lead; llama.cpp's unicode_len_utf8).
inline size_t utf8_lead_length(unsigned char lead) {
    return lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

// Appends the UTF-8 encoding of code point `cp` (<= 0x10FFFF) to `out`.
void utf8_append(std::string& out, uint32_t cp);

// Decodes the well-formed sequence at s[pos] (caller checked it with utf8_sequence_length).
uint32_t utf8_decode_at(std::string_view s, size_t pos, size_t len);

// Copies `s`, replacing each maximal ill-formed subsequence with U+FFFD.
std::string utf8_replace_invalid(std::string_view s);

}  // namespace pangolin
