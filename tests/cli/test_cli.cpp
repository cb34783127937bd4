// The pangolin binary as users and scripts call it: output contracts and clear errors.
#include <gtest/gtest.h>

#include <fstream>

#include "support/fixtures.h"

using namespace pangolin::test;
namespace fs = std::filesystem;

namespace {
std::string llama_gguf() {
    return (fixture_models_dir() / "llama" / "model-f32.gguf").string();
}
}  // namespace

TEST(Cli, LogitsWritesEveryPosition) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir dir;
    const auto expected = read_json(fixture_models_dir() / "llama" / "expected.json")["cases"][0];
    std::string toks;
    for (auto t : expected["prompt"])
        toks += (toks.empty() ? "" : ",") + std::to_string(t.get<int>());
    const auto out = (dir / "l.f32").string();
    const auto r =
        run_pangolin({"logits", "-m", llama_gguf(), "--tokens", toks, "-o", out, "-t", "2"});
    ASSERT_EQ(r.status, 0) << r.err;
    const auto ours = read_f32(out);
    const auto ref =
        read_f32(fixture_models_dir() / "llama" / expected["logits"].get<std::string>());
    ASSERT_EQ(ours.size(), ref.size());
    EXPECT_LE(max_rel_l2(ours.data(), ref.data(), int64_t(expected["prompt"].size()), 1024), 1e-4);
}

TEST(Cli, RunPrintsGreedyIds) {
    PANGOLIN_REQUIRE_SHARED();
    const auto expected = read_json(fixture_models_dir() / "llama" / "expected.json")["cases"][0];
    std::string toks;
    for (auto t : expected["prompt"])
        toks += (toks.empty() ? "" : ",") + std::to_string(t.get<int>());
    const auto r = run_pangolin(
        {"run", "-m", llama_gguf(), "--tokens", toks, "-n", "24", "--temp", "0", "--ids"});
    ASSERT_EQ(r.status, 0) << r.err;
    std::string want;
    for (auto t : expected["greedy"])
        want += (want.empty() ? "" : " ") + std::to_string(t.get<int>());
    EXPECT_EQ(r.out, want + "\n");
}

TEST(Cli, InspectDescribesModel) {
    PANGOLIN_REQUIRE_SHARED();
    const auto r =
        run_pangolin({"inspect", (fixture_models_dir() / "qwen2" / "model-q4_k_m.gguf").string()});
    ASSERT_EQ(r.status, 0) << r.err;
    for (const char* s : {"architecture:   qwen2", "layers:         2", "Q4_K", "Q6_K", "F32",
                          "parameters:", "kv cache:"})
        EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
}

TEST(CliBadInput, TokenOutsideVocabulary) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir dir;
    const auto r = run_pangolin(
        {"logits", "-m", llama_gguf(), "--tokens", "5,1024", "-o", (dir / "x").string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("token id 1024 is outside the vocabulary"), std::string::npos) << r.err;
    const auto r2 = run_pangolin({"run", "-m", llama_gguf(), "--tokens", "5,-3", "-n", "2"});
    EXPECT_EQ(r2.status, 1);
    EXPECT_NE(r2.err.find("'-3' is not a token id"), std::string::npos) << r2.err;
}

TEST(CliBadInput, CorruptModelFiles) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir dir;
    const auto bytes = read_file(llama_gguf());
    std::ofstream(dir / "trunc.gguf", std::ios::binary)
        .write(bytes.data(), std::streamsize(bytes.size() / 2));
    auto r = run_pangolin({"run", "-m", (dir / "trunc.gguf").string(), "--tokens", "1", "-n", "1"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("past the end of the file"), std::string::npos) << r.err;
    std::ofstream(dir / "junk.gguf") << "hello world";
    r = run_pangolin({"inspect", (dir / "junk.gguf").string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("not a GGUF file"), std::string::npos) << r.err;
    r = run_pangolin({"inspect", (dir / "missing.gguf").string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("no such file"), std::string::npos) << r.err;
    fs::create_directories(dir / "empty");
    r = run_pangolin({"inspect", (dir / "empty").string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("no config.json"), std::string::npos) << r.err;
}

TEST(CliBadInput, UnknownGgufArchitecture) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir dir;
    auto bytes = read_file(llama_gguf());
    // "llama" → "llaxa" in general.architecture (same length keeps the file valid)
    const std::string key = "general.architecture";
    const size_t at = bytes.find(key);
    ASSERT_NE(at, std::string::npos);
    const size_t value = at + key.size() + 4 + 8;
    ASSERT_EQ(bytes.substr(value, 5), "llama");
    bytes[value + 3] = 'x';
    std::ofstream(dir / "x.gguf", std::ios::binary)
        .write(bytes.data(), std::streamsize(bytes.size()));
    const auto r = run_pangolin({"inspect", (dir / "x.gguf").string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("unknown architecture 'llaxa'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("qwen3"), std::string::npos) << r.err;
}

TEST(CliBadInput, PromptLongerThanContext) {
    PANGOLIN_REQUIRE_SHARED();
    const auto r =
        run_pangolin({"run", "-m", llama_gguf(), "--tokens", "1,2,3,4,5,6", "-n", "4", "-c", "8"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("exceed the context size 8"), std::string::npos) << r.err;
}
