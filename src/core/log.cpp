#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace pangolin {

namespace {
std::atomic<int> g_level{int(LogLevel::Info)};
std::mutex g_mutex;

std::string human_amount(uint64_t v, const std::string& unit) {
    char buf[64];
    if (unit == "B") {
        const double d = double(v);
        if (d >= 1e9)
            std::snprintf(buf, sizeof buf, "%.2f GB", d / 1e9);
        else if (d >= 1e6)
            std::snprintf(buf, sizeof buf, "%.1f MB", d / 1e6);
        else
            std::snprintf(buf, sizeof buf, "%.0f kB", d / 1e3);
        return buf;
    }
    std::snprintf(buf, sizeof buf, "%llu%s%s", static_cast<unsigned long long>(v),
                  unit.empty() ? "" : " ", unit.c_str());
    return buf;
}
}  // namespace

void set_log_level(LogLevel level) {
    g_level.store(int(level));
}
LogLevel log_level() {
    return LogLevel(g_level.load());
}

void log_line(LogLevel, const std::string& line) {
    std::lock_guard<std::mutex> lock(g_mutex);
    std::fprintf(stderr, "%s\n", line.c_str());
}

Progress::Progress(std::string label, uint64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total) {
    const char* env = std::getenv("PANGOLIN_PROGRESS");
    enabled_ =
        log_level() >= LogLevel::Info && (env ? std::atoi(env) != 0 : ::isatty(STDERR_FILENO) != 0);
    start_ = last_draw_ = std::chrono::steady_clock::now();
}

Progress::~Progress() {
    finish();
}

void Progress::advance(uint64_t amount) {
    set(done_ + amount);
}

void Progress::set(uint64_t done) {
    done_ = done;
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(100) && done_ < total_) return;
    last_draw_ = now;
    draw(false);
}

void Progress::finish() {
    if (finished_) return;
    finished_ = true;
    if (enabled_) draw(true);
}

void Progress::draw(bool final_draw) {
    constexpr int width = 30;
    const double frac = total_ ? std::min(1.0, double(done_) / double(total_)) : 1.0;
    const int filled = int(frac * width);
    std::string bar(size_t(filled), '#');
    bar.append(size_t(width - filled), ' ');
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::lock_guard<std::mutex> lock(g_mutex);
    std::fprintf(stderr, "\r%s [%s] %3d%% %s/%s %.1fs%s", label_.c_str(), bar.c_str(),
                 int(frac * 100), human_amount(done_, unit_).c_str(),
                 human_amount(total_, unit_).c_str(), secs, final_draw ? "\n" : "");
    std::fflush(stderr);
}

}  // namespace pangolin
