// Test support: where the read-only ground truth lives (../shared, read in place) and the
// comparison metric of ../shared/fixtures/README.md.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace pangolin::test {

// The ../shared folder (PANGOLIN_SHARED env var overrides the configured path).
std::filesystem::path shared_dir();
bool shared_available();
// Skips the current test with a clear message when ../shared is absent, except under CI
// (CI env var set), where its absence is a failure.
#define PANGOLIN_REQUIRE_SHARED()                                                              \
    do {                                                                                       \
        if (!::pangolin::test::shared_available()) {                                           \
            if (std::getenv("CI"))                                                             \
                FAIL() << "../shared is missing under CI: " << ::pangolin::test::shared_dir(); \
            GTEST_SKIP() << "../shared is not present at " << ::pangolin::test::shared_dir()   \
                         << "; fixture tests skipped";                                         \
        }                                                                                      \
    } while (0)

std::filesystem::path fixture_models_dir();  // shared/fixtures/models
nlohmann::json read_json(const std::filesystem::path& p);
std::vector<float> read_f32(const std::filesystem::path& p);
std::string read_file(const std::filesystem::path& p);
// Writes bytes exactly (binary mode); throws where the file cannot be written.
void write_file(const std::filesystem::path& p, const std::string& bytes);

// max over rows of ‖a_row − b_row‖₂ / ‖b_row‖₂ (rows of n_cols values).
double max_rel_l2(const float* a, const float* b, int64_t n_rows, int64_t n_cols);

// Path of the built `pangolin` binary and a runner that captures stdout/stderr/exit status.
std::string pangolin_binary();
struct CommandResult {
    int status = -1;
    std::string out, err;
};
CommandResult run_command(const std::vector<std::string>& args, const std::string& stdin_data = "");
// run_command with the pangolin binary in front of args.
CommandResult run_pangolin(std::vector<std::string> args, const std::string& stdin_data = "");

// A fresh temporary directory removed at destruction.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  private:
    std::filesystem::path path_;
};

}  // namespace pangolin::test
