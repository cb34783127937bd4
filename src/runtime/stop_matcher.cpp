#include "runtime/stop_matcher.h"

#include <algorithm>

namespace pangolin {

std::string StopMatcher::push(std::string_view text) {
    if (stopped_) return "";
    held_.append(text);
    size_t first = std::string::npos;
    for (const auto& s : stops_)
        if (const size_t at = held_.find(s); at < first) {
            first = at;
            matched_ = s;
        }
    if (first != std::string::npos) {
        stopped_ = true;
        std::string out = held_.substr(0, first);
        held_.clear();
        return out;
    }
    // hold back the longest suffix that is a proper prefix of some stop string
    size_t keep = 0;
    for (const auto& s : stops_)
        for (size_t len = std::min(s.size() - 1, held_.size()); len > keep; --len)
            if (held_.compare(held_.size() - len, len, s, 0, len) == 0) {
                keep = len;
                break;
            }
    std::string out = held_.substr(0, held_.size() - keep);
    held_.erase(0, held_.size() - keep);
    return out;
}

std::string StopMatcher::flush() {
    std::string out;
    out.swap(held_);
    return stopped_ ? "" : out;
}

}  // namespace pangolin
