#include "support/fixtures.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace pangolin::test {

namespace fs = std::filesystem;

fs::path shared_dir() {
    if (const char* env = std::getenv("PANGOLIN_SHARED")) return fs::path(env);
    return fs::path(PANGOLIN_SHARED_DIR);
}

bool shared_available() {
    return fs::exists(shared_dir() / "fixtures" / "README.md");
}

fs::path fixture_models_dir() {
    return shared_dir() / "fixtures" / "models";
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + p.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + p.string());
}

nlohmann::json read_json(const fs::path& p) {
    return nlohmann::json::parse(read_file(p));
}

std::vector<float> read_f32(const fs::path& p) {
    const std::string bytes = read_file(p);
    std::vector<float> v(bytes.size() / 4);
    std::memcpy(v.data(), bytes.data(), v.size() * 4);
    return v;
}

double max_rel_l2(const float* a, const float* b, int64_t n_rows, int64_t n_cols) {
    double worst = 0;
    for (int64_t r = 0; r < n_rows; ++r) {
        double num = 0, den = 0;
        for (int64_t c = 0; c < n_cols; ++c) {
            const double d = double(a[r * n_cols + c]) - double(b[r * n_cols + c]);
            num += d * d;
            den += double(b[r * n_cols + c]) * double(b[r * n_cols + c]);
        }
        worst = std::max(worst, std::sqrt(num) / std::sqrt(den));
    }
    return worst;
}

std::string pangolin_binary() {
    return PANGOLIN_BINARY;
}

CommandResult run_pangolin(std::vector<std::string> args, const std::string& stdin_data) {
    args.insert(args.begin(), pangolin_binary());
    return run_command(args, stdin_data);
}

CommandResult run_command(const std::vector<std::string>& args, const std::string& stdin_data) {
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (pipe(in_pipe) || pipe(out_pipe) || pipe(err_pipe)) throw std::runtime_error("pipe failed");
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(in_pipe[0], 0);
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]})
            close(fd);
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(in_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (!stdin_data.empty()) {
        [[maybe_unused]] auto n = write(in_pipe[1], stdin_data.data(), stdin_data.size());
    }
    close(in_pipe[1]);
    CommandResult r;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    int open_fds = 2;
    char buf[65536];
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
            const ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            } else {
                (i == 0 ? r.out : r.err).append(buf, size_t(n));
            }
        }
    }
    int status = 0;
    waitpid(pid, &status, 0);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

TempDir::TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() /
            ("pangolin-test-" + std::to_string(rd()) + std::to_string(getpid()));
    fs::create_directories(path_);
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

}  // namespace pangolin::test
