#include "core/memory.h"

#include <sys/mman.h>
#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <string>

namespace pangolin {

namespace {

// Resident bytes of every mapping of a file that this process also maps executable.
uint64_t image_rss() {
    std::FILE* f = std::fopen("/proc/self/smaps", "r");
    if (!f) return 0;
    std::map<std::string, uint64_t> rss_by_file;
    std::set<std::string> images;
    std::string current;
    char line[4096];
    while (std::fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perms[8] = {};
        int path_at = 0;
        if (std::sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &lo, &hi, perms, &path_at) == 3 &&
            path_at > 0) {
            current = line + path_at;
            while (!current.empty() && (current.back() == '\n' || current.back() == ' '))
                current.pop_back();
            if (!current.empty() && current[0] == '/' && std::strchr(perms, 'x'))
                images.insert(current);
            continue;
        }
        unsigned long long kb = 0;
        if (std::sscanf(line, "Rss: %llu kB", &kb) == 1 && !current.empty() && current[0] == '/')
            rss_by_file[current] += kb * 1024;
    }
    std::fclose(f);
    uint64_t total = 0;
    for (const auto& [path, bytes] : rss_by_file)
        if (images.count(path)) total += bytes;
    return total;
}

}  // namespace

MemoryUsage memory_usage() {
    MemoryUsage m;
    std::FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) return m;
    char line[256];
    while (std::fgets(line, sizeof line, f)) {
        unsigned long long kb = 0;
        if (std::sscanf(line, "VmRSS: %llu kB", &kb) == 1)
            m.rss = kb * 1024;
        else if (std::sscanf(line, "RssFile: %llu kB", &kb) == 1)
            m.rss_file = kb * 1024;
        else if (std::sscanf(line, "RssAnon: %llu kB", &kb) == 1)
            m.rss_anon = kb * 1024;
    }
    std::fclose(f);
    m.rss_image = image_rss();
    return m;
}

uint64_t resident_bytes_in(const std::vector<std::pair<const void*, size_t>>& ranges) {
    std::FILE* f = std::fopen("/proc/self/smaps", "r");
    if (!f) return 0;
    char line[512];
    uintptr_t vma_begin = 0, vma_end = 0;
    double total = 0;
    while (std::fgets(line, sizeof line, f)) {
        unsigned long long a = 0, b = 0, kb = 0;
        if (std::sscanf(line, "%llx-%llx ", &a, &b) == 2 && std::strchr(line, '-') &&
            line[0] != ' ') {
            vma_begin = uintptr_t(a);
            vma_end = uintptr_t(b);
        } else if (std::sscanf(line, "Rss: %llu kB", &kb) == 1 && vma_end > vma_begin) {
            for (const auto& [p, len] : ranges) {
                const uintptr_t r0 = uintptr_t(p), r1 = r0 + len;
                const uintptr_t lo = std::max(r0, vma_begin), hi = std::min(r1, vma_end);
                if (lo < hi)
                    total += double(kb) * 1024.0 * double(hi - lo) / double(vma_end - vma_begin);
            }
        }
    }
    std::fclose(f);
    return uint64_t(total);
}

void advise_random_access(const std::vector<std::pair<const void*, size_t>>& ranges) {
    const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
    for (const auto& [p, len] : ranges) {
        const uintptr_t b = (uintptr_t(p) + page - 1) / page * page,
                        e = (uintptr_t(p) + len) / page * page;
        if (b < e) madvise(reinterpret_cast<void*>(b), e - b, MADV_RANDOM);
    }
}

}  // namespace pangolin
