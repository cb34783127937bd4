// Paged key/value cache. Storage is a pool of fixed-size blocks of token slots shared by
// all sequences; a sequence owns a list of blocks (its block table) and never a contiguous
// reservation. Block refcounts let sequences share a common prefix's blocks.
//
// Per layer and slot the cache holds k_width floats of keys and v_width floats of values
// (for standard attention n_head_kv × head_dim each; for MLA the compressed latent in K and
// no separate V).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/cpu/ops.h"

namespace pangolin {

struct KvCacheShape {
    int64_t n_layer = 0;
    int64_t k_width = 0;  // floats per slot per layer
    int64_t v_width = 0;
    int64_t block_size = 16;
    int64_t n_blocks = 0;
    int64_t bytes_per_token() const { return n_layer * (k_width + v_width) * 4; }
};

// A sequence's view of the cache: its blocks and how many positions are stored.
struct SequenceKv {
    std::vector<int32_t> blocks;
    int64_t n_tokens = 0;
};

class KvCache {
  public:
    explicit KvCache(const KvCacheShape& shape);

    const KvCacheShape& shape() const { return shape_; }
    // Unique per cache in this process (distributed followers mirror caches by id).
    uint64_t id() const { return id_; }
    int64_t capacity_tokens() const { return shape_.n_blocks * shape_.block_size; }
    int64_t free_blocks() const { return int64_t(free_.size()); }
    int64_t used_blocks() const { return shape_.n_blocks - free_blocks(); }

    // Grows seq's block table to hold n_total positions and makes the blocks that positions
    // [seq.n_tokens, n_total) fall in exclusively seq's (copy-on-write of a shared block);
    // throws Error when the pool runs out.
    void reserve(SequenceKv& seq, int64_t n_total);
    // Drops positions ≥ n_keep (releasing whole blocks no longer needed).
    void truncate(SequenceKv& seq, int64_t n_keep);
    // Releases all of seq's blocks.
    void release(SequenceKv& seq);
    // Makes dst share src's first n_tokens positions (whole blocks only are shared; the
    // partial last block is copied so both can append).
    void fork_prefix(const SequenceKv& src, SequenceKv& dst, int64_t n_tokens);
    void retain_block(int32_t block);
    void release_block(int32_t block);
    int32_t refcount(int32_t block) const { return refcount_[size_t(block)]; }

    int64_t slot(const SequenceKv& seq, int64_t pos) const {
        return int64_t(seq.blocks[size_t(pos / shape_.block_size)]) * shape_.block_size +
               pos % shape_.block_size;
    }
    float* k(int64_t layer, int64_t slot) { return layer_k(layer) + slot * shape_.k_width; }
    float* v(int64_t layer, int64_t slot) { return layer_v(layer) + slot * shape_.v_width; }
    PagedKvView view(int64_t layer) const;

    // Copies the first n_slots slots of block `from` to block `to` (all layers).
    void copy_block(int32_t from, int32_t to, int64_t n_slots);
    // Block copies made since the last call (copy-on-write, prefix forks), oldest first:
    // rank 0 sends them to the followers, whose caches hold the same blocks.
    struct BlockCopy {
        int32_t from, to;
        int64_t n_slots;
    };
    std::vector<BlockCopy> take_copy_log();

  private:
    float* layer_k(int64_t layer) { return data_.get() + size_t(layer) * layer_floats_; }
    float* layer_v(int64_t layer) { return layer_k(layer) + capacity_tokens() * shape_.k_width; }
    int32_t alloc_block();

    KvCacheShape shape_;
    uint64_t id_ = 0;
    std::vector<BlockCopy> copy_log_;
    size_t layer_floats_ = 0;
    std::unique_ptr<float[]> data_;  // uninitialized: pages are touched on first use
    std::vector<int32_t> free_;
    std::vector<int32_t> refcount_;
};

}  // namespace pangolin
