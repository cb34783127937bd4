// GPT-2's byte-level alphabet: every byte maps to one printable code point (bytes that are
// printable Latin-1 map to themselves, the other 68 to U+0100.. in byte order), so a byte
// string becomes a text a BPE vocabulary can hold. "Hello world" → "HelloĠworld".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pangolin {

// UTF-8 of the code point byte `b` maps to.
const std::string& byte_to_mapped(uint8_t b);

// Appends the mapped form of every byte of `bytes` to `out`.
void append_byte_mapped(std::string& out, std::string_view bytes);

// The byte a mapped code point stands for, or -1 when `cp` is not in the alphabet.
int mapped_to_byte(uint32_t cp);

}  // namespace pangolin
