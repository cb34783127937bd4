// Resident memory of this process, split into file-backed pages (memory-mapped weights,
// program and library images) and anonymous memory (heap: activations, KV cache, any
// copies). Linux /proc only; zeros elsewhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace pangolin {

struct MemoryUsage {
    uint64_t rss = 0;        // bytes resident
    uint64_t rss_file = 0;   // of which file-backed (mmapped model files, the binary)
    uint64_t rss_anon = 0;   // of which anonymous
    uint64_t rss_image = 0;  // of rss_file: the program and shared libraries (any file with
                             // an executable mapping), i.e. code pages, not data
};

MemoryUsage memory_usage();

// Bytes of this process's resident memory inside the given address ranges, from the
// per-mapping Rss of /proc/self/smaps (a mapping that only partly overlaps a range counts
// in proportion). Used to show that an expert-parallel rank keeps only its experts resident.
uint64_t resident_bytes_in(const std::vector<std::pair<const void*, size_t>>& ranges);

// Disables read-around for these (page-rounded inward) ranges of a file mapping, so pages
// this process never reads are not brought in alongside its neighbours.
void advise_random_access(const std::vector<std::pair<const void*, size_t>>& ranges);

}  // namespace pangolin
