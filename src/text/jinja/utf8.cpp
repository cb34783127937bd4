#include "text/jinja/utf8.h"

#include "text/utf8.h"

#include <locale.h>
#include <wctype.h>

namespace pangolin::jinja::utf8 {

namespace {

// glibc's built-in C.UTF-8 locale carries Unicode's simple case mappings and letter classes;
// without it, case mapping falls back to ASCII.
locale_t unicode_locale() {
    static locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    return loc;
}

char32_t map_upper(char32_t c) {
    if (c < 0x80) return (c >= 'a' && c <= 'z') ? c - 32 : c;
    locale_t loc = unicode_locale();
    return loc ? static_cast<char32_t>(towupper_l(static_cast<wint_t>(c), loc)) : c;
}

char32_t map_lower(char32_t c) {
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    locale_t loc = unicode_locale();
    return loc ? static_cast<char32_t>(towlower_l(static_cast<wint_t>(c), loc)) : c;
}

// Title case differs from upper case only for the Latin digraphs (Ǆ/ǅ/ǆ → ǅ).
char32_t map_title(char32_t c) {
    if (c >= 0x1C4 && c <= 0x1CC) return 0x1C5 + 3 * ((c - 0x1C4) / 3);
    if (c >= 0x1F1 && c <= 0x1F3) return 0x1F2;
    return map_upper(c);
}

void append_title(std::string& out, char32_t c) {
    if (c == 0xDF) {  // ß -> Ss
        out += "Ss";
        return;
    }
    append(out, map_title(c));
}

// Python's full case mappings that expand to several code points (the common ones).
void append_upper(std::string& out, char32_t c) {
    if (c == 0xDF) {  // ß -> SS
        out += "SS";
        return;
    }
    append(out, map_upper(c));
}

void append_lower(std::string& out, char32_t c) {
    if (c == 0x130) {  // İ -> i + combining dot above
        out += "i\xCC\x87";
        return;
    }
    append(out, map_lower(c));
}

}  // namespace

char32_t decode(std::string_view s, size_t& i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
        ++i;
        return b0;
    }
    int n = 0;
    char32_t cp = 0;
    if ((b0 & 0xE0) == 0xC0)
        n = 1, cp = b0 & 0x1F;
    else if ((b0 & 0xF0) == 0xE0)
        n = 2, cp = b0 & 0x0F;
    else if ((b0 & 0xF8) == 0xF0)
        n = 3, cp = b0 & 0x07;
    else {
        ++i;
        return 0xFFFD;
    }
    if (i + static_cast<size_t>(n) >= s.size()) {
        ++i;
        return 0xFFFD;
    }
    for (int k = 1; k <= n; ++k) {
        const auto b = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
        if ((b & 0xC0) != 0x80) {
            ++i;
            return 0xFFFD;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    i += static_cast<size_t>(n) + 1;
    return cp;
}

void append(std::string& out, char32_t cp) {
    utf8_append(out, uint32_t(cp));
}

bool valid(std::string_view s, size_t* bad_offset) {
    const size_t bad = utf8_first_invalid(s);
    if (bad != std::string_view::npos && bad_offset) *bad_offset = bad;
    return bad == std::string_view::npos;
}

bool is_ascii(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) >= 0x80) return false;
    return true;
}

size_t length(std::string_view s) {
    size_t n = 0;
    for (char c : s)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    return n;
}

std::vector<size_t> offsets(std::string_view s) {
    std::vector<size_t> out;
    out.reserve(s.size() + 1);
    for (size_t i = 0; i < s.size(); ++i)
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) out.push_back(i);
    out.push_back(s.size());
    return out;
}

size_t index_of_byte(std::string_view s, size_t byte_offset) {
    return length(s.substr(0, byte_offset));
}

bool is_space(char32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_line_break(char32_t c) {
    return c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D ||
           c == 0x1E || c == 0x85 || c == 0x2028 || c == 0x2029;
}

bool is_alpha(char32_t c) {
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    locale_t loc = unicode_locale();
    return loc && iswalpha_l(static_cast<wint_t>(c), loc);
}

bool is_digit(char32_t c) {
    if (c < 0x80) return c >= '0' && c <= '9';
    locale_t loc = unicode_locale();
    return loc && iswdigit_l(static_cast<wint_t>(c), loc);
}

bool is_alnum(char32_t c) {
    return is_alpha(c) || is_digit(c);
}
bool is_upper(char32_t c) {
    return map_lower(c) != c;
}
bool is_lower(char32_t c) {
    return map_upper(c) != c;
}

std::string upper(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) append_upper(out, decode(s, i));
    return out;
}

std::string lower(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) append_lower(out, decode(s, i));
    return out;
}

std::string capitalize(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    bool first = true;
    for (size_t i = 0; i < s.size();) {
        const char32_t c = decode(s, i);
        if (first)
            append_title(out, c);
        else
            append_lower(out, c);
        first = false;
    }
    return out;
}

std::string title(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    bool prev_cased = false;
    for (size_t i = 0; i < s.size();) {
        const char32_t c = decode(s, i);
        if (prev_cased)
            append_lower(out, c);
        else
            append_title(out, c);
        prev_cased = is_upper(c) || is_lower(c);
    }
    return out;
}

std::string swapcase(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        const char32_t c = decode(s, i);
        if (is_upper(c))
            append_lower(out, c);
        else if (is_lower(c))
            append_upper(out, c);
        else
            append(out, c);
    }
    return out;
}

std::string_view strip(std::string_view s, const std::string* chars, bool left, bool right) {
    auto strippable = [&](char32_t c) {
        if (!chars) return is_space(c);
        for (size_t j = 0; j < chars->size();)
            if (decode(*chars, j) == c) return true;
        return false;
    };
    size_t begin = 0, end = s.size();
    if (left) {
        while (begin < end) {
            size_t next = begin;
            if (!strippable(decode(s, next))) break;
            begin = next;
        }
    }
    if (right) {
        while (end > begin) {
            size_t start = end - 1;
            while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
            size_t j = start;
            if (!strippable(decode(s, j))) break;
            end = start;
        }
    }
    return s.substr(begin, end - begin);
}

std::vector<std::string> splitlines(std::string_view s) {
    std::vector<std::string> lines;
    size_t start = 0, i = 0;
    while (i < s.size()) {
        const size_t at = i;
        const char32_t c = decode(s, i);
        if (!is_line_break(c)) continue;
        lines.emplace_back(s.substr(start, at - start));
        if (c == '\r' && i < s.size() && s[i] == '\n') ++i;
        start = i;
    }
    if (start < s.size()) lines.emplace_back(s.substr(start));
    return lines;
}

}  // namespace pangolin::jinja::utf8
