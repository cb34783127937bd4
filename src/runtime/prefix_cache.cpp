#include "runtime/prefix_cache.h"

#include <algorithm>

namespace pangolin {

PrefixCache::~PrefixCache() {
    clear();
}

uint64_t PrefixCache::chain_hash(uint64_t parent, const int32_t* tokens, int64_t n) {
    uint64_t h = parent ^ 0x9e3779b97f4a7c15ull;
    for (int64_t i = 0; i < n; ++i) {
        h ^= uint64_t(uint32_t(tokens[i])) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 33;
    }
    return h;
}

int64_t PrefixCache::attach(const std::vector<int32_t>& tokens, SequenceKv& seq) {
    const int64_t bs = cache_.shape().block_size;
    uint64_t parent = 0;
    int64_t matched = 0;
    for (int64_t b = 0; (b + 1) * bs <= int64_t(tokens.size()); ++b) {
        const int32_t* t = tokens.data() + b * bs;
        const uint64_t h = chain_hash(parent, t, bs);
        auto it = table_.find(h);
        if (it == table_.end() || it->second.parent != parent ||
            !std::equal(it->second.tokens.begin(), it->second.tokens.end(), t))
            break;
        cache_.retain_block(it->second.block);
        seq.blocks.push_back(it->second.block);
        it->second.last_use = ++clock_;
        parent = h;
        matched += bs;
    }
    seq.n_tokens = matched;
    return matched;
}

void PrefixCache::publish(const std::vector<int32_t>& tokens, const SequenceKv& seq) {
    const int64_t bs = cache_.shape().block_size;
    const int64_t full = std::min<int64_t>(seq.n_tokens, int64_t(tokens.size())) / bs;
    uint64_t parent = 0;
    for (int64_t b = 0; b < full; ++b) {
        const int32_t* t = tokens.data() + b * bs;
        const uint64_t h = chain_hash(parent, t, bs);
        auto it = table_.find(h);
        if (it == table_.end()) {
            cache_.retain_block(seq.blocks[size_t(b)]);
            table_.emplace(
                h, Entry{seq.blocks[size_t(b)], parent, std::vector<int32_t>(t, t + bs), ++clock_});
        } else {
            it->second.last_use = ++clock_;
        }
        parent = h;
    }
}

int64_t PrefixCache::evictable_blocks() const {
    int64_t n = 0;
    for (const auto& [h, e] : table_) n += cache_.refcount(e.block) == 1;
    return n;
}

bool PrefixCache::make_room(int64_t blocks) {
    while (cache_.free_blocks() < blocks) {
        auto victim = table_.end();
        for (auto it = table_.begin(); it != table_.end(); ++it)
            if (cache_.refcount(it->second.block) == 1 &&
                (victim == table_.end() || it->second.last_use < victim->second.last_use))
                victim = it;
        if (victim == table_.end()) return false;
        cache_.release_block(victim->second.block);
        table_.erase(victim);
    }
    return true;
}

void PrefixCache::clear() {
    for (auto& [h, e] : table_) cache_.release_block(e.block);
    table_.clear();
}

}  // namespace pangolin
