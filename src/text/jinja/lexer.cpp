#include "text/jinja/lexer.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "core/error.h"
#include "text/jinja/utf8.h"

namespace pangolin::jinja {

Source::Source(std::string_view raw) {
    size_t bad = 0;
    if (!utf8::valid(raw, &bad)) fail("chat template is not valid UTF-8 (byte offset ", bad, ")");
    text_.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '\r') {
            text_ += '\n';
            if (i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
        } else {
            text_ += raw[i];
        }
    }
    if (!text_.empty() && text_.back() == '\n') text_.pop_back();
    line_starts_.push_back(0);
    for (size_t i = 0; i < text_.size(); ++i)
        if (text_[i] == '\n') line_starts_.push_back(i + 1);
}

std::pair<int, int> Source::line_col(size_t offset) const {
    offset = std::min(offset, text_.size());
    const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    const size_t line = static_cast<size_t>(it - line_starts_.begin());
    const size_t start = line_starts_[line - 1];
    const size_t col = utf8::length(std::string_view(text_).substr(start, offset - start));
    return {static_cast<int>(line), static_cast<int>(col + 1)};
}

void syntax_error(const Source& src, size_t offset, const std::string& message) {
    const auto [line, col] = src.line_col(offset);
    fail("template syntax error at line ", line, ", column ", col, ": ", message);
}

std::string describe(const Token& t) {
    const char* what = "token";
    switch (t.type) {
        case Tok::Data:
            what = "template data";
            break;
        case Tok::VarBegin:
            what = "begin of print statement";
            break;
        case Tok::VarEnd:
            what = "end of print statement";
            break;
        case Tok::BlockBegin:
            what = "begin of statement block";
            break;
        case Tok::BlockEnd:
            what = "end of statement block";
            break;
        case Tok::Name:
        case Tok::Op:
            return "'" + t.text + "'";
        case Tok::String:
            what = "string";
            break;
        case Tok::Int:
            what = "integer";
            break;
        case Tok::Float:
            what = "float";
            break;
        case Tok::Eof:
            what = "end of template";
            break;
    }
    return std::string("'") + what + "'";
}

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           static_cast<unsigned char>(c) >= 0x80;
}
bool is_name_char(char c) {
    return is_name_start(c) || is_digit(c);
}
bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

class Lexer {
  public:
    explicit Lexer(const Source& src) : src_(src), s_(src.text()) {}

    std::vector<Token> run() {
        size_t pos = 0;
        while (pos < s_.size()) pos = root(pos);
        push(Tok::Eof, s_.size());
        return std::move(out_);
    }

  private:
    const Source& src_;
    const std::string& s_;
    std::vector<Token> out_;

    bool at(size_t pos, const char* lit) const {
        return s_.compare(pos, std::strlen(lit), lit) == 0;
    }

    Token& push(Tok type, size_t pos, std::string text = {}) {
        out_.push_back(Token{type, static_cast<uint32_t>(pos), std::move(text)});
        return out_.back();
    }

    // Python's \s* (Unicode whitespace) from pos.
    size_t skip_space(size_t pos) const {
        while (pos < s_.size()) {
            size_t next = pos;
            if (!utf8::is_space(utf8::decode(s_, next))) break;
            pos = next;
        }
        return pos;
    }

    // The text before a tag, after the tag's `-`/`+` marker and lstrip_blocks are applied.
    std::string strip_before(size_t begin, size_t end, char sign, bool lstrip_allowed) const {
        std::string_view text(s_.data() + begin, end - begin);
        if (sign == '-') return std::string(utf8::strip(text, nullptr, false, true));
        if (sign != '+' && lstrip_allowed) {
            const bool line_starting = begin == 0 || s_[begin - 1] == '\n';
            const size_t nl = text.rfind('\n');
            const size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
            if (l_pos > 0 || line_starting) {
                const std::string_view tail = text.substr(l_pos);
                if (!tail.empty() && utf8::strip(tail, nullptr, true, false).empty())
                    return std::string(text.substr(0, l_pos));
            }
        }
        return std::string(text);
    }

    // A block end at pos: "-%}" plus whitespace, "+%}", or "%}" plus one newline (trim_blocks).
    size_t match_block_end(size_t pos) const {
        if (at(pos, "-%}")) return skip_space(pos + 3);
        if (at(pos, "+%}")) return pos + 3;
        if (at(pos, "%}")) return pos + 2 + ((pos + 2 < s_.size() && s_[pos + 2] == '\n') ? 1 : 0);
        return std::string::npos;
    }

    // One step of the root state: text up to the next tag, then the tag. Returns the new position.
    size_t root(size_t pos) {
        size_t tag = pos;
        while ((tag = s_.find('{', tag)) != std::string::npos) {
            if (tag + 1 < s_.size() && std::strchr("{%#", s_[tag + 1]) && s_[tag + 1] != 0) break;
            ++tag;
        }
        if (tag == std::string::npos) {
            push(Tok::Data, pos, s_.substr(pos));
            return s_.size();
        }
        const char kind = s_[tag + 1];
        const char sign =
            (tag + 2 < s_.size() && (s_[tag + 2] == '-' || s_[tag + 2] == '+')) ? s_[tag + 2] : 0;
        const size_t after = tag + 2 + (sign ? 1 : 0);
        std::string text = strip_before(pos, tag, sign, kind != '{');
        if (!text.empty()) push(Tok::Data, pos, std::move(text));

        if (kind == '#') return comment(tag, after);
        if (kind == '%') {
            const size_t raw_body = match_raw_begin(after);
            if (raw_body != std::string::npos) return raw(tag, raw_body);
        }
        push(kind == '%' ? Tok::BlockBegin : Tok::VarBegin, tag);
        return tag_body(after, kind == '%');
    }

    size_t comment(size_t tag, size_t pos) {
        // The first "#}" ends the comment; a '-' or '+' just before it is its marker.
        // Jinja2 accepts a comment opened at the very end of the template.
        if (pos >= s_.size()) return s_.size();
        const size_t q = s_.find("#}", pos);
        if (q == std::string::npos) syntax_error(src_, tag, "Missing end of comment tag");
        if (q > pos && s_[q - 1] == '-') return skip_space(q + 2);
        if (q > pos && s_[q - 1] == '+') return q + 2;
        return q + 2 + ((q + 2 < s_.size() && s_[q + 2] == '\n') ? 1 : 0);
    }

    // After "{%" and its marker: `\s*raw\s*` then "-%}" + whitespace or "%}". Returns the
    // start of the raw body, or npos when this tag is not {% raw %}.
    size_t match_raw_begin(size_t pos) const {
        pos = skip_space(pos);
        if (!at(pos, "raw") || (pos + 3 < s_.size() && is_name_char(s_[pos + 3])))
            return std::string::npos;
        pos = skip_space(pos + 3);
        if (at(pos, "-%}")) return skip_space(pos + 3);
        if (at(pos, "%}")) return pos + 2;
        return std::string::npos;
    }

    size_t raw(size_t tag, size_t body) {
        if (body >= s_.size()) return s_.size();  // as Jinja2: nothing after {% raw %}
        for (size_t q = body; (q = s_.find("{%", q)) != std::string::npos; ++q) {
            const char sign =
                (q + 2 < s_.size() && (s_[q + 2] == '-' || s_[q + 2] == '+')) ? s_[q + 2] : 0;
            size_t p = skip_space(q + 2 + (sign ? 1 : 0));
            if (!at(p, "endraw")) continue;
            p = skip_space(p + 6);
            const size_t end = match_block_end(p);
            if (end == std::string::npos) continue;
            std::string text = strip_before(body, q, sign, true);
            if (!text.empty()) push(Tok::Data, body, std::move(text));
            return end;
        }
        syntax_error(src_, tag, "Missing end of raw directive");
    }

    // (\d+_)*\d+ from pos; returns pos when no digit is there.
    size_t scan_digits(size_t pos) const {
        size_t p = pos;
        while (p < s_.size() && is_digit(s_[p])) {
            while (p < s_.size() && is_digit(s_[p])) ++p;
            if (p + 1 < s_.size() && s_[p] == '_' && is_digit(s_[p + 1])) ++p;
        }
        return p;
    }

    static std::string without_underscores(std::string_view t) {
        std::string r;
        for (char c : t)
            if (c != '_') r += c;
        return r;
    }

    // A float literal at pos (Jinja: not right after a '.'); returns its end or npos.
    size_t match_float(size_t pos) const {
        if (pos > 0 && s_[pos - 1] == '.') return std::string::npos;
        const size_t int_end = scan_digits(pos);
        if (int_end == pos) return std::string::npos;
        size_t end = int_end;
        bool fraction = false;
        if (end + 1 < s_.size() && s_[end] == '.' && is_digit(s_[end + 1])) {
            end = scan_digits(end + 1);
            fraction = true;
        }
        if (end < s_.size() && (s_[end] == 'e' || s_[end] == 'E')) {
            size_t e = end + 1;
            if (e < s_.size() && (s_[e] == '+' || s_[e] == '-')) ++e;
            const size_t e_end = scan_digits(e);
            if (e_end > e) return e_end;
        }
        return fraction ? end : std::string::npos;
    }

    size_t lex_number(size_t pos) {
        const size_t fend = match_float(pos);
        if (fend != std::string::npos) {
            const std::string t = without_underscores(std::string_view(s_).substr(pos, fend - pos));
            double d = 0;
            std::from_chars(t.data(), t.data() + t.size(), d);
            push(Tok::Float, pos, t).float_value = d;
            return fend;
        }
        int base = 10;
        size_t p = pos, digits_start = pos;
        if (s_[pos] == '0' && pos + 1 < s_.size() && std::strchr("bBoOxX", s_[pos + 1]) &&
            s_[pos + 1]) {
            const char b = static_cast<char>(s_[pos + 1] | 0x20);
            base = b == 'b' ? 2 : b == 'o' ? 8 : 16;
            p = digits_start = pos + 2;
            auto ok = [&](char c) {
                c = static_cast<char>(c | 0x20);
                return base == 16 ? (is_digit(c) || (c >= 'a' && c <= 'f'))
                                  : (c >= '0' && c < '0' + base);
            };
            while (p < s_.size() &&
                   (ok(s_[p]) || (s_[p] == '_' && p + 1 < s_.size() && ok(s_[p + 1]))))
                ++p;
            if (p == digits_start) syntax_error(src_, pos, "invalid integer literal");
        } else if (s_[pos] == '0') {
            while (p < s_.size() &&
                   (s_[p] == '0' || (s_[p] == '_' && p + 1 < s_.size() && s_[p + 1] == '0')))
                ++p;
        } else {
            p = scan_digits(pos);
        }
        const std::string t =
            without_underscores(std::string_view(s_).substr(digits_start, p - digits_start));
        int64_t v = 0;
        const auto r = std::from_chars(t.data(), t.data() + t.size(), v, base);
        if (r.ec != std::errc()) syntax_error(src_, pos, "integer literal too large");
        push(Tok::Int, pos, std::string(s_.substr(pos, p - pos))).int_value = v;
        return p;
    }

    static int hex_value(char c) {
        if (is_digit(c)) return c - '0';
        c = static_cast<char>(c | 0x20);
        return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    }

    // Python's string escapes (Jinja decodes literals with "unicode-escape").
    size_t lex_string(size_t pos) {
        const char quote = s_[pos];
        std::string value;
        size_t p = pos + 1;
        while (true) {
            if (p >= s_.size()) syntax_error(src_, pos, "unterminated string literal");
            const char c = s_[p];
            if (c == quote) break;
            if (c != '\\') {
                value += c;
                ++p;
                continue;
            }
            if (p + 1 >= s_.size()) syntax_error(src_, pos, "unterminated string literal");
            const char e = s_[p + 1];
            p += 2;
            switch (e) {
                case '\n':
                    break;
                case '\\':
                    value += '\\';
                    break;
                case '\'':
                    value += '\'';
                    break;
                case '"':
                    value += '"';
                    break;
                case 'a':
                    value += '\a';
                    break;
                case 'b':
                    value += '\b';
                    break;
                case 'f':
                    value += '\f';
                    break;
                case 'n':
                    value += '\n';
                    break;
                case 'r':
                    value += '\r';
                    break;
                case 't':
                    value += '\t';
                    break;
                case 'v':
                    value += '\v';
                    break;
                case 'x':
                case 'u':
                case 'U': {
                    const int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    char32_t cp = 0;
                    for (int k = 0; k < n; ++k, ++p) {
                        if (p >= s_.size() || hex_value(s_[p]) < 0)
                            syntax_error(src_, pos, std::string("truncated \\") + e + " escape");
                        cp = cp * 16 + static_cast<char32_t>(hex_value(s_[p]));
                    }
                    if (cp > 0x10FFFF) syntax_error(src_, pos, "illegal Unicode character");
                    utf8::append(value, cp);
                    break;
                }
                case 'N':
                    syntax_error(src_, pos, "\\N{...} escapes are not supported");
                default:
                    if (e >= '0' && e <= '7') {
                        char32_t cp = static_cast<char32_t>(e - '0');
                        for (int k = 0; k < 2 && p < s_.size() && s_[p] >= '0' && s_[p] <= '7';
                             ++k, ++p)
                            cp = cp * 8 + static_cast<char32_t>(s_[p] - '0');
                        utf8::append(value, cp);
                    } else {
                        value += '\\';
                        value += e;
                    }
            }
        }
        push(Tok::String, pos, std::move(value));
        return p + 1;
    }

    size_t tag_body(size_t pos, bool block) {
        std::vector<char> balance;
        while (true) {
            if (pos >= s_.size()) return pos;  // the parser reports the missing end
            if (balance.empty()) {
                if (block) {
                    const size_t end = match_block_end(pos);
                    if (end != std::string::npos) {
                        push(Tok::BlockEnd, pos);
                        return end;
                    }
                } else if (at(pos, "-}}") || at(pos, "}}")) {
                    push(Tok::VarEnd, pos);
                    return s_[pos] == '-' ? skip_space(pos + 3) : pos + 2;
                }
            }
            const char c = s_[pos];
            if (is_ws(c)) {
                ++pos;
            } else if (is_digit(c)) {
                pos = lex_number(pos);
            } else if (is_name_start(c)) {
                size_t e = pos;
                while (e < s_.size() && is_name_char(s_[e])) ++e;
                push(Tok::Name, pos, s_.substr(pos, e - pos));
                pos = e;
            } else if (c == '\'' || c == '"') {
                pos = lex_string(pos);
            } else {
                pos = lex_operator(pos, balance);
            }
        }
    }

    size_t lex_operator(size_t pos, std::vector<char>& balance) {
        static const char* const two[] = {"//", "**", "==", "!=", "<=", ">="};
        for (const char* op : two) {
            if (at(pos, op)) {
                push(Tok::Op, pos, op);
                return pos + 2;
            }
        }
        const char c = s_[pos];
        if (!std::strchr("+-/*%~[](){}<>=.:|,;", c) || c == 0) {
            size_t next = pos;
            std::string ch;
            utf8::append(ch, utf8::decode(s_, next));
            syntax_error(src_, pos, "unexpected char '" + ch + "'");
        }
        if (c == '(')
            balance.push_back(')');
        else if (c == '[')
            balance.push_back(']');
        else if (c == '{')
            balance.push_back('}');
        else if (c == ')' || c == ']' || c == '}') {
            if (balance.empty()) syntax_error(src_, pos, std::string("unexpected '") + c + "'");
            if (balance.back() != c)
                syntax_error(
                    src_, pos,
                    std::string("unexpected '") + c + "', expected '" + balance.back() + "'");
            balance.pop_back();
        }
        push(Tok::Op, pos, std::string(1, c));
        return pos + 1;
    }
};

}  // namespace

std::vector<Token> tokenize(const Source& src) {
    return Lexer(src).run();
}

}  // namespace pangolin::jinja
