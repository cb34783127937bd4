#include "core/memory.h"

#include <cstdio>
#include <cstring>

namespace pangolin {

MemoryUsage memory_usage() {
    MemoryUsage m;
    std::FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) return m;
    char line[256];
    while (std::fgets(line, sizeof line, f)) {
        unsigned long long kb = 0;
        if (std::sscanf(line, "VmRSS: %llu kB", &kb) == 1) m.rss = kb * 1024;
        else if (std::sscanf(line, "RssFile: %llu kB", &kb) == 1) m.rss_file = kb * 1024;
        else if (std::sscanf(line, "RssAnon: %llu kB", &kb) == 1) m.rss_anon = kb * 1024;
    }
    std::fclose(f);
    return m;
}

}  // namespace pangolin
