// Prefix reuse over the paged KV cache (as vLLM's automatic prefix caching): every full
// block a finished or running sequence has computed is published under a hash of its
// tokens and of all tokens before it. A new sequence whose prompt starts with the same
// tokens shares those blocks instead of recomputing them. The cache holds one reference
// on each published block; unused entries are evicted least recently used first when the
// pool runs short.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "model/kv_cache.h"

namespace pangolin {

class PrefixCache {
  public:
    explicit PrefixCache(KvCache& cache) : cache_(cache) {}
    ~PrefixCache();

    // Makes the (empty) seq share the longest cached run of whole blocks that prefixes
    // `tokens`; returns how many tokens that covers (a multiple of the block size).
    int64_t attach(const std::vector<int32_t>& tokens, SequenceKv& seq);
    // Publishes seq's full blocks, which hold the KV of tokens[0 .. seq.n_tokens).
    void publish(const std::vector<int32_t>& tokens, const SequenceKv& seq);
    // Evicts unused entries (LRU) until `blocks` blocks are free; returns whether it got there.
    bool make_room(int64_t blocks);
    // Blocks that eviction could free now.
    int64_t evictable_blocks() const;
    int64_t entries() const { return int64_t(table_.size()); }
    void clear();

  private:
    struct Entry {
        int32_t block;
        uint64_t parent;
        std::vector<int32_t> tokens;  // the block's tokens (guards against hash collisions)
        uint64_t last_use;
    };
    static uint64_t chain_hash(uint64_t parent, const int32_t* tokens, int64_t n);

    KvCache& cache_;
    std::unordered_map<uint64_t, Entry> table_;
    uint64_t clock_ = 0;
};

}  // namespace pangolin
