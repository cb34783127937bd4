// Resident memory of this process, split into file-backed pages (memory-mapped weights,
// program and library images) and anonymous memory (heap: activations, KV cache, any
// copies). Linux /proc only; zeros elsewhere.
#pragma once

#include <cstdint>

namespace pangolin {

struct MemoryUsage {
    uint64_t rss = 0;       // bytes resident
    uint64_t rss_file = 0;  // of which file-backed (mmapped model files, the binary)
    uint64_t rss_anon = 0;  // of which anonymous
    uint64_t rss_image = 0;  // of rss_file: the program and shared libraries (any file with
                             // an executable mapping), i.e. code pages, not data
};

MemoryUsage memory_usage();

}  // namespace pangolin
