// Special-token partitioning. llama.cpp walks its special tokens longest first and, for each,
// cuts every remaining raw fragment at the token's leftmost occurrences. The same result
// comes from one pass over the text: collect every occurrence of every special token with a
// trie walk, then accept occurrences in (token order, position) order when none of their
// bytes is taken yet. Cost: O(text × trie depth) instead of O(text × number of specials).
#include <algorithm>

#include "text/encoders.h"

namespace pangolin {

namespace {

bool is_c_space(char c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
}  // C isspace

}  // namespace

void split_special(const Vocab& v, std::string_view text, bool parse_special,
                   std::vector<Fragment>& out) {
    out.clear();
    if (text.empty()) return;

    struct Candidate {
        int32_t rank;  // position of the token in v.special
        size_t pos;
    };
    std::vector<Candidate> found;
    const SpecialMatcher& m = v.matcher;
    for (size_t i = 0; i < text.size(); ++i) {
        if (!m.first_byte[static_cast<unsigned char>(text[i])]) continue;
        int32_t node = 0;
        for (size_t j = i; j < text.size(); ++j) {
            node = m.child(node, static_cast<unsigned char>(text[j]));
            if (node < 0) break;
            const int32_t token = m.nodes[size_t(node)].token;
            if (token < 0) continue;
            // Without parse_special only user-defined tokens are split out (llama.cpp, and
            // Hugging Face's added tokens); control and unknown tokens stay plain text.
            if (!parse_special && (v.attr[size_t(token)] & (k_attr_control | k_attr_unknown)))
                continue;
            found.push_back({v.special_rank[size_t(token)], i});
        }
    }
    if (found.empty()) {
        out.push_back({0, text.size(), -1});
        return;
    }
    std::sort(found.begin(), found.end(), [](const Candidate& a, const Candidate& b) {
        return a.rank != b.rank ? a.rank < b.rank : a.pos < b.pos;
    });

    enum : uint8_t { k_raw = 0, k_token = 1, k_stripped = 2 };
    std::vector<uint8_t> state(text.size(), k_raw);
    std::vector<Fragment> tokens;
    for (const Candidate& c : found) {
        const int32_t token = v.special[size_t(c.rank)];
        const size_t end = c.pos + v.text[size_t(token)].size();
        if (std::any_of(state.begin() + ptrdiff_t(c.pos), state.begin() + ptrdiff_t(end),
                        [](uint8_t s) { return s != k_raw; }))
            continue;
        std::fill(state.begin() + ptrdiff_t(c.pos), state.begin() + ptrdiff_t(end), k_token);
        tokens.push_back({c.pos, end, token});
        const uint32_t attr = v.attr[size_t(token)];
        if (attr & k_attr_lstrip)
            for (size_t k = c.pos; k > 0 && state[k - 1] == k_raw && is_c_space(text[k - 1]); --k)
                state[k - 1] = k_stripped;
        if (attr & k_attr_rstrip)
            for (size_t k = end; k < text.size() && state[k] == k_raw && is_c_space(text[k]); ++k)
                state[k] = k_stripped;
    }
    std::sort(tokens.begin(), tokens.end(),
              [](const Fragment& a, const Fragment& b) { return a.begin < b.begin; });

    size_t next_token = 0;
    for (size_t i = 0; i < text.size();) {
        if (state[i] == k_token) {
            out.push_back(tokens[next_token]);
            i = tokens[next_token++].end;
        } else if (state[i] == k_stripped) {
            ++i;
        } else {
            const size_t begin = i;
            while (i < text.size() && state[i] == k_raw) ++i;
            out.push_back({begin, i, -1});
        }
    }
}

}  // namespace pangolin
