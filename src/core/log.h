// Diagnostics and progress go to stderr; stdout is reserved for data.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "core/error.h"

namespace pangolin {

enum class LogLevel { Quiet = 0, Info = 1, Debug = 2 };
void set_log_level(LogLevel level);
LogLevel log_level();
void log_line(LogLevel level, const std::string& line);

template <typename... Parts>
void log_info(Parts&&... parts) {
    if (log_level() >= LogLevel::Info)
        log_line(LogLevel::Info, str_cat(std::forward<Parts>(parts)...));
}
template <typename... Parts>
void log_debug(Parts&&... parts) {
    if (log_level() >= LogLevel::Debug)
        log_line(LogLevel::Debug, str_cat(std::forward<Parts>(parts)...));
}

// A progress bar on stderr ("loading [#####     ] 52% 1.2/2.3 GB"), redrawn at most ~10
// times a second, only when stderr is a terminal or PANGOLIN_PROGRESS=1; silent otherwise
// apart from a final summary line at Info level.
class Progress {
  public:
    Progress(std::string label, uint64_t total, std::string unit = "");
    ~Progress();
    void advance(uint64_t amount);
    void set(uint64_t done);
    void finish();

  private:
    void draw(bool final_draw);
    std::string label_, unit_;
    uint64_t total_, done_ = 0;
    bool enabled_, finished_ = false;
    std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace pangolin
