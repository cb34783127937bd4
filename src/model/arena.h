// Scratch memory for one forward pass: bump allocation, released all at once. Pointers stay
// valid until reset(); after a reset the arena keeps one block as large as the last peak.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace pangolin {

class Arena {
  public:
    float* alloc(size_t n_floats);
    void reset();

  private:
    struct FreeDeleter {
        void operator()(float* p) const;
    };
    struct Block {
        std::unique_ptr<float[], FreeDeleter> data;
        size_t size = 0, used = 0;
    };
    std::vector<Block> blocks_;
    size_t peak_ = 0, in_use_ = 0;
};

}  // namespace pangolin
