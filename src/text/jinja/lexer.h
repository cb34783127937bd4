// Template source → tokens, with the whitespace rules Hugging Face renders chat templates
// with: trim_blocks (one newline after a block or comment tag is dropped), lstrip_blocks
// (spaces before a block or comment tag alone on its line are dropped), `-` and `+` markers,
// newlines normalized to "\n" and one trailing newline removed (keep_trailing_newline=False).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pangolin::jinja {

// The template text after newline normalization, with line/column lookup for messages.
class Source {
  public:
    explicit Source(std::string_view raw);  // throws Error on malformed UTF-8
    const std::string& text() const { return text_; }
    // 1-based line and column (in code points) of a byte offset.
    std::pair<int, int> line_col(size_t offset) const;

  private:
    std::string text_;
    std::vector<size_t> line_starts_;
};

// Throws Error("template syntax error at line L, column C: message").
[[noreturn]] void syntax_error(const Source& src, size_t offset, const std::string& message);

enum class Tok { Data, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, Eof };

struct Token {
    Tok type;
    uint32_t pos;      // byte offset in Source::text()
    std::string text;  // Data text, name, operator, or the unescaped string literal
    int64_t int_value = 0;
    double float_value = 0;
};

std::vector<Token> tokenize(const Source& src);

// A token as Jinja2's syntax errors quote it: "'foo'", "'end of print statement'".
std::string describe(const Token& t);

}  // namespace pangolin::jinja
