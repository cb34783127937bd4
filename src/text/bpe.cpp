// Byte-level BPE of one pre-token. Symbols start as single mapped bytes and are merged in
// rank order through a priority queue; stale queue entries (a side already merged away)
// are skipped when popped, so a pre-token of n bytes costs O(n log n).
#include <queue>

#include "text/encoders.h"
#include "text/utf8.h"

namespace pangolin {

namespace {

struct Symbol {
    int32_t id;  // -1: a mapped byte the vocabulary lacks (never merges)
    int32_t prev, next;
    bool alive;
};

struct Pair {
    int32_t rank;
    int32_t left, right;        // symbol indices
    int32_t left_id, right_id;  // their ids when queued
    int32_t result;
    bool operator<(
        const Pair& o) const {  // priority_queue pops the greatest: lowest rank, then leftmost
        return rank != o.rank ? rank > o.rank : left > o.left;
    }
};

}  // namespace

void bpe_encode(const Vocab& v, std::string_view mapped, std::vector<int32_t>& out) {
    if (mapped.empty()) return;
    if (v.ignore_merges) {
        if (const auto id = v.find(mapped)) {
            out.push_back(*id);
            return;
        }
    }
    std::vector<Symbol> sym;
    sym.reserve(mapped.size());
    for (size_t pos = 0; pos < mapped.size();) {
        const size_t n = std::min(utf8_lead_length(static_cast<unsigned char>(mapped[pos])),
                                  mapped.size() - pos);
        const int32_t k = int32_t(sym.size());
        sym.push_back({v.find(mapped.substr(pos, n)).value_or(-1), k - 1, k + 1, true});
        pos += n;
    }
    sym.back().next = -1;

    std::priority_queue<Pair> queue;
    const auto consider = [&](int32_t left, int32_t right) {
        if (left < 0 || right < 0) return;
        const int32_t a = sym[size_t(left)].id, b = sym[size_t(right)].id;
        if (a < 0 || b < 0) return;
        const auto it = v.merges.find((uint64_t(uint32_t(a)) << 32) | uint32_t(b));
        if (it == v.merges.end()) return;
        queue.push({it->second.rank, left, right, a, b, it->second.result});
    };
    for (int32_t k = 0; k + 1 < int32_t(sym.size()); ++k) consider(k, k + 1);

    while (!queue.empty()) {
        const Pair p = queue.top();
        queue.pop();
        Symbol& l = sym[size_t(p.left)];
        Symbol& r = sym[size_t(p.right)];
        if (!l.alive || !r.alive || l.id != p.left_id || r.id != p.right_id) continue;
        l.id = p.result;
        r.alive = false;
        l.next = r.next;
        if (r.next >= 0) sym[size_t(r.next)].prev = p.left;
        consider(l.prev, p.left);
        consider(p.left, l.next);
    }
    // A byte the vocabulary cannot spell is dropped, as llama.cpp does.
    for (int32_t k = 0; k >= 0; k = sym[size_t(k)].next)
        if (sym[size_t(k)].id >= 0) out.push_back(sym[size_t(k)].id);
}

}  // namespace pangolin
