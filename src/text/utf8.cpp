#include "text/utf8.h"

#include <cstdio>

#include "core/error.h"

namespace pangolin {

namespace {

// Allowed range of the second byte for each lead byte (Unicode table 3-7); later
// continuation bytes are always 0x80..0xBF.
bool second_byte_ok(unsigned char lead, unsigned char b) {
    switch (lead) {
        case 0xE0:
            return b >= 0xA0 && b <= 0xBF;  // no overlong 3-byte forms
        case 0xED:
            return b >= 0x80 && b <= 0x9F;  // no surrogates
        case 0xF0:
            return b >= 0x90 && b <= 0xBF;  // no overlong 4-byte forms
        case 0xF4:
            return b >= 0x80 && b <= 0x8F;  // nothing above U+10FFFF
        default:
            return b >= 0x80 && b <= 0xBF;
    }
}

// Expected length from a lead byte; 0 for bytes that never lead a well-formed sequence.
size_t expected_length(unsigned char lead) {
    if (lead < 0x80) return 1;
    if (lead >= 0xC2 && lead <= 0xDF) return 2;
    if (lead >= 0xE0 && lead <= 0xEF) return 3;
    if (lead >= 0xF0 && lead <= 0xF4) return 4;
    return 0;
}

// How many bytes of s[pos..] match a well-formed sequence before it breaks or ends.
size_t valid_prefix(std::string_view s, size_t pos, size_t want) {
    const auto lead = static_cast<unsigned char>(s[pos]);
    size_t n = 1;
    for (; n < want && pos + n < s.size(); ++n) {
        const auto b = static_cast<unsigned char>(s[pos + n]);
        if (n == 1 ? !second_byte_ok(lead, b) : (b < 0x80 || b > 0xBF)) break;
    }
    return n;
}

}  // namespace

size_t utf8_sequence_length(std::string_view s, size_t pos) {
    if (pos >= s.size()) return 0;
    const size_t want = expected_length(static_cast<unsigned char>(s[pos]));
    if (want == 0) return 0;
    return valid_prefix(s, pos, want) == want ? want : 0;
}

size_t utf8_first_invalid(std::string_view s) {
    size_t pos = 0;
    while (pos < s.size()) {
        if (static_cast<unsigned char>(s[pos]) < 0x80) {
            ++pos;
            continue;
        }
        const size_t n = utf8_sequence_length(s, pos);
        if (n == 0) return pos;
        pos += n;
    }
    return std::string_view::npos;
}

void require_utf8(std::string_view s, std::string_view what) {
    const size_t bad = utf8_first_invalid(s);
    if (bad == std::string_view::npos) return;
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X",
                  static_cast<unsigned>(static_cast<unsigned char>(s[bad])));
    fail(what, " is not valid UTF-8: byte ", hex, " at offset ", bad,
         " does not start a well-formed character");
}

size_t utf8_incomplete_tail(std::string_view s) {
    // A character is at most 4 bytes, so only the last 3 bytes can be an unfinished one.
    const size_t first = s.size() > 3 ? s.size() - 3 : 0;
    for (size_t pos = first; pos < s.size(); ++pos) {
        const size_t want = expected_length(static_cast<unsigned char>(s[pos]));
        if (want <= 1) continue;
        const size_t have = s.size() - pos;
        if (have < want && valid_prefix(s, pos, want) == have) return have;
    }
    return 0;
}

void utf8_append(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

uint32_t utf8_decode_at(std::string_view s, size_t pos, size_t len) {
    const auto b = [&](size_t k) {
        return static_cast<uint32_t>(static_cast<unsigned char>(s[pos + k]));
    };
    switch (len) {
        case 1:
            return b(0);
        case 2:
            return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
        case 3:
            return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
        default:
            return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) |
                   (b(3) & 0x3F);
    }
}

std::string utf8_replace_invalid(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    size_t pos = 0;
    while (pos < s.size()) {
        const size_t n = utf8_sequence_length(s, pos);
        if (n > 0) {
            out.append(s.substr(pos, n));
            pos += n;
            continue;
        }
        // One U+FFFD per maximal ill-formed subsequence (the W3C/WHATWG practice).
        const size_t want = expected_length(static_cast<unsigned char>(s[pos]));
        pos += want > 1 ? valid_prefix(s, pos, want) : 1;
        out += "\xEF\xBF\xBD";
    }
    return out;
}

}  // namespace pangolin
