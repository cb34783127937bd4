#include "core/memory.h"

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
        if (std::sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &lo, &hi, perms, &path_at) == 3 && path_at > 0) {
            current = line + path_at;
            while (!current.empty() && (current.back() == '\n' || current.back() == ' ')) current.pop_back();
            if (!current.empty() && current[0] == '/' && std::strchr(perms, 'x')) images.insert(current);
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
        if (std::sscanf(line, "VmRSS: %llu kB", &kb) == 1) m.rss = kb * 1024;
        else if (std::sscanf(line, "RssFile: %llu kB", &kb) == 1) m.rss_file = kb * 1024;
        else if (std::sscanf(line, "RssAnon: %llu kB", &kb) == 1) m.rss_anon = kb * 1024;
    }
    std::fclose(f);
    m.rss_image = image_rss();
    return m;
}

}  // namespace pangolin
