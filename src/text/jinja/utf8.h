// UTF-8 helpers with Python's str semantics: templates index, slice, measure and case-map
// strings by code point, and Python's notion of whitespace and line boundaries.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace pangolin::jinja::utf8 {

// Decodes the code point at s[i] and advances i past it. Malformed bytes decode as U+FFFD
// one byte at a time (the template and JSON readers reject malformed input up front).
char32_t decode(std::string_view s, size_t& i);
void append(std::string& out, char32_t cp);
bool valid(std::string_view s, size_t* bad_offset = nullptr);
bool is_ascii(std::string_view s);

size_t length(std::string_view s);  // in code points
// Byte offset of every code point, plus s.size() at the end (size length(s) + 1).
std::vector<size_t> offsets(std::string_view s);
// Number of code points in s[0, byte_offset).
size_t index_of_byte(std::string_view s, size_t byte_offset);

// Python str.isspace() / the \s of Python's re (same set).
bool is_space(char32_t cp);
// Python's str.splitlines() line boundaries.
bool is_line_break(char32_t cp);
bool is_alpha(char32_t cp);
bool is_digit(char32_t cp);
bool is_alnum(char32_t cp);
bool is_upper(char32_t cp);
bool is_lower(char32_t cp);

std::string upper(std::string_view s);
std::string lower(std::string_view s);
// First code point upper-cased (Python: title-cased), the rest lower-cased.
std::string capitalize(std::string_view s);
// Python str.title(): a letter is upper-cased after a non-letter, lower-cased after a letter.
std::string title(std::string_view s);
std::string swapcase(std::string_view s);

// Python str.strip/lstrip/rstrip: chars == nullptr strips whitespace, otherwise any code point
// of *chars.
std::string_view strip(std::string_view s, const std::string* chars, bool left, bool right);
// Python str.splitlines(keepends=False).
std::vector<std::string> splitlines(std::string_view s);

}  // namespace pangolin::jinja::utf8
