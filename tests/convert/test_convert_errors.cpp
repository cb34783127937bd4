// Bad input to `pangolin convert` / `pangolin quantize` as a user meets it: the real binary,
// a clear message, a non-zero exit where it is an error, and never a partial output file.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>

#include "formats/gguf.h"
#include "support/fixtures.h"

using namespace pangolin;
using namespace pangolin::test;
namespace fs = std::filesystem;

namespace {

// Runs pangolin with an optional file size limit (SIGXFSZ ignored, so writes past it fail
// with EFBIG as on a full disk) and extra environment; stdout is discarded.
CommandResult run_limited(const std::vector<std::string>& args,
                          rlim_t max_file_bytes = RLIM_INFINITY,
                          const std::vector<std::string>& env = {}) {
    int err_pipe[2];
    if (pipe(err_pipe)) throw std::runtime_error("pipe failed");
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(err_pipe[1], 2);
        close(err_pipe[0]);
        close(err_pipe[1]);
        if (max_file_bytes != RLIM_INFINITY) {
            std::signal(SIGXFSZ, SIG_IGN);
            const rlimit lim{max_file_bytes, max_file_bytes};
            setrlimit(RLIMIT_FSIZE, &lim);
        }
        for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
        std::vector<char*> argv;
        std::string bin = pangolin_binary();
        argv.push_back(bin.data());
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(err_pipe[1]);
    CommandResult r;
    char buf[4096];
    for (ssize_t n; (n = read(err_pipe[0], buf, sizeof buf)) > 0;) r.err.append(buf, size_t(n));
    close(err_pipe[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

std::string hf(const std::string& fixture) {
    return (fixture_models_dir() / fixture / "hf").string();
}
std::string f32(const std::string& fixture) {
    return (fixture_models_dir() / fixture / "model-f32.gguf").string();
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

// The folder holds nothing but what the test put there.
std::vector<std::string> listing(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    return names;
}

}  // namespace

TEST(ConvertBadInput, OutputFolderMissing) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir tmp;
    const auto r =
        run_limited({"convert", hf("qwen2"), (tmp / "no-such-folder" / "out.gguf").string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(contains(r.err, "out.gguf: cannot create output file: No such file or directory"))
        << r.err;
    // a path whose folder is a regular file
    std::ofstream(tmp / "file") << "x";
    const auto r2 =
        run_limited({"quantize", f32("qwen2"), (tmp / "file" / "out.gguf").string(), "Q8_0"});
    EXPECT_EQ(r2.status, 1);
    EXPECT_TRUE(contains(r2.err, "cannot create output file: Not a directory")) << r2.err;
    EXPECT_EQ(listing(tmp.path()), std::vector<std::string>{"file"});
}

// A full disk (simulated by RLIMIT_FSIZE): the write error names the file, and the partial
// output is removed.
TEST(ConvertBadInput, DiskFullLeavesNoPartialFile) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir tmp;
    const auto out = (tmp / "out.gguf").string();
    const auto r = run_limited({"convert", hf("qwen2"), out, "-t", "2"}, 1 << 20);
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(contains(r.err, out + ": write failed after")) << r.err;
    EXPECT_TRUE(contains(r.err, "File too large")) << r.err;
    const auto q = run_limited({"quantize", f32("qwen3moe"), out, "Q8_0"}, 200 << 10);
    EXPECT_EQ(q.status, 1);
    EXPECT_TRUE(contains(q.err, "File too large")) << q.err;
    EXPECT_TRUE(listing(tmp.path()).empty());
}

// K-quants need rows that are multiples of 256: qwen3moe's 128- and 64-value rows fall back as
// llama-quantize does (Q4_K → Q5_0, Q6_K → Q8_0), each reported; the file is written and runs.
TEST(ConvertBadInput, KQuantFallbackIsReported) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir tmp;
    const auto out = (tmp / "q4km.gguf").string();
    const auto r = run_limited({"quantize", f32("qwen3moe"), out, "Q4_K_M"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(contains(r.err,
                         "blk.0.attn_q.weight: rows of 128 values are not a multiple of the Q4_K "
                         "block (256); using Q5_0"))
        << r.err;
    EXPECT_TRUE(contains(r.err,
                         "blk.1.ffn_down_exps.weight: rows of 64 values are not a multiple of the "
                         "Q6_K block (256); using Q8_0"))
        << r.err;
    const GgufFile g(out);
    EXPECT_EQ(g.find_tensor("blk.0.ffn_gate_exps.weight")->type, DType::Q5_0);
    EXPECT_EQ(g.find_tensor("output.weight")->type, DType::Q8_0);
    const auto run = run_limited({"run", "-m", out, "--tokens", "1,2,3", "-n", "2", "--temp", "0"});
    EXPECT_EQ(run.status, 0) << run.err;
}

TEST(ConvertBadInput, UnknownTypeAndSameFile) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir tmp;
    const auto r = run_limited({"quantize", f32("qwen2"), (tmp / "x.gguf").string(), "Q3_K"});
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(
        contains(r.err, "unknown type 'Q3_K' (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K_M"))
        << r.err;
    const auto c =
        run_limited({"convert", hf("qwen2"), (tmp / "x.gguf").string(), "--type", "IQ2_XS"});
    EXPECT_EQ(c.status, 1);
    EXPECT_TRUE(contains(c.err, "unknown type 'IQ2_XS'")) << c.err;
    fs::copy_file(f32("qwen2"), tmp / "in.gguf");
    const auto same =
        run_limited({"quantize", (tmp / "in.gguf").string(), (tmp / "in.gguf").string(), "Q8_0"});
    EXPECT_EQ(same.status, 1);
    EXPECT_TRUE(contains(same.err, "the output would overwrite the input")) << same.err;
    EXPECT_EQ(listing(tmp.path()), std::vector<std::string>{"in.gguf"});
}

TEST(ConvertBadInput, InputsThatDoNotFit) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir tmp;
    // a checkpoint tensor the layout has no place for
    const fs::path dir = tmp / "extra";
    fs::create_directories(dir);
    fs::copy_file(fixture_models_dir() / "qwen2" / "hf" / "config.json", dir / "config.json");
    const std::string bytes =
        read_file(fixture_models_dir() / "qwen2" / "hf" / "model.safetensors");
    uint64_t n;
    std::memcpy(&n, bytes.data(), 8);
    auto header = nlohmann::json::parse(bytes.substr(8, n));
    const size_t data_size = bytes.size() - 8 - n;
    header["model.layers.0.mlp.mystery.weight"] = {
        {"dtype", "F32"}, {"shape", {4}}, {"data_offsets", {data_size, data_size + 16}}};
    const std::string h = header.dump();
    const uint64_t hn = h.size();
    std::ofstream f(dir / "model.safetensors", std::ios::binary);
    f.write(reinterpret_cast<const char*>(&hn), 8);
    f << h << bytes.substr(8 + n) << std::string(16, '\0');
    f.close();
    const auto out = (tmp / "out.gguf").string();
    const auto r = run_limited({"convert", dir.string(), out});
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(contains(
        r.err,
        "1 tensor(s) have no place in the qwen2 GGUF layout: model.layers.0.mlp.mystery.weight"))
        << r.err;
    EXPECT_FALSE(fs::exists(out));

    // a vocabulary of another size
    const auto v =
        run_limited({"convert", hf("qwen2"), out, "--vocab-from",
                     (shared_dir() / "models" / "kjv-demo" / "kjv-demo-q8_0.gguf").string()});
    EXPECT_EQ(v.status, 1);
    EXPECT_TRUE(contains(v.err, "its vocabulary has 2048 tokens, but the model has 1024")) << v.err;

    // a truncated GGUF
    const std::string g = read_file(f32("qwen2"));
    std::ofstream(tmp / "cut.gguf", std::ios::binary) << g.substr(0, g.size() / 2);
    const auto t = run_limited({"quantize", (tmp / "cut.gguf").string(), out, "Q8_0"});
    EXPECT_EQ(t.status, 1);
    EXPECT_TRUE(contains(t.err, "extends past the end of the file")) << t.err;

    // a GGUF given to convert
    const auto c = run_limited({"convert", f32("qwen2"), out});
    EXPECT_EQ(c.status, 1);
    EXPECT_TRUE(contains(c.err, "`pangolin convert` reads Hugging Face folders")) << c.err;
    EXPECT_FALSE(fs::exists(out));
    EXPECT_FALSE(fs::exists(out + ".partial"));
}

TEST(Convert, ProgressBarOnRequest) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir tmp;
    const auto r = run_limited({"quantize", f32("qwen2"), (tmp / "x.gguf").string(), "Q8_0"},
                               RLIM_INFINITY, {"PANGOLIN_PROGRESS=1"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(contains(r.err, "writing [##############################] 100%")) << r.err;
}
