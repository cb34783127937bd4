// SentencePiece BPE as llama.cpp's llm_tokenizer_spm runs it: symbols start as UTF-8
// characters; the queue holds adjacent pairs whose concatenation is a token, best score
// first. A popped pair whose sides changed size since it was queued is stale and skipped.
#include <queue>

#include "text/encoders.h"
#include "text/utf8.h"

namespace pangolin {

namespace {

struct Symbol {
    size_t begin, len;  // bytes of the text; len 0 once merged into the left neighbour
    int32_t prev, next;
};

struct Pair {
    float score;
    int32_t left, right;
    size_t len;                            // len(left) + len(right) when queued
    bool operator<(const Pair& o) const {  // pops the highest score, then the leftmost
        return score != o.score ? score < o.score : left > o.left;
    }
};

}  // namespace

void spm_encode(const Vocab& v, std::string_view text, std::vector<int32_t>& out) {
    if (text.empty()) return;
    std::vector<Symbol> sym;
    sym.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) {
        const size_t n =
            std::min(utf8_lead_length(static_cast<unsigned char>(text[pos])), text.size() - pos);
        const int32_t k = int32_t(sym.size());
        sym.push_back({pos, n, k - 1, k + 1});
        pos += n;
    }
    sym.back().next = -1;

    std::priority_queue<Pair> queue;
    const auto consider = [&](int32_t left, int32_t right) {
        if (left < 0 || right < 0) return;
        // Live neighbours are contiguous in the text, so their union is one slice of it.
        const Symbol& l = sym[size_t(left)];
        const size_t len = l.len + sym[size_t(right)].len;
        if (const auto id = v.find(text.substr(l.begin, len)))
            queue.push({v.score[size_t(*id)], left, right, len});
    };
    for (int32_t k = 0; k + 1 < int32_t(sym.size()); ++k) consider(k, k + 1);

    while (!queue.empty()) {
        const Pair p = queue.top();
        queue.pop();
        Symbol& l = sym[size_t(p.left)];
        Symbol& r = sym[size_t(p.right)];
        if (l.len == 0 || r.len == 0 || l.len + r.len != p.len) continue;
        l.len += r.len;
        r.len = 0;
        l.next = r.next;
        if (r.next >= 0) sym[size_t(r.next)].prev = p.left;
        consider(l.prev, p.left);
        consider(p.left, l.next);
    }

    for (int32_t k = 0; k >= 0; k = sym[size_t(k)].next) {
        const Symbol& s = sym[size_t(k)];
        const std::string_view piece = text.substr(s.begin, s.len);
        if (const auto id = v.find(piece)) {
            out.push_back(*id);
            continue;
        }
        // Not a piece of the vocabulary: one byte token per byte (SentencePiece byte
        // fallback); without byte tokens, the unknown token once for the whole symbol.
        bool all_bytes = true;
        for (const char c : piece)
            all_bytes = all_bytes && v.byte_token[static_cast<unsigned char>(c)] >= 0;
        if (all_bytes) {
            for (const char c : piece) out.push_back(v.byte_token[static_cast<unsigned char>(c)]);
        } else if (v.unk >= 0) {
            out.push_back(v.unk);
        }
    }
}

}  // namespace pangolin
