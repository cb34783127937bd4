#include "model/arena.h"

#include <algorithm>
#include <cstdlib>
#include <new>

namespace pangolin {

void Arena::FreeDeleter::operator()(float* p) const {
    std::free(p);
}

namespace {
float* aligned_floats(size_t n) {
    void* p = std::aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    if (!p) throw std::bad_alloc();
    return static_cast<float*>(p);
}
}  // namespace

float* Arena::alloc(size_t n) {
    n = (n + 15) / 16 * 16;  // 64-byte granularity keeps every buffer cache-line aligned
    in_use_ += n;
    peak_ = std::max(peak_, in_use_);
    if (blocks_.empty() || blocks_.back().size - blocks_.back().used < n) {
        Block b;
        b.size = std::max(n, blocks_.empty() ? size_t(1) << 16 : blocks_.back().size * 2);
        b.data.reset(aligned_floats(b.size));
        blocks_.push_back(std::move(b));
    }
    Block& b = blocks_.back();
    float* p = b.data.get() + b.used;
    b.used += n;
    return p;
}

void Arena::reset() {
    if (blocks_.size() > 1) {
        blocks_.clear();
        Block b;
        b.size = peak_;
        b.data.reset(aligned_floats(b.size));
        blocks_.push_back(std::move(b));
    }
    for (auto& b : blocks_) b.used = 0;
    in_use_ = 0;
}

}  // namespace pangolin
