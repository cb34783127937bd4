#include "model/kv_cache.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "core/error.h"

namespace pangolin {

namespace {
std::atomic<uint64_t> g_next_cache_id{1};
}

KvCache::KvCache(const KvCacheShape& shape) : shape_(shape), id_(g_next_cache_id++) {
    require(shape.n_blocks > 0 && shape.block_size > 0, "KV cache needs at least one block");
    layer_floats_ = size_t(capacity_tokens()) * size_t(shape.k_width + shape.v_width);
    data_ = std::make_unique_for_overwrite<float[]>(layer_floats_ * size_t(shape.n_layer));
    refcount_.assign(size_t(shape.n_blocks), 0);
    free_.reserve(size_t(shape.n_blocks));
    for (int64_t b = shape.n_blocks - 1; b >= 0; --b) free_.push_back(int32_t(b));
}

int32_t KvCache::alloc_block() {
    require(!free_.empty(), "KV cache is full: all ", shape_.n_blocks, " blocks of ",
            shape_.block_size, " tokens are in use (raise --ctx-size)");
    const int32_t b = free_.back();
    free_.pop_back();
    refcount_[size_t(b)] = 1;
    return b;
}

void KvCache::retain_block(int32_t block) {
    ++refcount_[size_t(block)];
}

void KvCache::release_block(int32_t block) {
    if (--refcount_[size_t(block)] == 0) free_.push_back(block);
}

std::vector<KvCache::BlockCopy> KvCache::take_copy_log() {
    std::vector<BlockCopy> out;
    out.swap(copy_log_);
    return out;
}

void KvCache::copy_block(int32_t from, int32_t to, int64_t n_slots) {
    copy_log_.push_back({from, to, n_slots});
    const int64_t bs = shape_.block_size;
    for (int64_t layer = 0; layer < shape_.n_layer; ++layer) {
        std::memcpy(k(layer, int64_t(to) * bs), k(layer, int64_t(from) * bs),
                    size_t(n_slots * shape_.k_width) * 4);
        if (shape_.v_width)
            std::memcpy(v(layer, int64_t(to) * bs), v(layer, int64_t(from) * bs),
                        size_t(n_slots * shape_.v_width) * 4);
    }
}

void KvCache::reserve(SequenceKv& seq, int64_t n_total) {
    const int64_t bs = shape_.block_size;
    const int64_t need = (n_total + bs - 1) / bs;
    const int64_t first_written = seq.n_tokens / bs;  // block receiving the next position
    const bool cow = first_written < int64_t(seq.blocks.size()) &&
                     refcount_[size_t(seq.blocks[size_t(first_written)])] > 1;
    const int64_t extra = need - int64_t(seq.blocks.size()) + (cow ? 1 : 0);
    require(extra <= free_blocks(), "KV cache is full: ", n_total, " positions need ", extra,
            " more blocks of ", bs, " tokens but only ", free_blocks(),
            " are free (raise --ctx-size)");
    if (cow) {
        const int32_t shared = seq.blocks[size_t(first_written)];
        const int32_t own = alloc_block();
        copy_block(shared, own, seq.n_tokens - first_written * bs);
        release_block(shared);
        seq.blocks[size_t(first_written)] = own;
    }
    while (int64_t(seq.blocks.size()) < need) seq.blocks.push_back(alloc_block());
}

void KvCache::truncate(SequenceKv& seq, int64_t n_keep) {
    n_keep = std::min(n_keep, seq.n_tokens);
    const int64_t keep_blocks = (n_keep + shape_.block_size - 1) / shape_.block_size;
    while (int64_t(seq.blocks.size()) > keep_blocks) {
        release_block(seq.blocks.back());
        seq.blocks.pop_back();
    }
    seq.n_tokens = n_keep;
}

void KvCache::release(SequenceKv& seq) {
    for (auto b : seq.blocks) release_block(b);
    seq.blocks.clear();
    seq.n_tokens = 0;
}

void KvCache::fork_prefix(const SequenceKv& src, SequenceKv& dst, int64_t n_tokens) {
    release(dst);
    n_tokens = std::min(n_tokens, src.n_tokens);
    const int64_t full = n_tokens / shape_.block_size;
    for (int64_t i = 0; i < full; ++i) {
        retain_block(src.blocks[size_t(i)]);
        dst.blocks.push_back(src.blocks[size_t(i)]);
    }
    const int64_t rest = n_tokens - full * shape_.block_size;
    if (rest > 0) {
        const int32_t b = alloc_block();
        dst.blocks.push_back(b);
        copy_block(src.blocks[size_t(full)], b, rest);
    }
    dst.n_tokens = n_tokens;
}

PagedKvView KvCache::view(int64_t layer) const {
    auto* self = const_cast<KvCache*>(this);
    PagedKvView v;
    v.k = self->layer_k(layer);
    v.v = shape_.v_width ? self->layer_v(layer) : v.k;
    v.k_stride = shape_.k_width;
    v.v_stride = shape_.v_width ? shape_.v_width : shape_.k_width;
    v.block_size = shape_.block_size;
    return v;
}

}  // namespace pangolin
